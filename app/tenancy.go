package app

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/core/authmail"
	"github.com/stockadehq/stockade/core/publish"
	"github.com/stockadehq/stockade/core/tenancy"
	"github.com/stockadehq/stockade/ports"
)

// TenancyParts are the pieces NewTenancy builds on.
type TenancyParts struct {
	Store ports.Store   // required
	Auth  *auth.Service // required
	// Mail is the auth mail outbox invitations are enqueued to; nil
	// builds one from cfg (see NewAuthMailOutbox).
	Mail   *authmail.Outbox
	Logger *slog.Logger
	Clock  ports.Clock
	// Access is the permission matrix; nil is the default.
	Access *access.Policy
	// Events publishes the service's events to hooks and webhooks; nil
	// is a publisher of its own without hooks (see NewEvents).
	Events *publish.Publisher
}

// NewTenancy builds the tenancy service for cfg without fx.
func NewTenancy(cfg Config, p TenancyParts) (*tenancy.Service, error) {
	if p.Mail == nil {
		var err error
		if p.Mail, err = NewAuthMailOutbox(cfg); err != nil {
			return nil, err
		}
	}
	svc, err := tenancy.New(tenancy.Deps{
		Store: p.Store, Auth: p.Auth, Mail: p.Mail, Policy: p.Access, Clock: p.Clock, Logger: p.Logger, Events: p.Events,
	}, tenancy.Config{InvitationTTL: cfg.Tenancy.InvitationTTL, ReservedSlugs: cfg.Tenancy.reservedSlugs()})
	if err != nil {
		return nil, fmt.Errorf("tenancy: %w", err)
	}
	return svc, nil
}

// reservedSlugs parses ReservedSlugs: nil (the default list) when unset.
func (t TenancyConfig) reservedSlugs() []string {
	if strings.TrimSpace(t.ReservedSlugs) == "" {
		return nil
	}
	var out []string
	for _, s := range strings.Split(t.ReservedSlugs, ",") {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
			out = append(out, s)
		}
	}
	return out
}
