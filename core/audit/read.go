package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// Reader is the audit log as the people of a shop read it (AUD-6): a
// filtered, keyset-paginated query and an export, both for holders of
// access.AuditRead only (Owner and Admin by default) and both confined to
// the caller's shop.
type Reader struct {
	store  ports.Store
	policy *access.Policy
	clock  ports.Clock
}

// ReaderDeps is what a Reader needs. A nil Policy is the default one; a
// nil Clock is the system clock.
type ReaderDeps struct {
	Store  ports.Store
	Policy *access.Policy
	Clock  ports.Clock
}

// NewReader returns a Reader over d.Store.
func NewReader(d ReaderDeps) *Reader {
	if d.Clock == nil {
		d.Clock = ports.SystemClock{}
	}
	return &Reader{store: d.Store, policy: d.Policy, clock: d.Clock}
}

// Page is one page of a search.
type Page struct {
	Events []ports.AuditEvent
	// Next is the cursor of the following page (pass it as
	// AuditFilter.Cursor with the same filter), zero when this is the last.
	Next int64
}

// Search returns one page of the caller's shop's events matching f.
// ErrUnauthenticated without a scope, ErrForbidden without
// access.AuditRead, ErrInvalid for a bad filter.
func (r *Reader) Search(ctx context.Context, f ports.AuditFilter) (Page, error) {
	sc, err := r.policy.Require(ctx, access.AuditRead)
	if err != nil {
		return Page{}, err
	}
	if err := f.Validate(); err != nil {
		return Page{}, err
	}
	var page Page
	err = r.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		page.Events, err = tx.Audit().Search(ctx, f)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return Page{}, fmt.Errorf("search audit log: %w", err)
	}
	if n := len(page.Events); n > 0 && n == f.PageLimit() {
		page.Next = page.Events[n-1].Seq
	}
	return page, nil
}

// Export writes every event of the caller's shop matching f to enc, in
// sequence order (f.Newest, f.Cursor and f.Limit are ignored), and
// returns how many it wrote.
//
// An export is a privileged action (AUD-3, through BeforeEvent): before
// any event is read, an "audit.exported" event with OutcomeAttempted,
// naming the filter and the format, is committed in its own unit of work;
// if that fails nothing is exported. The export covers the log up to and
// including that event, a consistent cut even while others append, and
// the outcome (success, or failure with its error class) is appended
// afterwards. ErrForbidden without access.AuditRead; a failed write to enc
// ends the export with the failure recorded.
func (r *Reader) Export(ctx context.Context, f ports.AuditFilter, enc Encoder) (int, error) {
	sc, err := r.policy.Require(ctx, access.AuditRead)
	if err != nil {
		return 0, err
	}
	f.Newest, f.Cursor, f.Limit = false, 0, 1000
	if err := f.Validate(); err != nil {
		return 0, err
	}
	detail := exportDetail{Format: enc.Format(), Actor: f.Actor, Action: f.Action, Target: f.Target}
	if !f.Since.IsZero() {
		detail.Since = f.Since.UTC().Format(time.RFC3339Nano)
	}
	if !f.Until.IsZero() {
		detail.Until = f.Until.UTC().Format(time.RFC3339Nano)
	}
	after, err := json.Marshal(detail)
	if err != nil {
		return 0, err
	}
	attempted := ports.AuditEvent{
		Actor: sc.Actor(), Impersonator: sc.Impersonator, Action: "audit.exported", Target: "shop:" + sc.Shop.String(),
		After: after, IP: sc.IP, UserAgent: sc.UserAgent, RequestID: sc.RequestID,
	}
	n := 0
	err = BeforeEvent(ctx, r.store, r.clock, sc.Shop, attempted, func(ctx context.Context, attempt ports.AuditEvent) error {
		var err error
		n, err = r.export(ctx, sc.Shop, f, attempt.Seq, enc)
		return err
	})
	return n, err
}

func (r *Reader) export(ctx context.Context, shop ports.ShopID, f ports.AuditFilter, upTo int64, enc Encoder) (int, error) {
	n := 0
	for {
		var page []ports.AuditEvent
		err := r.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
			var err error
			page, err = tx.Audit().Search(ctx, f)
			return err
		}, ports.ReadOnly())
		if err != nil {
			return n, fmt.Errorf("audit export: read: %w", err)
		}
		for _, e := range page {
			if e.Seq > upTo {
				return n, enc.Close()
			}
			if err := enc.Encode(e); err != nil {
				return n, fmt.Errorf("audit export: write: %w", err)
			}
			n++
		}
		if len(page) < f.PageLimit() {
			return n, enc.Close()
		}
		f.Cursor = page[len(page)-1].Seq
	}
}

// exportDetail is the After of an "audit.exported" attempt.
type exportDetail struct {
	Format string `json:"format"`
	Actor  string `json:"actor,omitempty"`
	Action string `json:"action,omitempty"`
	Target string `json:"target,omitempty"`
	Since  string `json:"since,omitempty"`
	Until  string `json:"until,omitempty"`
}
