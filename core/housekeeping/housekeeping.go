// Package housekeeping removes what has outlived its use — expired
// sessions, magic links, invitations, capability links, operator
// sessions, rate-limit counters, sign-up and reset tokens, done jobs,
// finished outbox messages, old inbound event IDs, and uploads that never
// finished (pending file rows, staging objects, temporary files of a
// crashed write) — and signs each shop's audit chain head as a
// checkpoint (AUD-4), on a schedule the server runs or on demand from the
// CLI.
//
// Deleter (retention.go) deletes whole shops: those cancelled longer than
// the retention period ago (LIFE-2) and those an operator erases (LIFE-3).
//
// Every deletion of a Sweeper is of rows that can no longer authenticate
// or authorise anything: a sweep never changes what a request is allowed to do, it only
// keeps the tables (and the credentials' hashes in them) from growing
// without bound. Invitations, capability links and done jobs are kept for
// a grace period after they end, so that admins still see recent ones
// listed.
package housekeeping

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/core/export"
	"github.com/stockadehq/stockade/ports"
)

// Actor is the audit actor of a sweep.
const Actor = "system:housekeeping"

// Config tunes a Sweeper. Zero durations take the defaults noted.
type Config struct {
	// SessionIdleTimeout and OperatorIdleTimeout are the auth service's:
	// a session idle for longer can no longer be used and is deleted
	// (defaults 72 hours and 30 minutes, the auth service's defaults).
	SessionIdleTimeout  time.Duration
	OperatorIdleTimeout time.Duration
	// RateLimitWindow is the longest window a rate limiter counts in; a
	// counter whose window started longer ago has ended (default 15
	// minutes).
	RateLimitWindow time.Duration
	// Grace keeps expired invitations and capability links this long
	// after they expire, and done jobs this long after they finish
	// (default 7 days). Dead jobs are never deleted.
	Grace time.Duration
	// UploadGrace is how long an upload may stay unfinished: pending
	// file rows created, and staging objects (storage.StagingKey)
	// written, longer ago are deleted with their objects, and so are the
	// leftovers of interrupted object writes (ports.PartialSweeper). Only
	// with Deps.Objects. At least MinUploadGrace (default 24 hours).
	UploadGrace time.Duration
	// MessageRetention keeps outbox messages this long after they end
	// (sent, delivered, failed or cancelled; their bodies are personal
	// data), and inbound provider event IDs this long after they arrive
	// (default 30 days). Dead and unknown messages are kept.
	MessageRetention time.Duration
	// Signer, when set, signs each shop's audit chain head as a
	// checkpoint when its latest checkpoint is older than CheckpointEvery
	// (default 24 hours) and the head has moved since; Verifiers check
	// the checkpoints already stored (they must include Signer's key).
	// Every checkpoint is verified again on each one taken, so their
	// number, not the log's length, is what this bounds.
	Signer          note.Signer
	Verifiers       note.Verifiers
	CheckpointEvery time.Duration
	// ExportTTL is how long a delivered export archive lives (default
	// export.DefaultLinkTTL): archives under export.ArchivePrefix written
	// longer ago, whose links have all expired, are deleted. Only with
	// Deps.Objects.
	ExportTTL time.Duration
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.SessionIdleTimeout, 72*time.Hour)
	def(&c.OperatorIdleTimeout, 30*time.Minute)
	def(&c.RateLimitWindow, 15*time.Minute)
	def(&c.Grace, 7*24*time.Hour)
	def(&c.CheckpointEvery, 24*time.Hour)
	def(&c.MessageRetention, 30*24*time.Hour)
	def(&c.UploadGrace, 24*time.Hour)
	def(&c.ExportTTL, export.DefaultLinkTTL)
}

// Deps are a Sweeper's collaborators. Shops lists every shop (the SQLite
// and Postgres stores implement it); Objects, optional, is the file
// service's object store, whose unfinished uploads are swept with their
// rows (without it, pending uploads are left alone); Clock defaults to
// the system clock and Logger to a discarding one.
type Deps struct {
	Store   ports.Store
	Shops   ports.AuditShopLister
	Objects ports.ObjectStore
	// AuthMail, when set, is the auth mail outbox whose ended mail (sent
	// or dead) is deleted MessageRetention after it ended.
	AuthMail ports.AuthMailOutbox
	Clock    ports.Clock
	Logger   *slog.Logger
}

