package ports

import (
	"context"
	"time"
)

// RateLimitRepo keeps fixed-window attempt counters shared by every server
// instance (AUTH-10). Keys are opaque strings chosen by the core, at most
// 200 bytes; they should not contain personal data in clear.
type RateLimitRepo interface {
	// Hit counts one attempt against key in the window of length window
	// that contains now, and returns the count including this attempt and
	// the window's start. A window starts at the first hit after the
	// previous one ended. ErrInvalid for an empty or long key or a
	// non-positive window.
	Hit(ctx context.Context, key string, window time.Duration, now time.Time) (count int, start time.Time, err error)
	// Reset forgets key's counter. Resetting an unknown key is not an error.
	Reset(ctx context.Context, key string) error
	// Prune removes counters whose window started before before and
	// returns how many.
	Prune(ctx context.Context, before time.Time) (int, error)
}
