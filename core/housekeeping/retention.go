package housekeeping

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
)

// Audit actors of deletions.
const (
	// RetentionActor deletes shops whose retention period has run out.
	RetentionActor = "system:retention"
)

// DefaultRetentionPeriod is how long a cancelled shop's data stays before
// it is deleted (LIFE-2); billing's retention clock uses the same default.
const DefaultRetentionPeriod = 60 * 24 * time.Hour

// errNotDue: a shop listed for retention was reactivated before its
// deletion started.
var errNotDue = errors.New("retention: the shop is no longer cancelled")

// MaxEraseReason is the longest written reason of an erasure, in bytes.
const MaxEraseReason = 2000

// RetentionConfig tunes a Deleter. Zero values take the defaults noted.
type RetentionConfig struct {
	// Period is how long a cancelled shop is kept (default
	// DefaultRetentionPeriod): a shop cancelled at least Period ago is
	// deleted by the next pass.
	Period time.Duration
	// ObjectBatch is how many objects are listed and deleted per step
	// (default 100, at most ports.MaxListPageSize); RowBatch how many rows
	// of one table one transaction deletes (default 1000).
	ObjectBatch int
	RowBatch    int
	// ShopsPerPass bounds how many shops one pass deletes (default 10);
	// the rest wait for the next pass.
	ShopsPerPass int
	// Signer, when set, signs the shop's chain head as a checkpoint just
	// before its rows go, so the deletion record keeps a signed statement
	// of where the chain ended; Verifiers check the checkpoints already
	// stored (they must include Signer's key).
	Signer    note.Signer
	Verifiers note.Verifiers
}

// RetentionDeps are a Deleter's collaborators. Store and Deleter (the
// same store, as ports.ShopDeleter) are required; Objects, when set, is
// the file service's object store whose keys under the shop's prefix
// (shops/{shop}/) are deleted; Keys, when set, is the key manager whose
// keys of the shop an erasure destroys first (crypto-shredding).
type RetentionDeps struct {
	Store   ports.Store
	Deleter ports.ShopDeleter
	Objects ports.ObjectStore
	Keys    ports.KeyManager
	Clock   ports.Clock
	Logger  *slog.Logger
}

// Deleter deletes whole shops: those cancelled longer ago than the
// retention period (LIFE-2) and those an operator erases (LIFE-3). A
// deletion is a sequence of idempotent, bounded steps whose progress the
// store records (ports.ShopDeleter), so a deletion interrupted at any
// point finishes when it is run again, by the next pass or the next
// erase. It is safe for concurrent use; two servers deleting one shop at
// once repeat idempotent steps, and the counts stay exact.
type Deleter struct {
	store   ports.Store
	del     ports.ShopDeleter
	objects ports.ObjectStore
	keys    ports.KeyManager
	clock   ports.Clock
	log     *slog.Logger
	cfg     RetentionConfig
}

// NewDeleter builds a Deleter. ErrInvalid when the store or the deleter
// is missing, a value is negative, a batch exceeds its limit, or a signer
// comes without verifiers.
func NewDeleter(d RetentionDeps, cfg RetentionConfig) (*Deleter, error) {
	switch {
	case d.Store == nil || d.Deleter == nil:
		return nil, fmt.Errorf("retention: %w", ports.Invalid("deps", "need a store and a shop deleter"))
	case cfg.Period < 0 || cfg.ObjectBatch < 0 || cfg.RowBatch < 0 || cfg.ShopsPerPass < 0:
		return nil, fmt.Errorf("retention: %w", ports.Invalid("config", "values must not be negative"))
	case cfg.ObjectBatch > ports.MaxListPageSize:
		return nil, fmt.Errorf("retention: %w", ports.Invalid("object batch", fmt.Sprintf("must be at most %d", ports.MaxListPageSize)))
	case cfg.Signer != nil && cfg.Verifiers == nil:
		return nil, fmt.Errorf("retention: %w", ports.Invalid("config", "a checkpoint signer needs verifiers"))
	}
	if cfg.Period == 0 {
		cfg.Period = DefaultRetentionPeriod
	}
	if cfg.ObjectBatch == 0 {
		cfg.ObjectBatch = 100
	}
	if cfg.RowBatch == 0 {
		cfg.RowBatch = 1000
	}
	if cfg.ShopsPerPass == 0 {
		cfg.ShopsPerPass = 10
	}
	if d.Clock == nil {
		d.Clock = ports.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Deleter{store: d.Store, del: d.Deleter, objects: d.Objects, keys: d.Keys, clock: d.Clock, log: d.Logger, cfg: cfg}, nil
}

// RetentionReport is what one retention pass did.
type RetentionReport struct {
	Deleted []ports.ShopDeletion // finished deletions
	Failed  int                  // shops whose deletion failed (retried next pass)
}

// RunRetention runs one retention pass: it deletes, longest-cancelled
// first, up to ShopsPerPass shops cancelled at least Period ago by the
// clock, each to the end, and returns their records. A shop reactivated
// within the window has no cancellation time and is never listed. A
// deletion interrupted by a crash is found again (its directory row, and
// so its cancellation, goes last) and resumed. One shop's failure does not
// hold back the others; the errors are joined.
func (d *Deleter) RunRetention(ctx context.Context) (RetentionReport, error) {
	var rep RetentionReport
	cutoff := d.clock.Now().Add(-d.cfg.Period)
	var due []ports.ShopCancellation
	err := d.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		due, err = tx.BillingDirectory().CancelledBefore(ctx, cutoff, d.cfg.ShopsPerPass)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return rep, fmt.Errorf("retention: list shops past retention: %w", err)
	}
	var errs []error
	for _, c := range due {
		rec, err := d.deleteShop(ctx, ports.ShopDeletion{Shop: c.Shop, Reason: ports.DeletionRetention, Actor: RetentionActor})
		if errors.Is(err, errNotDue) {
			d.log.Info("shop no longer due for deletion", "shop", c.Shop)
			continue
		}
		if err != nil {
			rep.Failed++
			errs = append(errs, err)
			d.log.Error("shop deletion failed", "shop", c.Shop, "reason", ports.DeletionRetention, "error", err)
			continue
		}
		rep.Deleted = append(rep.Deleted, rec)
	}
	return rep, errors.Join(errs...)
}

