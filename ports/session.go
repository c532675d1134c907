package ports

import (
	"context"
	"time"
)

// TokenHashSize is the length of every stored token hash: a SHA-256 digest
// of a 256-bit random token. Stores keep only this hash, so a leaked table
// yields no usable token.
const TokenHashSize = 32

// Session is a signed-in user's presence in one shop (AUTH-6, TEN-7). It is
// a tenant row: a session minted in one shop does not exist in another.
type Session struct {
	ID     SessionID
	UserID UserID
	// TokenHash is the SHA-256 of the session's secret token
	// (TokenHashSize bytes). The token itself is never stored.
	TokenHash []byte
	// Method is how the user signed in: "password", "magic_link", "oidc".
	Method     string
	UserAgent  string // as sent at sign-in, truncated to 512 bytes by the core
	IP         string // client address at sign-in
	CreatedAt  time.Time
	LastSeenAt time.Time // updated at most every few minutes (Touch)
	ExpiresAt  time.Time // absolute end, whatever the activity
	// Impersonation is set on a session an operator entered through an
	// impersonation of UserID (AUD-5); zero for the member's own sessions.
	// It must name an impersonation of this shop.
	Impersonation ImpersonationID
	// AAL is the session's authenticator assurance level: AAL1 when it
	// was signed in with one factor, AAL2 once a second factor was
	// checked (AUTH-13). Create stores 0 as AAL1.
	AAL int
	// ReauthenticatedAt is when the user last proved who they are in
	// this session (sign-in, step-up, re-authentication); sensitive
	// actions need it to be recent. Create sets it to CreatedAt.
	ReauthenticatedAt time.Time
}

// Validate checks a session before it is stored.
func (s Session) Validate() error {
	switch {
	case s.ID.IsZero():
		return Invalid("session id", "must be set")
	case s.UserID.IsZero():
		return Invalid("user id", "must be set")
	case len(s.TokenHash) != TokenHashSize:
		return Invalid("token hash", "must be a SHA-256 digest")
	case s.Method == "" || len(s.Method) > 32:
		return Invalid("method", "must be 1 to 32 bytes")
	case len(s.UserAgent) > 512:
		return Invalid("user agent", "must be at most 512 bytes")
	case len(s.IP) > 64:
		return Invalid("ip", "must be at most 64 bytes")
	case s.ExpiresAt.IsZero():
		return Invalid("expires at", "must be set")
	case s.AAL < 0 || s.AAL > AAL2:
		return Invalid("aal", "must be 1 or 2")
	}
	return nil
}

// SessionRepo keeps the sessions of the unit of work's shop. No method takes
// a shop ID: the shop is the transaction's, and another shop's session IDs
// answer ErrNotFound.
type SessionRepo interface {
	// Create stores s, stamping CreatedAt and LastSeenAt from the store's
	// clock, and returns the stored session. ErrInvalid (see
	// Session.Validate), ErrConflict for a taken ID, ErrNotFound if the
	// user is not a member of this shop or s.Impersonation names no
	// impersonation of this shop. Ending a membership deletes the
	// member's sessions in that shop.
	Create(ctx context.Context, s Session) (Session, error)
	// Get returns the session or ErrNotFound.
	Get(ctx context.Context, id SessionID) (Session, error)
	// ListByUser returns the user's sessions in this shop, newest first.
	ListByUser(ctx context.Context, user UserID) ([]Session, error)
	// Touch sets LastSeenAt to at. ErrNotFound for an unknown session.
	Touch(ctx context.Context, id SessionID, at time.Time) error
	// Rotate replaces the session's token hash (the old token stops
	// working at commit). ErrNotFound for an unknown session, ErrInvalid
	// for a hash of the wrong size.
	Rotate(ctx context.Context, id SessionID, tokenHash []byte) error
	// Reauthenticate records that the session's user proved who they are
	// at at, and sets the session's assurance level to aal (AAL1 or AAL2,
	// else ErrInvalid). ErrNotFound for an unknown session.
	Reauthenticate(ctx context.Context, id SessionID, aal int, at time.Time) error
	// Delete removes the session. ErrNotFound for an unknown session.
	Delete(ctx context.Context, id SessionID) error
	// DeleteByUser removes the user's sessions in this shop except the one
	// named by keep (zero keeps none) and returns how many it removed.
	DeleteByUser(ctx context.Context, user UserID, keep SessionID) (int, error)
	// DeleteExpired removes sessions whose ExpiresAt is before now, or
	// whose LastSeenAt is before idleBefore, and returns how many.
	DeleteExpired(ctx context.Context, now, idleBefore time.Time) (int, error)
}

// ResolvedSession is what authenticating one request needs: the session
// and its user's current role in the session's shop.
type ResolvedSession struct {
	Session Session
	Role    Role
	// ValidAfter is the user's UserRepo.SessionsValidAfter: a session
	// created before it no longer counts.
	ValidAfter time.Time
	// Impersonator is the operator behind an impersonation session
	// (Session.Impersonation set), zero otherwise.
	Impersonator OperatorID
	// TwoFactor is the shop's two-factor policy (AUTH-13), the zero
	// policy when none is set.
	TwoFactor TwoFactorPolicy
	// HasSecondFactor reports whether the session's user has a confirmed
	// second factor (AUTH-11).
	HasSecondFactor bool
}

// SessionResolver looks a session up for one request in as few database
// round trips as the store can manage (one for the stores in this module),
// together with what the second-factor checks need: the shop's two-factor
// policy and whether the user has a confirmed second factor.
// It runs under the same tenant boundary as InShop: a session of another
// shop is not found. It is an optional interface of a Store: without it,
// the core reads the same rows through a read-only InShop.
type SessionResolver interface {
	// ResolveSession returns the session and its user's role in shop. It
	// does not judge expiry or idleness: the caller compares ExpiresAt and
	// LastSeenAt with its clock. ErrNotFound if the session does not exist in shop or its
	// user is no longer a member of shop, and for an impersonation session
	// whose impersonation has ended or whose operator is disabled;
	// ErrInvalid for zero IDs. It is
	// read-only and may not be called inside a unit of work
	// (ErrNestedUnitOfWork).
	ResolveSession(ctx context.Context, shop ShopID, id SessionID) (ResolvedSession, error)
}
