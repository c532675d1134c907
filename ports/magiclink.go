package ports

import (
	"context"
	"time"
)

// MagicLink is a single-use sign-in token bound to one e-mail address and
// one shop (AUTH-4). It is a tenant row; only the token's SHA-256 is kept.
type MagicLink struct {
	TokenHash  []byte // TokenHashSize bytes
	UserID     UserID
	Email      string // normalised address the link was sent to
	CreatedAt  time.Time
	ExpiresAt  time.Time
	ConsumedAt time.Time // zero until consumed
}

// MagicLinkRepo keeps the unit of work's shop's magic links.
type MagicLinkRepo interface {
	// Create stores l, stamping CreatedAt. ErrInvalid for a hash of the
	// wrong size, a zero user or expiry; ErrConflict for a taken hash;
	// ErrNotFound if the user is not a member of this shop. Ending the
	// membership deletes the member's links in that shop.
	Create(ctx context.Context, l MagicLink) (MagicLink, error)
	// Consume marks the link with tokenHash consumed at now and returns
	// it, atomically: of two concurrent calls at most one succeeds.
	// ErrNotFound if no such link exists in this shop, it was consumed
	// already, or it expired at or before now.
	Consume(ctx context.Context, tokenHash []byte, now time.Time) (MagicLink, error)
	// DeleteExpired removes links that expired before now and returns how
	// many.
	DeleteExpired(ctx context.Context, now time.Time) (int, error)
}