// Erase deletes shop now, on an operator's written request (LIFE-3):
// actor (e.g. "operator:<id>") and reason are required (ErrInvalid
// without them; reason at most MaxEraseReason bytes). The request is
// audited before anything runs: a "shop.erase" event with the reason,
// committed to the shop's chain (its head is kept in the deletion
// record). Then the shop's keys are destroyed (crypto-shredding: every
// envelope-encrypted object is unreadable from that moment, wherever a
// copy lies), then everything retention would delete is deleted. Running
// Erase again for a shop whose erasure was interrupted resumes it; for a
// shop already erased it returns the record.
func (d *Deleter) Erase(ctx context.Context, shop ports.ShopID, actor, reason string) (ports.ShopDeletion, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case shop.IsZero():
		return ports.ShopDeletion{}, fmt.Errorf("erase: %w", ports.Invalid("shop id", "must be set"))
	case actor == "":
		return ports.ShopDeletion{}, fmt.Errorf("erase: %w", ports.Invalid("actor", "an erasure needs the operator who asks for it"))
	case reason == "":
		return ports.ShopDeletion{}, fmt.Errorf("erase: %w", ports.Invalid("reason", "an erasure needs a written reason"))
	case len(reason) > MaxEraseReason:
		return ports.ShopDeletion{}, fmt.Errorf("erase: %w", ports.Invalid("reason", fmt.Sprintf("must be at most %d bytes", MaxEraseReason)))
	}
	rec, err := d.del.ShopDeletion(ctx, shop)
	switch {
	case err == nil && !rec.FinishedAt.IsZero():
		return rec, nil
	case err == nil:
		// an interrupted deletion: resume it (the erasure was audited
		// when it began, if it was one)
	case errors.Is(err, ports.ErrNotFound):
		after, _ := json.Marshal(map[string]string{"reason": reason})
		err = d.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := audit.AppendAs(ctx, tx, d.clock, audit.By{Actor: actor}, audit.Change{
				Action: "shop.erase", Target: "shop:" + shop.String(), Outcome: ports.OutcomeAttempted, After: json.RawMessage(after),
			})
			return err
		})
		if err != nil {
			return ports.ShopDeletion{}, fmt.Errorf("erase shop %s: audit: %w", shop, err)
		}
		d.log.Warn("shop erasure requested", "shop", shop, "actor", actor, "reason", reason)
	default:
		return ports.ShopDeletion{}, fmt.Errorf("erase shop %s: %w", shop, err)
	}
	if d.keys != nil {
		if err := d.keys.DestroyKeys(ctx, shop); err != nil {
			return ports.ShopDeletion{}, fmt.Errorf("erase shop %s: destroy keys: %w", shop, err)
		}
	}
	return d.deleteShop(ctx, ports.ShopDeletion{Shop: shop, Reason: ports.DeletionErasure, Actor: actor, Note: reason})
}