// Sweeper runs housekeeping passes. It is safe for concurrent use, and
// so are several servers sweeping one store: every deletion is
// idempotent, and a checkpoint another server is taking at the same time
// is skipped.
type Sweeper struct {
	store    ports.Store
	shops    ports.AuditShopLister
	objects  ports.ObjectStore // nil: uploads are not swept
	authMail ports.AuthMailOutbox
	clock    ports.Clock
	log      *slog.Logger
	cfg      Config
}

// New builds a Sweeper. ErrInvalid when the store or the shop lister is
// missing, a duration is negative, or a signer comes without verifiers.
func New(d Deps, cfg Config) (*Sweeper, error) {
	if d.Store == nil || d.Shops == nil {
		return nil, fmt.Errorf("housekeeping: %w", ports.Invalid("deps", "need a store and a shop lister"))
	}
	for _, v := range []time.Duration{cfg.SessionIdleTimeout, cfg.OperatorIdleTimeout, cfg.RateLimitWindow, cfg.Grace, cfg.CheckpointEvery, cfg.MessageRetention, cfg.UploadGrace, cfg.ExportTTL} {
		if v < 0 {
			return nil, fmt.Errorf("housekeeping: %w", ports.Invalid("config", "durations must not be negative"))
		}
	}
	if cfg.UploadGrace != 0 && cfg.UploadGrace < MinUploadGrace {
		return nil, fmt.Errorf("housekeeping: %w", ports.Invalid("upload grace", fmt.Sprintf("must be at least %v", MinUploadGrace)))
	}
	if cfg.Signer != nil && cfg.Verifiers == nil {
		return nil, fmt.Errorf("housekeeping: %w", ports.Invalid("config", "a checkpoint signer needs verifiers"))
	}
	cfg.defaults()
	if d.Clock == nil {
		d.Clock = ports.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Sweeper{store: d.Store, shops: d.Shops, objects: d.Objects, authMail: d.AuthMail, clock: d.Clock, log: d.Logger, cfg: cfg}, nil
}

// ShopReport is what one pass deleted in one shop.
type ShopReport struct {
	Sessions     int `json:"sessions"`
	MagicLinks   int `json:"magic_links"`
	Invitations  int `json:"invitations"`
	Capabilities int `json:"capabilities"`
	Jobs         int `json:"jobs"`
	Messages     int `json:"messages"`
	Events       int `json:"messaging_events"`
	// PendingUploads are file rows never made ready within UploadGrace
	// (deleted with their objects); StagingObjects are objects signed
	// PUTs left in staging keys longer than UploadGrace ago.
	PendingUploads int `json:"pending_uploads,omitempty"`
	StagingObjects int `json:"staging_objects,omitempty"`
	// ExportArchives are delivered export archives past their links'
	// expiry.
	ExportArchives int `json:"export_archives,omitempty"`
}

func (r ShopReport) total() int {
	return r.Sessions + r.MagicLinks + r.Invitations + r.Capabilities + r.Jobs + r.Messages + r.Events + r.PendingUploads + r.StagingObjects + r.ExportArchives
}

// Report is what one pass did.
type Report struct {
	Shops int // shops swept
	ShopReport
	OperatorSessions int
	RateLimits       int
	PartialObjects   int // leftovers of interrupted object writes (ports.PartialSweeper)
	OrgInvitations   int // org invitations expired for longer than the grace period
	MailTokens       int // expired sign-up and reset tokens (a sign-up's holds a password hash)
	AuthMail         int // ended auth mail deleted
	Checkpoints      int // checkpoints stored (an unchanged head stores none)
	Failed           int // shops whose sweep or checkpoint failed
}

// Sweep runs one pass: the global tables, then every shop in its own
// units of work, so that one shop's failure does not hold back the
// others. It returns the report and the errors of the pass joined; a
// tampered audit chain is among them as an *audit.TamperError (and is
// logged at error level), and the shop's other housekeeping still runs.
func (s *Sweeper) Sweep(ctx context.Context) (Report, error) {
	var rep Report
	var errs []error
	now := s.clock.Now()
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		if rep.OperatorSessions, err = tx.Operators().DeleteExpiredSessions(ctx, now, now.Add(-s.cfg.OperatorIdleTimeout)); err != nil {
			return fmt.Errorf("operator sessions: %w", err)
		}
		if rep.RateLimits, err = tx.RateLimits().Prune(ctx, now.Add(-s.cfg.RateLimitWindow)); err != nil {
			return fmt.Errorf("rate limits: %w", err)
		}
		if rep.OrgInvitations, err = tx.OrgInvitations().DeleteExpired(ctx, now.Add(-s.cfg.Grace)); err != nil {
			return fmt.Errorf("org invitations: %w", err)
		}
		if rep.MailTokens, err = tx.MailTokens().DeleteExpired(ctx, now); err != nil {
			return fmt.Errorf("mail tokens: %w", err)
		}
		return nil
	})
	if err != nil {
		rep.OperatorSessions, rep.RateLimits, rep.OrgInvitations, rep.MailTokens = 0, 0, 0, 0
		errs = append(errs, fmt.Errorf("housekeeping: global: %w", err))
	}
	if s.objects != nil {
		if rep.PartialObjects, err = s.sweepPartial(ctx, now.Add(-s.cfg.UploadGrace)); err != nil {
			errs = append(errs, err)
		}
	}
	if s.authMail != nil {
		if rep.AuthMail, err = s.authMail.DeleteEndedAuthMail(ctx, now.Add(-s.cfg.MessageRetention)); err != nil {
			errs = append(errs, fmt.Errorf("housekeeping: auth mail: %w", err))
		}
	}
	for after := (ports.ShopID{}); ; {
		if err := ctx.Err(); err != nil {
			return rep, errors.Join(append(errs, err)...)
		}
		ids, err := s.shops.AuditShops(ctx, after, 100)
		if err != nil {
			errs = append(errs, fmt.Errorf("housekeeping: list shops: %w", err))
			break
		}
		if len(ids) == 0 {
			break
		}
		for _, id := range ids {
			rep.Shops++
			sr, stored, err := s.shop(ctx, id, now)
			rep.Sessions += sr.Sessions
			rep.MagicLinks += sr.MagicLinks
			rep.Invitations += sr.Invitations
			rep.Capabilities += sr.Capabilities
			rep.Jobs += sr.Jobs
			rep.Messages += sr.Messages
			rep.Events += sr.Events
			rep.PendingUploads += sr.PendingUploads
			rep.StagingObjects += sr.StagingObjects
			rep.ExportArchives += sr.ExportArchives
			if stored {
				rep.Checkpoints++
			}
			if err != nil {
				rep.Failed++
				errs = append(errs, err)
			}
		}
		after = ids[len(ids)-1]
	}
	level := slog.LevelInfo
	if len(errs) > 0 {
		level = slog.LevelError
	}
	s.log.Log(ctx, level, "housekeeping pass", "shops", rep.Shops, "sessions", rep.Sessions, "magic_links", rep.MagicLinks,
		"invitations", rep.Invitations, "capabilities", rep.Capabilities, "jobs", rep.Jobs, "messages", rep.Messages, "messaging_events", rep.Events, "pending_uploads", rep.PendingUploads, "staging_objects", rep.StagingObjects, "export_archives", rep.ExportArchives,
		"partial_objects", rep.PartialObjects, "operator_sessions", rep.OperatorSessions, "auth_mail", rep.AuthMail, "rate_limits", rep.RateLimits, "org_invitations", rep.OrgInvitations,
		"mail_tokens", rep.MailTokens, "checkpoints", rep.Checkpoints, "failed", rep.Failed, "error", errors.Join(errs...))
	return rep, errors.Join(errs...)
}

