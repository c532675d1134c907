package ports

import (
	"context"
	"time"
)

// Reasons a shop is deleted (ShopDeletion.Reason).
const (
	// DeletionRetention: the shop was cancelled longer ago than the
	// retention period (LIFE-2).
	DeletionRetention = "retention"
	// DeletionErasure: an operator erased the shop on request (LIFE-3).
	DeletionErasure = "erasure"
)

// ShopDeletion is the platform-level record of a shop's deletion (LIFE-2,
// LIFE-3). It is written when the deletion starts, carries the deletion's
// progress, and is kept after every row of the shop (its directory row
// included) is gone: the evidence that the shop existed, why and when it
// was deleted, what was deleted, and where its audit chain ended.
type ShopDeletion struct {
	Shop   ShopID
	Org    OrgID
	Slug   string
	Reason string // DeletionRetention or DeletionErasure
	Actor  string // who started it ("system:retention", "operator:…")
	// Note is the operator's written reason for an erasure; "" for
	// retention.
	Note string
	// CancelledAt is when the shop's subscription ended (zero for an
	// erasure of a shop never cancelled).
	CancelledAt time.Time
	StartedAt   time.Time
	// FinishedAt is zero while the deletion runs.
	FinishedAt time.Time
	// Objects is how many objects under the shop's prefix were deleted.
	Objects int64
	// Rows is how many rows were deleted, per table.
	Rows map[string]int64
	// ChainSize and ChainHash are the shop's audit chain head when the
	// rows' deletion began (0 and zero for an empty log); Checkpoint is
	// the latest signed checkpoint's note at that point ("" for none).
	ChainSize  int64
	ChainHash  AuditHash
	Checkpoint string
}

// ShopDeleter is implemented by stores that can delete a whole shop: the
// store side of retention and erasure. Every step is idempotent and
// bounded, so a deletion killed at any point resumes where it stopped:
//
//  1. StartShopDeletion records the deletion (once; later calls return
//     the record as it stands). From then on the shop's audit chain may
//     be deleted, and only with this record kept.
//  2. AddDeletedObjects counts objects the caller deleted.
//  3. DeleteShopRows deletes a batch of one table's rows of the shop in
//     its own transaction, counting them in the record in that
//     transaction; called per table of DeletionTables in order until it
//     returns 0.
//  4. FinishShopDeletion deletes the shop's directory row and stamps the
//     record finished.
type ShopDeleter interface {
	// DeletionTables lists every table holding a shop's rows, Stockade's
	// and the embedding app's declared ones, in an order in which they can
	// be deleted (a table's children before the table).
	DeletionTables() []string
	// StartShopDeletion stores d (ShopID, Reason, Actor required; the
	// store stamps StartedAt and fills Org, Slug and CancelledAt from the
	// directory) unless the shop already has a record, and returns the
	// stored record. A retention starts only for a shop that is cancelled
	// (one reactivated meanwhile is not). ErrNotFound when the shop has no
	// record and no directory row, or, for a retention, is not cancelled.
	StartShopDeletion(ctx context.Context, d ShopDeletion) (ShopDeletion, error)
	// SetDeletionChain records the chain head and checkpoint of a running
	// deletion.
	SetDeletionChain(ctx context.Context, shop ShopID, size int64, hash AuditHash, checkpoint string) error
	// AddDeletedObjects adds n to the record's object count.
	AddDeletedObjects(ctx context.Context, shop ShopID, n int64) error
	// DeleteShopRows deletes up to limit of shop's rows in table (one of
	// DeletionTables) and returns how many it deleted; 0 means none are
	// left. ErrInvalid for another table or a limit below 1; ErrConflict
	// when the shop has no started deletion record.
	DeleteShopRows(ctx context.Context, shop ShopID, table string, limit int) (int, error)
	// FinishShopDeletion deletes the shop's directory row and stamps
	// FinishedAt (once), returning the record.
	FinishShopDeletion(ctx context.Context, shop ShopID) (ShopDeletion, error)
	// ShopRows counts shop's rows in table (one of DeletionTables, else
	// ErrInvalid): what a deletion has left, for reports and checks.
	ShopRows(ctx context.Context, shop ShopID, table string) (int64, error)
	// ShopDeletion returns shop's record, or ErrNotFound.
	ShopDeletion(ctx context.Context, shop ShopID) (ShopDeletion, error)
}
