package app

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"go.uber.org/fx"

	"github.com/stockadehq/stockade/core/authmail"
	"github.com/stockadehq/stockade/core/housekeeping"
	"github.com/stockadehq/stockade/ports"
)

// HousekeepingConfig schedules the server's housekeeping passes (see
// core/housekeeping): expired sessions, magic links, invitations, links,
// operator sessions, rate-limit counters and unfinished uploads are
// deleted, and each shop's
// audit chain head is signed as a checkpoint.
type HousekeepingConfig struct {
	// Interval is the time between passes; the first runs when the
	// server starts. STOCKADE_HOUSEKEEPING_INTERVAL, default 0 meaning
	// 1 hour.
	Interval time.Duration `koanf:"interval"`
	// Grace keeps expired invitations and links listed this long.
	// STOCKADE_HOUSEKEEPING_GRACE, default 0 meaning 7 days.
	Grace time.Duration `koanf:"grace"`
	// MessageRetention keeps finished outbox messages (their bodies are
	// personal data) and inbound webhook event IDs this long.
	// STOCKADE_HOUSEKEEPING_MESSAGE_RETENTION, default 0 meaning 30 days.
	MessageRetention time.Duration `koanf:"message_retention"`
	// UploadGrace is how long an upload may stay unfinished: pending
	// files older than this are deleted with their objects, and so are
	// staging objects of signed uploads and temporary files of crashed
	// writes. STOCKADE_HOUSEKEEPING_UPLOAD_GRACE, default 0 meaning 24
	// hours, at least 1 hour.
	UploadGrace time.Duration `koanf:"upload_grace"`
	// Off stops the server from running passes (run `stockade
	// housekeeping` from a scheduler instead). STOCKADE_HOUSEKEEPING_OFF.
	Off bool `koanf:"off"`
	// NoCheckpoints leaves audit checkpoints to `stockade audit
	// checkpoint`. Servers that share a database must sign with the same
	// key (DataDir/audit.key), or all but one must set this.
	// STOCKADE_HOUSEKEEPING_NO_CHECKPOINTS.
	NoCheckpoints bool `koanf:"no_checkpoints"`
	// NoRetention stops the server from deleting shops cancelled longer
	// than STOCKADE_STRIPE_RETENTION_DAYS ago after each pass (LIFE-2;
	// `stockade housekeeping` still does). STOCKADE_HOUSEKEEPING_NO_RETENTION.
	NoRetention bool `koanf:"no_retention"`
	// RetentionWarnings are the points, in days before a cancelled
	// shop's retention deletion, at which its Owners are e-mailed
	// (LIFE-2): a comma-separated list, or "none". Sent after each pass
	// unless NoRetention. STOCKADE_HOUSEKEEPING_RETENTION_WARNINGS,
	// default "" meaning "30,7,1".
	RetentionWarnings string `koanf:"retention_warnings"`
	// CheckpointEvery is the least time between two checkpoints of one
	// shop. STOCKADE_HOUSEKEEPING_CHECKPOINT_EVERY, default 0 meaning 24
	// hours.
	CheckpointEvery time.Duration `koanf:"checkpoint_every"`
}

// WarningDays parses RetentionWarnings: the default points (30, 7 and 1
// days) when empty, none for "none", furthest first. ErrInvalid for
// anything else than days 1 to housekeeping.MaxWarningDays, no repeats.
func (h HousekeepingConfig) WarningDays() ([]int, error) {
	v := strings.TrimSpace(h.RetentionWarnings)
	switch v {
	case "":
		return housekeeping.DefaultWarningDays(), nil
	case "none":
		return []int{}, nil
	}
	var days []int
	for _, f := range strings.Split(v, ",") {
		d, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, ports.Invalid("retention warnings", fmt.Sprintf("%q is not a number of days", f))
		}
		days = append(days, d)
	}
	return housekeeping.NormalizeWarningDays(days)
}

// DefaultHousekeepingInterval is the time between passes when
// HousekeepingConfig.Interval is zero.
const DefaultHousekeepingInterval = time.Hour

func (h HousekeepingConfig) validate() []error {
	var errs []error
	if h.Interval < 0 {
		errs = append(errs, problem("STOCKADE_HOUSEKEEPING_INTERVAL", "must not be negative, got %s", h.Interval))
	}
	if h.CheckpointEvery < 0 {
		errs = append(errs, problem("STOCKADE_HOUSEKEEPING_CHECKPOINT_EVERY", "must not be negative, got %s", h.CheckpointEvery))
	}
	if h.MessageRetention < 0 {
		errs = append(errs, problem("STOCKADE_HOUSEKEEPING_MESSAGE_RETENTION", "must not be negative, got %s", h.MessageRetention))
	}
	if h.UploadGrace != 0 && h.UploadGrace < housekeeping.MinUploadGrace {
		errs = append(errs, problem("STOCKADE_HOUSEKEEPING_UPLOAD_GRACE", "must be at least %s (longer than an upload URL lives), got %s", housekeeping.MinUploadGrace, h.UploadGrace))
	}
	if _, err := h.WarningDays(); err != nil {
		errs = append(errs, problem("STOCKADE_HOUSEKEEPING_RETENTION_WARNINGS", "want a comma-separated list of days (1 to %d, no repeats) or \"none\", got %q", housekeeping.MaxWarningDays, h.RetentionWarnings))
	}
	if h.Grace < 0 {
		errs = append(errs, problem("STOCKADE_HOUSEKEEPING_GRACE", "must not be negative, got %s", h.Grace))
	}
	return errs
}