// shop sweeps one shop: its stale staging objects first, then its rows
// in one unit of work, audited as one "housekeeping.swept" event with
// the counts (the staging objects' too) when anything was deleted, then
// the objects of the pending uploads that unit deleted; then it signs
// its chain head when a signer is configured.
func (s *Sweeper) shop(ctx context.Context, shop ports.ShopID, now time.Time) (ShopReport, bool, error) {
	var rep ShopReport
	var pending []ports.File
	var objErrs []error
	uploadCutoff := now.Add(-s.cfg.UploadGrace)
	if s.objects != nil {
		var err error
		if rep.StagingObjects, err = s.staleStaging(ctx, shop, uploadCutoff); err != nil {
			objErrs = append(objErrs, err)
		}
		if rep.ExportArchives, err = export.SweepArchives(ctx, s.objects, shop, now.Add(-s.cfg.ExportTTL)); err != nil {
			objErrs = append(objErrs, err)
		}
	}
	err := s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		if s.objects != nil {
			if pending, err = stalePending(ctx, tx, uploadCutoff); err != nil {
				return fmt.Errorf("pending uploads: %w", err)
			}
			rep.PendingUploads = len(pending)
		}
		if rep.Sessions, err = tx.Sessions().DeleteExpired(ctx, now, now.Add(-s.cfg.SessionIdleTimeout)); err != nil {
			return fmt.Errorf("sessions: %w", err)
		}
		if rep.MagicLinks, err = tx.MagicLinks().DeleteExpired(ctx, now); err != nil {
			return fmt.Errorf("magic links: %w", err)
		}
		if rep.Invitations, err = tx.Invitations().DeleteExpired(ctx, now.Add(-s.cfg.Grace)); err != nil {
			return fmt.Errorf("invitations: %w", err)
		}
		if rep.Capabilities, err = tx.Capabilities().DeleteExpired(ctx, now.Add(-s.cfg.Grace)); err != nil {
			return fmt.Errorf("capability links: %w", err)
		}
		if rep.Jobs, err = tx.Jobs().DeleteDone(ctx, now.Add(-s.cfg.Grace)); err != nil {
			return fmt.Errorf("done jobs: %w", err)
		}
		if rep.Messages, err = tx.Outbox().DeleteFinished(ctx, now.Add(-s.cfg.MessageRetention)); err != nil {
			return fmt.Errorf("finished messages: %w", err)
		}
		if rep.Events, err = tx.Outbox().DeleteEventsBefore(ctx, now.Add(-s.cfg.MessageRetention)); err != nil {
			return fmt.Errorf("messaging events: %w", err)
		}
		if rep.total() == 0 {
			return nil
		}
		after, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		_, err = audit.AppendAs(ctx, tx, fixedClock(now), audit.By{Actor: Actor}, audit.Change{
			Action: "housekeeping.swept", Target: "shop:" + shop.String(), After: json.RawMessage(after),
		})
		return err
	})
	if err != nil {
		return ShopReport{}, false, fmt.Errorf("housekeeping: shop %s: %w", shop, errors.Join(append(objErrs, err)...))
	}
	if len(pending) > 0 {
		if err := s.deleteUploadObjects(ctx, shop, pending); err != nil {
			objErrs = append(objErrs, err)
		}
	}
	stored, err := s.checkpoint(ctx, shop, now)
	if len(objErrs) > 0 {
		err = errors.Join(fmt.Errorf("housekeeping: shop %s: %w", shop, errors.Join(objErrs...)), err)
	}
	return rep, stored, err
}

