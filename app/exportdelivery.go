package app

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"

	"go.uber.org/fx"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/export"
	"github.com/stockadehq/stockade/core/jobs"
	"github.com/stockadehq/stockade/ports"
)

// exportLinkInfo separates the export link keys from every other use of
// the session secrets.
const exportLinkInfo = "stockade export link keys v1"

// ExportParts are the pieces NewExportDelivery builds on.
type ExportParts struct {
	Store ports.Store // required
	// Files is the file storage: its service reads the shop's files into
	// the archive and its object store keeps the archives. Required.
	Files  *Storage
	Policy *access.Policy
	Clock  ports.Clock
}

// NewExportDelivery builds the delivered export for cfg without fx
// (LIFE-1): the exporter signs with the audit checkpoint key of DataDir,
// archives go to the file storage's object store and live
// STOCKADE_LINKS_EXPORT_TTL (24 hours by default), and links are signed
// with keys derived (HKDF-SHA256) from the session keys, so every process
// with the same session keys (the servers, the CLI) signs and checks the
// same links, and rotating the session keys rotates them.
func NewExportDelivery(cfg Config, p ExportParts) (*export.Delivery, error) {
	if p.Files == nil {
		return nil, ports.Invalid("export delivery", "needs the file storage")
	}
	keys, err := LoadAuditKeys(cfg)
	if err != nil {
		return nil, fmt.Errorf("export delivery: %w", err)
	}
	x, err := export.New(export.Deps{Store: p.Store, Files: p.Files.Service, Signer: keys.Signer, Verifiers: keys.Verifiers, Policy: p.Policy, Clock: p.Clock})
	if err != nil {
		return nil, fmt.Errorf("export delivery: %w", err)
	}
	sk, err := sessionKeys(cfg)
	if err != nil {
		return nil, fmt.Errorf("export delivery: %w", err)
	}
	linkKeys := make([][]byte, len(sk))
	for i, k := range sk {
		if linkKeys[i], err = hkdf.Key(sha256.New, k.Secret, nil, exportLinkInfo, 32); err != nil {
			return nil, fmt.Errorf("export delivery: derive link key: %w", err)
		}
	}
	return export.NewDelivery(export.DeliveryDeps{Exporter: x, Store: p.Store, Objects: p.Files.Objects, LinkKeys: linkKeys,
		Clock: p.Clock, Policy: p.Policy}, export.DeliveryConfig{TTL: cfg.Links.ExportTTL})
}

// ExportModule provides the *export.Delivery (see NewExportDelivery) and
// registers its job (export.JobKind) with the graph's *jobs.Runner, so an
// export an Owner requests (POST /exports) is written in the background;
// HTTPModule serves its routes.
func ExportModule() fx.Option {
	type params struct {
		fx.In
		Config Config
		Store  ports.Store
		Files  *Storage
		Access *access.Policy
		Runner *jobs.Runner `optional:"true"`
	}
	return fx.Module("stockade.export", fx.Provide(func(p params) (*export.Delivery, error) {
		d, err := NewExportDelivery(p.Config, ExportParts{Store: p.Store, Files: p.Files, Policy: p.Access})
		if err != nil {
			return nil, err
		}
		if p.Runner != nil {
			p.Runner.HandleOutside(export.JobKind, d.RunJob)
		}
		return d, nil
	}), fx.Invoke(func(*export.Delivery) {}))
}