// SweeperParts are the pieces NewSweeper builds on.
type SweeperParts struct {
	Store ports.Store // required; must list its shops (ports.AuditShopLister)
	// Objects is the file storage's object store; nil leaves unfinished
	// uploads alone.
	Objects ports.ObjectStore
	Clock   ports.Clock
	Logger  *slog.Logger
}

// NewSweeper builds the housekeeping sweeper for cfg without fx, with the
// auth service's timeouts and, unless NoCheckpoints, the audit checkpoint
// keys of DataDir (created the first time, as `stockade audit
// checkpoint` does). ErrUnsupported when the store cannot list its shops.
func NewSweeper(cfg Config, p SweeperParts) (*housekeeping.Sweeper, error) {
	lister, ok := p.Store.(ports.AuditShopLister)
	if !ok {
		return nil, fmt.Errorf("housekeeping: the store %T cannot list its shops: %w", p.Store, ports.ErrUnsupported)
	}
	a := authConfig(cfg).WithDefaults()
	hc := housekeeping.Config{
		SessionIdleTimeout: a.SessionIdleTimeout, OperatorIdleTimeout: a.OperatorIdleTimeout,
		RateLimitWindow: a.Limits.Window, Grace: cfg.Housekeeping.Grace, MessageRetention: cfg.Housekeeping.MessageRetention,
		UploadGrace: cfg.Housekeeping.UploadGrace, ExportTTL: cfg.Links.ExportTTL,
	}
	if !cfg.Housekeeping.NoCheckpoints {
		keys, err := LoadAuditKeys(cfg)
		if err != nil {
			return nil, fmt.Errorf("housekeeping: %w", err)
		}
		hc.Signer, hc.Verifiers, hc.CheckpointEvery = keys.Signer, keys.Verifiers, cfg.Housekeeping.CheckpointEvery
	}
	mail, _ := p.Store.(ports.AuthMailOutbox)
	return housekeeping.New(housekeeping.Deps{Store: p.Store, Shops: lister, Objects: p.Objects, AuthMail: mail, Clock: p.Clock, Logger: p.Logger}, hc)
}

// HousekeepingModule runs housekeeping passes in the background between
// OnStart and OnStop (see HousekeepingConfig): the first when the app
// starts, then every Interval. OnStop cancels a pass in progress and
// waits for it, before the store closes. With Off set, or a store that
// cannot list its shops, it runs nothing and says so in the log.
func HousekeepingModule() fx.Option {
	type params struct {
		fx.In
		Config    Config
		Store     ports.Store
		Files     *Storage         `optional:"true"`
		Mail      *authmail.Outbox `optional:"true"`
		Logger    *slog.Logger
		Lifecycle fx.Lifecycle
	}
	return fx.Module("stockade.housekeeping", fx.Invoke(func(p params) error {
		log := p.Logger.With("component", "housekeeping")
		if p.Config.Housekeeping.Off {
			return nil
		}
		parts := SweeperParts{Store: p.Store, Logger: log}
		if p.Files != nil {
			parts.Objects = p.Files.Objects
		}
		sw, err := NewSweeper(p.Config, parts)
		if err != nil {
			log.Warn("housekeeping is off", "error", err)
			return nil
		}
		interval := p.Config.Housekeeping.Interval
		if interval == 0 {
			interval = DefaultHousekeepingInterval
		}
		var retention func(ctx context.Context)
		if !p.Config.Housekeeping.NoRetention {
			dp := DeleterParts{Store: p.Store, Objects: parts.Objects, Logger: log}
			if p.Files != nil {
				dp.Keys = p.Files.Keys
			}
			if dl, err := NewDeleter(p.Config, dp); err != nil {
				log.Warn("retention is off", "error", err)
			} else {
				retention = func(ctx context.Context) { _, _ = dl.RunRetention(ctx) } // logged by the deleter
			}
			if p.Mail == nil {
				log.Warn("retention warnings are off: no auth mail outbox")
			} else if wr, err := NewWarner(p.Config, WarnerParts{Store: p.Store, Outbox: p.Mail, Logger: log}); err != nil {
				log.Warn("retention warnings are off", "error", err)
			} else {
				del := retention
				retention = func(ctx context.Context) {
					if del != nil {
						del(ctx)
					}
					_, _ = wr.RunWarnings(ctx) // logged by the warner
				}
			}
		}
		loop := &jobLoop{log: log, run: func(ctx context.Context) error {
			ticker := time.NewTicker(interval)
			defer ticker.Stop()
			_, _ = sw.Sweep(ctx) // logged by the sweeper
			after := func(housekeeping.Report, error) {
				if retention != nil {
					retention(ctx)
				}
			}
			after(housekeeping.Report{}, nil)
			sw.Run(ctx, ticker.C, after)
			return nil
		}}
		p.Lifecycle.Append(fx.StartStopHook(loop.start, loop.stop))
		return nil
	}))
}

var _ ports.AuditShopLister = (*startedStore)(nil)

// AuditShops implements ports.AuditShopLister with the open store's, so
// the store that StoreModule provides serves housekeeping too.
func (s *startedStore) AuditShops(ctx context.Context, after ports.ShopID, limit int) ([]ports.ShopID, error) {
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	l, ok := st.(ports.AuditShopLister)
	if !ok {
		return nil, fmt.Errorf("store %T cannot list its shops: %w", st, ports.ErrUnsupported)
	}
	return l.AuditShops(ctx, after, limit)
}