// checkpoint signs shop's chain head when a signer is configured and the
// latest checkpoint is older than CheckpointEvery; it reports whether it
// stored one.
func (s *Sweeper) checkpoint(ctx context.Context, shop ports.ShopID, now time.Time) (bool, error) {
	if s.cfg.Signer == nil {
		return false, nil
	}
	before, err := s.latestCheckpoint(ctx, shop)
	if err != nil {
		return false, fmt.Errorf("housekeeping: shop %s: %w", shop, err)
	}
	if before.N != 0 && now.Sub(before.CreatedAt) < s.cfg.CheckpointEvery {
		return false, nil
	}
	cp, err := audit.Checkpoint(ctx, s.store, shop, s.cfg.Signer, s.cfg.Verifiers)
	var tamper *audit.TamperError
	switch {
	case errors.As(err, &tamper):
		s.log.Error("audit chain tampered", "shop", shop, "error", err)
		return false, err
	case errors.Is(err, ports.ErrConflict):
		return false, nil // another server is signing this head
	case err != nil:
		return false, fmt.Errorf("housekeeping: shop %s: checkpoint: %w", shop, err)
	}
	return cp.N > before.N, nil
}

// latestCheckpoint returns shop's latest checkpoint (zero for none).
func (s *Sweeper) latestCheckpoint(ctx context.Context, shop ports.ShopID) (ports.AuditCheckpoint, error) {
	var c ports.AuditCheckpoint
	err := s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		c, err = tx.AuditCheckpoints().Latest(ctx)
		if errors.Is(err, ports.ErrNotFound) {
			return nil
		}
		return err
	}, ports.ReadOnly())
	return c, err
}

// Run sweeps once for every value received from ticks until ctx ends or
// ticks is closed; report, when set, receives each pass's outcome. A
// failed pass is logged and the next tick tries again.
func (s *Sweeper) Run(ctx context.Context, ticks <-chan time.Time, report func(Report, error)) {
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-ticks:
			if !ok {
				return
			}
			rep, err := s.Sweep(ctx)
			if report != nil {
				report(rep, err)
			}
		}
	}
}

// fixedClock is a clock stopped at one instant: a sweep's events carry the
// time the sweep started.
type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }
