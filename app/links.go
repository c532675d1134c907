package app

import (
	"fmt"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/capability"
	"github.com/stockadehq/stockade/core/export"
	"github.com/stockadehq/stockade/core/storage"
	"github.com/stockadehq/stockade/ports"
)

// LinksConfig tunes public capability links (CAP-1).
type LinksConfig struct {
	// DefaultTTL is a link's lifetime when its minter names none.
	// STOCKADE_LINKS_DEFAULT_TTL, default 0 meaning 7 days (or MaxTTL if
	// that is shorter).
	DefaultTTL time.Duration `koanf:"default_ttl"`
	// MaxTTL bounds every link's lifetime.
	// STOCKADE_LINKS_MAX_TTL, default 0 meaning 90 days.
	MaxTTL time.Duration `koanf:"max_ttl"`
	// ExportTTL is how long a delivered export archive, and every signed
	// link to it, lives (LIFE-1); housekeeping deletes the archive after.
	// STOCKADE_LINKS_EXPORT_TTL, default 0 meaning 24 hours, at most 7
	// days.
	ExportTTL time.Duration `koanf:"export_ttl"`
}

func (l LinksConfig) validate() []error {
	var errs []error
	if l.DefaultTTL < 0 {
		errs = append(errs, problem("STOCKADE_LINKS_DEFAULT_TTL", "must not be negative, got %s", l.DefaultTTL))
	}
	if l.MaxTTL < 0 {
		errs = append(errs, problem("STOCKADE_LINKS_MAX_TTL", "must not be negative, got %s", l.MaxTTL))
	}
	if l.ExportTTL != 0 && (l.ExportTTL < time.Minute || l.ExportTTL > export.MaxLinkTTL) {
		errs = append(errs, problem("STOCKADE_LINKS_EXPORT_TTL", "must be 1m to %s, got %s", export.MaxLinkTTL, l.ExportTTL))
	}
	maxTTL := l.MaxTTL
	if maxTTL == 0 {
		maxTTL = capability.MaxTTL
	}
	if l.DefaultTTL > maxTTL {
		errs = append(errs, problem("STOCKADE_LINKS_DEFAULT_TTL", "must not exceed the maximum lifetime %s, got %s", maxTTL, l.DefaultTTL))
	}
	return errs
}

// LinksParts are the pieces NewLinks builds on.
type LinksParts struct {
	Store ports.Store // required
	// Kinds are the embedding app's record types, besides Stockade's own
	// file links (storage.LinkKind).
	Kinds []capability.Kind
	Clock ports.Clock
	// Access is the permission matrix; nil is the default.
	Access *access.Policy
}

// NewLinks builds the capability-link service for cfg without fx: file
// links plus p.Kinds.
func NewLinks(cfg Config, p LinksParts) (*capability.Service, error) {
	kinds := append([]capability.Kind{storage.LinkKind()}, p.Kinds...)
	svc, err := capability.New(capability.Deps{Store: p.Store, Kinds: kinds, Policy: p.Access, Clock: p.Clock},
		capability.Config{DefaultTTL: cfg.Links.DefaultTTL, MaxTTL: cfg.Links.MaxTTL})
	if err != nil {
		return nil, fmt.Errorf("links: %w", err)
	}
	return svc, nil
}
