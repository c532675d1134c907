package ports

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// OperatorID identifies a platform operator (AUD-5).
type OperatorID struct{ uuid.UUID }

// OperatorSessionID identifies an operator's session. It is not a secret:
// a session is presented with its ID and a separate random token.
type OperatorSessionID struct{ uuid.UUID }

// ImpersonationID identifies one impersonation of a user by an operator.
type ImpersonationID struct{ uuid.UUID }

// IsZero reports whether id is the nil UUID.
func (id OperatorID) IsZero() bool { return id.UUID == uuid.Nil }

// IsZero reports whether id is the nil UUID.
func (id OperatorSessionID) IsZero() bool { return id.UUID == uuid.Nil }

// IsZero reports whether id is the nil UUID.
func (id ImpersonationID) IsZero() bool { return id.UUID == uuid.Nil }

// NewOperatorID returns a fresh UUIDv7 operator ID.
func NewOperatorID() OperatorID { return OperatorID{newUUID()} }

// NewOperatorSessionID returns a fresh UUIDv7 operator session ID.
func NewOperatorSessionID() OperatorSessionID { return OperatorSessionID{newUUID()} }

// NewImpersonationID returns a fresh UUIDv7 impersonation ID.
func NewImpersonationID() ImpersonationID { return ImpersonationID{newUUID()} }

// ParseOperatorID parses the canonical text form of an operator ID (see
// ParseShopID).
func ParseOperatorID(s string) (OperatorID, error) {
	u, err := parseUUID("operator id", s)
	return OperatorID{u}, err
}

// ParseImpersonationID parses the canonical text form of an impersonation
// ID (see ParseShopID).
func ParseImpersonationID(s string) (ImpersonationID, error) {
	u, err := parseUUID("impersonation id", s)
	return ImpersonationID{u}, err
}

// Operator is a platform operator: support staff of the platform, a
// global identity apart from users. An operator is a member of no shop and
// reaches a shop's data only by impersonating one of its members.
type Operator struct {
	ID         OperatorID
	Email      string // normalised (NormalizeEmail), unique among operators
	Name       string
	CreatedAt  time.Time
	DisabledAt time.Time // zero while the operator may sign in
}

// Disabled reports whether the operator has been disabled.
func (o Operator) Disabled() bool { return !o.DisabledAt.IsZero() }

// Validate checks an operator before it is stored.
func (o Operator) Validate() error {
	if o.ID.IsZero() {
		return Invalid("operator id", "must be set")
	}
	if err := ValidateEmail(o.Email); err != nil {
		return err
	}
	if len(o.Name) > 200 {
		return Invalid("name", "must be at most 200 bytes")
	}
	return nil
}

// OperatorSession is a signed-in operator's session on the platform's own
// host. It grants nothing in any shop.
type OperatorSession struct {
	ID         OperatorSessionID
	OperatorID OperatorID
	// TokenHash is the SHA-256 of the session's secret token
	// (TokenHashSize bytes); the token itself is never stored.
	TokenHash  []byte
	UserAgent  string // at most 512 bytes
	IP         string // at most 64 bytes
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute end
	// AAL is AAL2 once the operator's second factor was checked in this
	// session (AUTH-18); CreateSession stores 0 as AAL1.
	AAL int
}

