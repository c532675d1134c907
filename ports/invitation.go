package ports

import (
	"context"
	"time"
)

// Invitation asks the holder of an e-mail address to join a shop with a
// role (TEN-9). It is a tenant row. The token that accepts it is sent by
// mail and never stored: only its SHA-256 is kept. An invitation is
// pending until it is accepted, revoked or expires; accepting it is
// single-use.
type Invitation struct {
	ID         InvitationID
	TokenHash  []byte // TokenHashSize bytes
	Email      string // normalised address the invitation was sent to
	Role       Role   // the role the membership gets
	InvitedBy  UserID // zero when an operator (CLI) invited
	CreatedAt  time.Time
	ExpiresAt  time.Time
	AcceptedAt time.Time // zero until accepted
	AcceptedBy UserID    // zero until accepted
	RevokedAt  time.Time // zero unless revoked
}

// Pending reports whether the invitation can still be accepted at now.
func (i Invitation) Pending(now time.Time) bool {
	return i.AcceptedAt.IsZero() && i.RevokedAt.IsZero() && now.Before(i.ExpiresAt)
}

// Validate checks an invitation before it is stored; the e-mail must
// already be normalised.
func (i Invitation) Validate() error {
	if i.ID.IsZero() {
		return Invalid("id", "must be set")
	}
	if len(i.TokenHash) != TokenHashSize {
		return Invalid("token_hash", "must be a SHA-256")
	}
	if err := ValidateEmail(i.Email); err != nil {
		return err
	}
	if err := ValidateRole(i.Role); err != nil {
		return err
	}
	if i.ExpiresAt.IsZero() {
		return Invalid("expires_at", "must be set")
	}
	return nil
}

// InvitationRepo keeps the unit of work's shop's invitations. No method
// takes a shop ID: the shop is the transaction's.
type InvitationRepo interface {
	// Create stores inv (e-mail normalised, CreatedAt stamped; AcceptedAt,
	// AcceptedBy and RevokedAt are ignored) and returns the stored
	// invitation. ErrInvalid for a malformed invitation (see Validate);
	// ErrConflict for a taken ID or token hash; ErrNotFound if InvitedBy is
	// set and is not a user.
	Create(ctx context.Context, inv Invitation) (Invitation, error)
	// Get returns the invitation or ErrNotFound.
	Get(ctx context.Context, id InvitationID) (Invitation, error)
	// List returns the shop's invitations, newest first. With pendingAt
	// non-zero only those pending at that time are returned.
	List(ctx context.Context, pendingAt time.Time) ([]Invitation, error)
	// Accept marks the pending invitation with tokenHash accepted by user
	// at now and returns it, atomically: of two concurrent calls at most
	// one succeeds. ErrNotFound if no such invitation exists in this shop,
	// or it was accepted or revoked already, or expired at or before now;
	// ErrNotFound too if user does not exist. Accept does not create the
	// membership: the caller does that in the same unit of work.
	Accept(ctx context.Context, tokenHash []byte, user UserID, now time.Time) (Invitation, error)
	// Revoke withdraws a pending invitation at now. ErrNotFound if no such
	// invitation is pending at now.
	Revoke(ctx context.Context, id InvitationID, now time.Time) (Invitation, error)
	// DeleteExpired removes invitations that expired before now and were
	// never accepted, and returns how many.
	DeleteExpired(ctx context.Context, now time.Time) (int, error)
}
