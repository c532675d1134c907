package ports

import (
	"context"
	"time"
)

// OrgInvitation asks the holder of an e-mail address to take a role in an
// org (HQ, TEN-6) with their consent: an org role is never given to
// someone who did not accept it. It is a global, org-level row, reached
// through the global unit of work. Like a shop invitation (TEN-9) its
// token is mailed and never stored (only its SHA-256 is), it expires, and
// accepting it is single-use. It is pending until it is accepted,
// declined, revoked or expires.
type OrgInvitation struct {
	ID         InvitationID
	OrgID      OrgID
	TokenHash  []byte  // TokenHashSize bytes
	Email      string  // normalised address the invitation was sent to
	Role       OrgRole // the org role it gives
	InvitedBy  UserID  // zero when an operator (CLI) invited
	CreatedAt  time.Time
	ExpiresAt  time.Time
	AcceptedAt time.Time // zero until accepted
	AcceptedBy UserID    // zero until accepted
	DeclinedAt time.Time // zero unless the invitee declined
	RevokedAt  time.Time // zero unless withdrawn (or replaced) by the org
}

// Pending reports whether the invitation can still be accepted at now.
func (i OrgInvitation) Pending(now time.Time) bool {
	return i.AcceptedAt.IsZero() && i.DeclinedAt.IsZero() && i.RevokedAt.IsZero() && now.Before(i.ExpiresAt)
}

// Validate checks an org invitation before it is stored; the e-mail must
// already be normalised.
func (i OrgInvitation) Validate() error {
	if i.ID.IsZero() {
		return Invalid("id", "must be set")
	}
	if i.OrgID.IsZero() {
		return Invalid("org_id", "must be set")
	}
	if len(i.TokenHash) != TokenHashSize {
		return Invalid("token_hash", "must be a SHA-256")
	}
	if err := ValidateEmail(i.Email); err != nil {
		return err
	}
	if err := ValidateOrgRole(i.Role); err != nil {
		return err
	}
	if i.ExpiresAt.IsZero() {
		return Invalid("expires_at", "must be set")
	}
	return nil
}

// OrgInvitationRepo keeps org invitations. It is part of the global unit
// of work. Every method that finds an invitation by its token also takes
// the org: a token presented for another org matches nothing.
type OrgInvitationRepo interface {
	// Create stores inv (e-mail normalised, CreatedAt stamped; the
	// accepted, declined and revoked fields are ignored) and returns it
	// as stored. ErrInvalid for a malformed invitation (see Validate);
	// ErrConflict for a taken ID or token hash; ErrNotFound for an
	// unknown org, or an InvitedBy that is set and not a user.
	Create(ctx context.Context, inv OrgInvitation) (OrgInvitation, error)
	// Pending returns org's invitation with tokenHash if it is pending at
	// now, else ErrNotFound.
	Pending(ctx context.Context, org OrgID, tokenHash []byte, now time.Time) (OrgInvitation, error)
	// List returns org's invitations, newest first. With pendingAt
	// non-zero only those pending at that time are returned.
	List(ctx context.Context, org OrgID, pendingAt time.Time) ([]OrgInvitation, error)
	// Accept marks org's pending invitation with tokenHash accepted by
	// user at now and returns it, atomically: of two concurrent calls (or
	// an Accept racing a Decline or Revoke) at most one succeeds.
	// ErrNotFound if there is no such pending invitation, or user does
	// not exist. Accept does not create the org role: the caller does
	// that in the same unit of work.
	Accept(ctx context.Context, org OrgID, tokenHash []byte, user UserID, now time.Time) (OrgInvitation, error)
	// Decline marks org's pending invitation with tokenHash declined at
	// now (the invitee's answer). ErrNotFound if none is pending.
	Decline(ctx context.Context, org OrgID, tokenHash []byte, now time.Time) (OrgInvitation, error)
	// Revoke withdraws org's pending invitation id at now. ErrNotFound if
	// no such invitation is pending at now.
	Revoke(ctx context.Context, org OrgID, id InvitationID, now time.Time) (OrgInvitation, error)
	// DeleteExpired removes invitations of every org that expired before
	// now and were never accepted, and returns how many.
	DeleteExpired(ctx context.Context, now time.Time) (int, error)
}
