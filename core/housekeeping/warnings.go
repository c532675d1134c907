package housekeeping

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/core/authmail"
	"github.com/stockadehq/stockade/ports"
)

// DefaultWarningDays returns the default points, in days before a
// cancelled shop's retention deletion, at which its Owners are warned by
// e-mail (LIFE-2): 30, 7 and 1 days before the deletion.
func DefaultWarningDays() []int { return []int{30, 7, 1} }

// MaxWarningDays is the furthest warning point, in days before the
// deletion.
const MaxWarningDays = 3650

// WarningActor is the audit actor of a retention warning.
const WarningActor = "system:retention"

// day is one warning day: 24 hours, whatever the calendar.
const day = 24 * time.Hour

// WarningConfig tunes a Warner. Zero values take the defaults noted.
type WarningConfig struct {
	// Period is the retention period (default DefaultRetentionPeriod): a
	// shop cancelled at C is deleted from C+Period on, the deletion date
	// the warnings announce.
	Period time.Duration
	// Days are the warning points, in days before the deletion (default
	// DefaultWarningDays); each 1 to MaxWarningDays, no repeats. A point
	// is due from deletion − Days×24h on.
	Days []int
	// ShopURL, when set, gives the address of a shop's own host for its
	// slug; the mail names it as the place to sign in and export.
	ShopURL func(slug string) string
	// PageSize is how many cancelled shops one read lists (default 100).
	PageSize int
}

// WarningDeps are a Warner's collaborators; Store and Outbox are required.
type WarningDeps struct {
	Store ports.Store
	// Outbox seals the warnings into the auth mail outbox; the auth mail
	// worker delivers them.
	Outbox *authmail.Outbox
	Clock  ports.Clock
	Logger *slog.Logger
}

// Warner mails a cancelled shop's Owners before its retention deletion
// (LIFE-2). Safe for concurrent use, and so are several servers warning
// at once: a point is recorded with the mail, and a second record of it
// is refused, so each point of a cancellation is sent once.
type Warner struct {
	store  ports.Store
	outbox *authmail.Outbox
	clock  ports.Clock
	log    *slog.Logger
	cfg    WarningConfig
}