// deleteShop runs (or resumes) one shop's deletion to the end: the
// record, the shop's keys, the objects in batches, the chain head, the rows table by table
// in batches, the directory row.
func (d *Deleter) deleteShop(ctx context.Context, want ports.ShopDeletion) (ports.ShopDeletion, error) {
	shop := want.Shop
	rec, err := d.del.StartShopDeletion(ctx, want)
	if want.Reason == ports.DeletionRetention && errors.Is(err, ports.ErrNotFound) {
		return ports.ShopDeletion{}, errNotDue // reactivated (or gone) since it was listed
	}
	if err != nil {
		return ports.ShopDeletion{}, fmt.Errorf("delete shop %s: start: %w", shop, err)
	}
	if !rec.FinishedAt.IsZero() {
		return rec, nil
	}
	if d.keys != nil {
		// A deleted shop's keys serve nothing; destroyed first, they leave
		// any copy of its objects (a backup, a replica) unreadable.
		if err := d.keys.DestroyKeys(ctx, shop); err != nil {
			return ports.ShopDeletion{}, fmt.Errorf("delete shop %s: destroy keys: %w", shop, err)
		}
	}
	if d.objects != nil {
		if err := d.deleteObjects(ctx, shop); err != nil {
			return ports.ShopDeletion{}, fmt.Errorf("delete shop %s: objects: %w", shop, err)
		}
	}
	if rec.ChainSize == 0 && rec.Rows["audit_events"] == 0 && rec.Rows["audit_heads"] == 0 {
		if err := d.recordChain(ctx, rec); err != nil {
			return ports.ShopDeletion{}, fmt.Errorf("delete shop %s: chain: %w", shop, err)
		}
	}
	for _, table := range d.del.DeletionTables() {
		for {
			if err := ctx.Err(); err != nil {
				return ports.ShopDeletion{}, fmt.Errorf("delete shop %s: %w", shop, err)
			}
			n, err := d.del.DeleteShopRows(ctx, shop, table, d.cfg.RowBatch)
			if err != nil {
				return ports.ShopDeletion{}, fmt.Errorf("delete shop %s: rows: %w", shop, err)
			}
			if n == 0 {
				break
			}
		}
	}
	rec, err = d.del.FinishShopDeletion(ctx, shop)
	if err != nil {
		return ports.ShopDeletion{}, fmt.Errorf("delete shop %s: finish: %w", shop, err)
	}
	var rows int64
	for _, n := range rec.Rows {
		rows += n
	}
	d.log.Info("shop deleted", "shop", shop, "slug", rec.Slug, "reason", rec.Reason, "actor", rec.Actor,
		"objects", rec.Objects, "rows", rows, "chain_size", rec.ChainSize)
	return rec, nil
}

// deleteObjects deletes every object under the shop's prefix, a page at a
// time, counting each page in the record. Listing always starts from the
// beginning: deleted keys no longer list, so a resumed run picks up
// whatever is left.
func (d *Deleter) deleteObjects(ctx context.Context, shop ports.ShopID) error {
	prefix := "shops/" + shop.String() + "/"
	for {
		page, err := d.objects.List(ctx, prefix, "", d.cfg.ObjectBatch)
		if err != nil {
			return err
		}
		if len(page.Objects) == 0 {
			return nil
		}
		for _, o := range page.Objects {
			if err := d.objects.Delete(ctx, o.Key); err != nil {
				return fmt.Errorf("delete %s: %w", o.Key, err)
			}
		}
		if err := d.del.AddDeletedObjects(ctx, shop, int64(len(page.Objects))); err != nil {
			return err
		}
	}
}

// recordChain appends the deletion's own event to the shop's chain (so
// the chain ends with why it ended), signs the head when a signer is
// configured, and records the head and the latest checkpoint in the
// deletion record.
func (d *Deleter) recordChain(ctx context.Context, rec ports.ShopDeletion) error {
	var last ports.AuditEvent
	err := d.store.InShop(ctx, rec.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		after, err := json.Marshal(map[string]any{"reason": rec.Reason, "objects": rec.Objects})
		if err != nil {
			return err
		}
		last, err = audit.AppendAs(ctx, tx, d.clock, audit.By{Actor: rec.Actor}, audit.Change{
			Action: "shop.deleting", Target: "shop:" + rec.Shop.String(), After: json.RawMessage(after),
		})
		return err
	})
	if err != nil {
		return err
	}
	if d.cfg.Signer != nil {
		if _, err := audit.Checkpoint(ctx, d.store, rec.Shop, d.cfg.Signer, d.cfg.Verifiers); err != nil && !errors.Is(err, ports.ErrConflict) {
			return fmt.Errorf("checkpoint: %w", err)
		}
	}
	var cp ports.AuditCheckpoint
	err = d.store.InShop(ctx, rec.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		cp, err = tx.AuditCheckpoints().Latest(ctx)
		if errors.Is(err, ports.ErrNotFound) {
			return nil
		}
		return err
	}, ports.ReadOnly())
	if err != nil {
		return err
	}
	return d.del.SetDeletionChain(ctx, rec.Shop, last.Seq, last.Hash, cp.Note)
}