// Validate checks an operator session before it is stored.
func (s OperatorSession) Validate() error {
	switch {
	case s.ID.IsZero():
		return Invalid("session id", "must be set")
	case s.OperatorID.IsZero():
		return Invalid("operator id", "must be set")
	case len(s.TokenHash) != TokenHashSize:
		return Invalid("token hash", "must be a SHA-256 digest")
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

// OperatorRepo keeps the platform operators, their password hashes and
// their sessions (global rows). Stores stamp CreatedAt (and a session's
// LastSeenAt) from their clock.
type OperatorRepo interface {
	// Create stores o (e-mail normalised) with its password hash and
	// returns it as stored. ErrInvalid for a malformed operator or an
	// empty or overlong (over 1024 bytes) hash, ErrConflict for a taken ID
	// or e-mail.
	Create(ctx context.Context, o Operator, passwordHash string) (Operator, error)
	// Get returns the operator, or ErrNotFound.
	Get(ctx context.Context, id OperatorID) (Operator, error)
	// Credentials returns the operator with email (normalised by the
	// store) and its password hash, or ErrNotFound.
	Credentials(ctx context.Context, email string) (Operator, string, error)
	// SetPasswordHash replaces the operator's password hash. ErrNotFound
	// for an unknown operator, ErrInvalid for an empty or overlong hash.
	SetPasswordHash(ctx context.Context, id OperatorID, hash string) error
	// List returns every operator, by e-mail.
	List(ctx context.Context) ([]Operator, error)
	// Disable sets DisabledAt to at (an already disabled operator keeps
	// its first DisabledAt), deletes the operator's sessions, and returns
	// the operator. ErrNotFound for an unknown operator. The impersonation
	// sessions the operator started stop resolving (see SessionResolver).
	Disable(ctx context.Context, id OperatorID, at time.Time) (Operator, error)

	// CreateSession stores s, stamping CreatedAt and LastSeenAt.
	// ErrInvalid (OperatorSession.Validate), ErrConflict for a taken ID,
	// ErrNotFound for an unknown operator.
	CreateSession(ctx context.Context, s OperatorSession) (OperatorSession, error)
	// Session returns the session and its operator in one read, or
	// ErrNotFound. It does not judge expiry or the operator's status.
	Session(ctx context.Context, id OperatorSessionID) (OperatorSession, Operator, error)
	// TouchSession sets LastSeenAt to at. ErrNotFound for an unknown
	// session.
	TouchSession(ctx context.Context, id OperatorSessionID, at time.Time) error
	// SetSessionAAL sets the session's assurance level (AAL1 or AAL2,
	// else ErrInvalid). ErrNotFound for an unknown session.
	SetSessionAAL(ctx context.Context, id OperatorSessionID, aal int) error
	// DeleteSession removes the session. ErrNotFound for an unknown
	// session.
	DeleteSession(ctx context.Context, id OperatorSessionID) error
	// DeleteSessionsOf removes every session of the operator and returns
	// how many.
	DeleteSessionsOf(ctx context.Context, id OperatorID) (int, error)
	// DeleteExpiredSessions removes sessions whose ExpiresAt is before
	// now or whose LastSeenAt is before idleBefore, and returns how many.
	DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) (int, error)
}

// MaxImpersonationReason bounds the written reason for an impersonation.
const MaxImpersonationReason = 500

// ValidateImpersonationReason checks the reason an operator gives for an
// impersonation: 1 to MaxImpersonationReason bytes of valid UTF-8 after
// trimming, with no control characters other than tab and line breaks.
func ValidateImpersonationReason(reason string) error {
	r := strings.TrimSpace(reason)
	switch {
	case r == "":
		return Invalid("reason", "is required: say why you need to act as this user")
	case len(r) > MaxImpersonationReason:
		return Invalid("reason", "must be at most 500 bytes")
	case !utf8.ValidString(r):
		return Invalid("reason", "must be valid UTF-8")
	}
	for _, c := range r {
		if unicode.IsControl(c) && c != '\n' && c != '\r' && c != '\t' {
			return Invalid("reason", "must not hold control characters")
		}
	}
	return nil
}

// Impersonation is one operator acting as one member of one shop (AUD-5):
// a tenant row of that shop. It starts with a one-time hand-off code that
// the shop's host exchanges for an impersonation session; the session ends
// at ExpiresAt at the latest and is never renewed.
type Impersonation struct {
	ID         ImpersonationID
	OperatorID OperatorID
	UserID     UserID
	Reason     string // ValidateImpersonationReason
	// CodeHash is the SHA-256 of the hand-off code (TokenHashSize bytes);
	// the store clears it when the code is redeemed.
	CodeHash      []byte
	CodeExpiresAt time.Time
	CreatedAt     time.Time // stamped by the store
	ExpiresAt     time.Time // absolute end of the impersonation
	RedeemedAt    time.Time // zero until the code is redeemed
	EndedAt       time.Time // zero until ended (exit, expiry noticed)
}

// Validate checks an impersonation before it is stored.
func (i Impersonation) Validate() error {
	switch {
	case i.ID.IsZero():
		return Invalid("impersonation id", "must be set")
	case i.OperatorID.IsZero():
		return Invalid("operator id", "must be set")
	case i.UserID.IsZero():
		return Invalid("user id", "must be set")
	case len(i.CodeHash) != TokenHashSize:
		return Invalid("code hash", "must be a SHA-256 digest")
	case i.CodeExpiresAt.IsZero() || i.ExpiresAt.IsZero():
		return Invalid("expires at", "must be set")
	}
	return ValidateImpersonationReason(i.Reason)
}

// ImpersonationRepo keeps the impersonations of the unit of work's shop.
// No method takes a shop ID; another shop's impersonations answer
// ErrNotFound.
type ImpersonationRepo interface {
	// Create stores i (reason trimmed), stamping CreatedAt, and returns it
	// as stored. ErrInvalid (Impersonation.Validate), ErrConflict for a
	// taken ID or code hash, ErrNotFound for an unknown operator or user.
	Create(ctx context.Context, i Impersonation) (Impersonation, error)
	// Get returns the impersonation, or ErrNotFound.
	Get(ctx context.Context, id ImpersonationID) (Impersonation, error)
	// Redeem spends the hand-off code whose SHA-256 is codeHash: once,
	// only before its CodeExpiresAt and the impersonation's ExpiresAt (at
	// now), and only while the impersonation has not ended. It sets
	// RedeemedAt to now, clears the code hash and returns the
	// impersonation. Two concurrent redemptions of one code cannot both
	// succeed. ErrNotFound otherwise (unknown, spent, expired, ended).
	Redeem(ctx context.Context, codeHash []byte, now time.Time) (Impersonation, error)
	// End sets EndedAt to at unless it is set already, and returns the
	// impersonation. ErrNotFound for an unknown impersonation.
	End(ctx context.Context, id ImpersonationID, at time.Time) (Impersonation, error)
	// List returns the shop's impersonations, newest first, at most limit
	// (1 to 1000; 0 means 100).
	List(ctx context.Context, limit int) ([]Impersonation, error)
}