// NewWarner builds a Warner. ErrInvalid for a missing store or outbox, a
// negative period or page size, or a warning point out of range or
// repeated.
func NewWarner(d WarningDeps, cfg WarningConfig) (*Warner, error) {
	if d.Store == nil || d.Outbox == nil {
		return nil, fmt.Errorf("retention warnings: %w", ports.Invalid("deps", "need a store and an auth mail outbox"))
	}
	if cfg.Period < 0 || cfg.PageSize < 0 {
		return nil, fmt.Errorf("retention warnings: %w", ports.Invalid("config", "values must not be negative"))
	}
	if cfg.Period == 0 {
		cfg.Period = DefaultRetentionPeriod
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = 100
	}
	if cfg.Days == nil {
		cfg.Days = DefaultWarningDays()
	}
	days, err := NormalizeWarningDays(cfg.Days)
	if err != nil {
		return nil, fmt.Errorf("retention warnings: %w", err)
	}
	cfg.Days = days
	if d.Clock == nil {
		d.Clock = ports.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Warner{store: d.Store, outbox: d.Outbox, clock: d.Clock, log: d.Logger, cfg: cfg}, nil
}

// NormalizeWarningDays returns days sorted from the furthest point to the
// nearest. ErrInvalid for a point outside 1 to MaxWarningDays or a
// repeated one; an empty list (no warnings) is valid.
func NormalizeWarningDays(days []int) ([]int, error) {
	out := slices.Clone(days)
	slices.SortFunc(out, func(a, b int) int { return b - a })
	for i, d := range out {
		if d < 1 || d > MaxWarningDays {
			return nil, ports.Invalid("warning days", fmt.Sprintf("each must be 1 to %d, got %d", MaxWarningDays, d))
		}
		if i > 0 && out[i-1] == d {
			return nil, ports.Invalid("warning days", fmt.Sprintf("%d is repeated", d))
		}
	}
	return out, nil
}

// WarningReport is what one warning pass did.
type WarningReport struct {
	Warned int // shops warned (one point each)
	Mails  int // mails enqueued, one per Owner
	Failed int // shops whose warning failed (retried next pass)
}

// RunWarnings runs one warning pass: for every shop whose retention
// deletion is still ahead and whose furthest warning point has come, it
// sends the nearest point that has come, unless that point (or a nearer
// one) was already sent for the same cancellation. A point passed while
// no pass ran is not sent late once a nearer one is due: an Owner gets the
// most urgent warning, not a backlog. Sending a point means, in one unit
// of work of the shop: recording it (ports.RetentionWarningRepo), one
// sealed mail per Owner in the auth mail outbox (the auth mail worker
// delivers it), and one "retention.warned" audit event per Owner. A shop
// reactivated since it was listed is skipped. One shop's failure does not
// hold back the others; the errors are joined.
func (w *Warner) RunWarnings(ctx context.Context) (WarningReport, error) {
	var rep WarningReport
	if len(w.cfg.Days) == 0 {
		return rep, nil
	}
	now := w.clock.Now()
	// Shops cancelled in (now−Period, now−Period+furthest point]: deletion
	// ahead, furthest point come. Paged by (cancelled_at, id).
	after := ports.ShopCancellation{CancelledAt: now.Add(-w.cfg.Period)}
	until := now.Add(-w.cfg.Period).Add(time.Duration(w.cfg.Days[0]) * day)
	var errs []error
	for {
		var page []ports.ShopCancellation
		err := w.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
			var err error
			page, err = tx.BillingDirectory().CancelledAfter(ctx, after, until, w.cfg.PageSize)
			return err
		}, ports.ReadOnly())
		if err != nil {
			return rep, errors.Join(append(errs, fmt.Errorf("retention warnings: list cancelled shops: %w", err))...)
		}
		for _, c := range page {
			if err := ctx.Err(); err != nil {
				return rep, errors.Join(append(errs, err)...)
			}
			deletion := c.CancelledAt.Add(w.cfg.Period)
			if !deletion.After(now) {
				continue
			}
			point := w.pointAt(now, deletion)
			if point == 0 {
				continue
			}
			n, err := w.warn(ctx, c, point, deletion)
			switch {
			case err != nil:
				rep.Failed++
				errs = append(errs, err)
				w.log.Error("retention warning failed", "shop", c.Shop, "days_before", point, "error", err)
			case n > 0:
				rep.Warned++
				rep.Mails += n
			}
		}
		if len(page) < w.cfg.PageSize {
			return rep, errors.Join(errs...)
		}
		after = page[len(page)-1]
	}
}

// pointAt is the nearest warning point that has come at now for a
// deletion at deletion, or 0 when none has.
func (w *Warner) pointAt(now, deletion time.Time) int {
	point := 0
	for _, d := range w.cfg.Days { // furthest first
		if !now.Before(deletion.Add(-time.Duration(d) * day)) {
			point = d
		}
	}
	return point
}

// owner is one Owner to warn.
type owner struct {
	id    ports.UserID
	email string
}

