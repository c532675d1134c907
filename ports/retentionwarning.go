package ports

import (
	"context"
	"time"
)

// RetentionWarning records that a shop's Owners were warned, days before
// its retention deletion, for one cancellation (LIFE-2). It is a tenant
// row, deleted with the shop.
type RetentionWarning struct {
	// CancelledAt is the cancellation the warning is for: a later
	// cancellation of the same shop has another, so its warnings are sent
	// afresh.
	CancelledAt time.Time
	// DaysBefore is the warning point: how many days before DeletionAt.
	DaysBefore int
	// DeletionAt is when the shop becomes due for deletion.
	DeletionAt time.Time
	// Recipients is how many Owners were mailed.
	Recipients int
	// SentAt is when the warning was enqueued; set by the store.
	SentAt time.Time
}

// Validate checks w before it is recorded.
func (w RetentionWarning) Validate() error {
	switch {
	case w.CancelledAt.IsZero() || w.DeletionAt.IsZero():
		return Invalid("retention warning", "cancellation and deletion times are required")
	case w.DaysBefore < 1 || w.DaysBefore > 3650:
		return Invalid("retention warning", "days before must be 1 to 3650")
	case w.Recipients < 0:
		return Invalid("retention warning", "recipients must not be negative")
	}
	return nil
}

// RetentionWarningRepo keeps the warnings of the unit of work's shop.
type RetentionWarningRepo interface {
	// Record stores w (SentAt is the store's now) and returns it as
	// stored; ErrConflict when the point of that cancellation is already
	// recorded, so two passes racing send it once.
	Record(ctx context.Context, w RetentionWarning) (RetentionWarning, error)
	// List returns the shop's warnings for the cancellation at
	// cancelledAt, latest point (fewest days) last.
	List(ctx context.Context, cancelledAt time.Time) ([]RetentionWarning, error)
}