// warn sends point for cancellation c and returns how many mails it
// enqueued (0 when the point was already sent, the shop was reactivated,
// or it has no Owner).
func (w *Warner) warn(ctx context.Context, c ports.ShopCancellation, point int, deletion time.Time) (int, error) {
	var owners []owner
	var shop ports.Shop
	sent := false
	err := w.store.InShop(ctx, c.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		prior, err := tx.RetentionWarnings().List(ctx, c.CancelledAt)
		if err != nil {
			return err
		}
		for _, p := range prior {
			if p.DaysBefore <= point {
				sent = true
				return nil
			}
		}
		if shop, err = tx.ThisShop().Get(ctx); err != nil {
			return err
		}
		ms, err := tx.Memberships().List(ctx)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if m.Role == ports.RoleOwner {
				owners = append(owners, owner{id: m.UserID})
			}
		}
		return nil
	}, ports.ReadOnly())
	if err != nil {
		return 0, fmt.Errorf("retention warning for shop %s: read: %w", c.Shop, err)
	}
	if sent {
		return 0, nil
	}
	err = w.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		ids := make([]ports.UserID, len(owners))
		for i := range owners {
			ids[i] = owners[i].id
		}
		users, err := ports.UsersByID(ctx, tx.Users(), ids)
		if err != nil {
			return err
		}
		for i := range owners {
			u, ok := users[owners[i].id]
			if !ok {
				return fmt.Errorf("owner %s: %w", owners[i].id, ports.ErrNotFound)
			}
			owners[i].email = u.Email
		}
		return nil
	}, ports.ReadOnly())
	if err != nil {
		return 0, fmt.Errorf("retention warning for shop %s: owners: %w", c.Shop, err)
	}
	subject, body := w.render(shop, c.CancelledAt, deletion, point)
	mails := 0
	err = w.store.InShop(ctx, c.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		mails = 0
		acct, err := tx.Billing().Get(ctx)
		if err != nil && !errors.Is(err, ports.ErrNotFound) {
			return err
		}
		if !acct.CancelledAt.Equal(c.CancelledAt) {
			return errNotDue // reactivated (or cancelled again) since it was listed
		}
		if _, err := tx.RetentionWarnings().Record(ctx, ports.RetentionWarning{
			CancelledAt: c.CancelledAt, DaysBefore: point, DeletionAt: deletion, Recipients: len(owners),
		}); err != nil {
			return err
		}
		for _, o := range owners {
			if err := w.outbox.Enqueue(ctx, tx.AuthMail(), ports.AuthMailRetentionWarning, ports.Mail{To: o.email, Subject: subject, Text: body}); err != nil {
				return err
			}
			if _, err := audit.AppendAs(ctx, tx, w.clock, audit.By{Actor: WarningActor}, audit.Change{
				Action: "retention.warned", Target: "user:" + o.id.String(),
				After: map[string]any{"days_before": point, "deletion_at": deletion.UTC().Format(time.RFC3339), "cancelled_at": c.CancelledAt.UTC().Format(time.RFC3339)},
			}); err != nil {
				return err
			}
			mails++
		}
		return nil
	})
	switch {
	case errors.Is(err, errNotDue), errors.Is(err, ports.ErrConflict):
		return 0, nil // reactivated, or another pass sent the point
	case err != nil:
		return 0, fmt.Errorf("retention warning for shop %s: send: %w", c.Shop, err)
	}
	w.log.Info("retention warning sent", "shop", c.Shop, "days_before", point, "deletion_at", deletion, "owners", mails)
	return mails, nil
}

// render is a warning's subject and body: the deletion date, and how to
// keep the data (export) or the shop (renew).
func (w *Warner) render(shop ports.Shop, cancelled, deletion time.Time, point int) (string, string) {
	name := strings.TrimSpace(shop.Name)
	if name == "" {
		name = shop.Slug
	}
	date := deletion.UTC().Format("Monday, 2 January 2006, 15:04 MST")
	subject := fmt.Sprintf("Your shop %q will be deleted on %s", name, deletion.UTC().Format("2 January 2006"))
	var b strings.Builder
	fmt.Fprintf(&b, "Hello,\n\nThe subscription of your shop %q (%s) ended on %s.\n", name, shop.Slug, cancelled.UTC().Format("2 January 2006"))
	fmt.Fprintf(&b, "Its data is kept until %s, about %d day(s) from now; then every record and file of the shop is deleted for good.\n\n", date, point)
	b.WriteString("To keep a copy, export the shop before then: an Owner signed in to the shop can request an export (POST /exports),\n")
	b.WriteString("which is delivered as a download link; the archive holds every record and file of the shop and can be verified offline.\n")
	if w.cfg.ShopURL != nil {
		fmt.Fprintf(&b, "Sign in at %s\n", w.cfg.ShopURL(shop.Slug))
	}
	b.WriteString("\nTo keep the shop instead, renew its subscription before that date: the deletion is then cancelled.\n\n")
	b.WriteString("You receive this because you are an Owner of the shop.\n")
	return subject, b.String()
}
