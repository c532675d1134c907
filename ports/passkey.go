package ports

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
)

// PasskeyID identifies a stored passkey (a WebAuthn credential record). It
// is not a secret.
type PasskeyID struct{ uuid.UUID }

// IsZero reports whether id is the nil UUID.
func (id PasskeyID) IsZero() bool { return id.UUID == uuid.Nil }

// NewPasskeyID returns a fresh UUIDv7 passkey ID.
func NewPasskeyID() PasskeyID { return PasskeyID{newUUID()} }

// ParsePasskeyID parses the canonical text form of a passkey ID.
func ParsePasskeyID(s string) (PasskeyID, error) {
	u, err := parseUUID("passkey id", s)
	return PasskeyID{u}, err
}

// Limits of a passkey's and a WebAuthn challenge's fields.
const (
	MaxCredentialIDLen  = 1023 // WebAuthn §5.1: at most 1023 bytes
	MaxPasskeyPublicKey = 2048 // a COSE key
	MaxPasskeyNameLen   = 100
	MaxRPIDLen          = 253 // a host name
	MaxChallengeData    = 8192
)

// WebAuthn ceremony purposes (WebAuthnChallenge.Purpose).
const (
	ChallengeRegister = "register" // registering a passkey, bound to a session
	ChallengeSignIn   = "signin"   // passwordless sign-in, no session yet
	ChallengeStepUp   = "step_up"  // a passkey as the session's second factor
)

// Passkey is a member's WebAuthn credential in one shop (AUTH-12). Its
// relying party is the shop's host, so it is a row of that shop (a tenant
// table) and is neither offered nor accepted on another shop.
type Passkey struct {
	ID     PasskeyID
	UserID UserID
	// CredentialID is the authenticator's credential ID (1 to
	// MaxCredentialIDLen bytes), distinct within the shop.
	CredentialID []byte
	// RPID is the relying party ID the credential was created for: the
	// shop's host.
	RPID string
	// PublicKey is the credential public key, COSE-encoded.
	PublicKey []byte
	// SignCount is the last signature counter the authenticator reported;
	// an assertion with a counter not above it is refused unless both are
	// zero (an authenticator without a counter).
	SignCount uint32
	// BackupEligible and BackupState are the authenticator data's BE and
	// BS flags: BE is fixed at registration and checked on every
	// assertion, BS follows the last assertion.
	BackupEligible bool
	BackupState    bool
	UserVerified   bool
	// AAGUID names the authenticator model (0 or 16 bytes).
	AAGUID            []byte
	Transports        []string
	AttestationFormat string
	// Name is the member's label for the passkey (1 to MaxPasskeyNameLen
	// bytes).
	Name       string
	CreatedAt  time.Time // stamped by the store
	LastUsedAt time.Time // zero before the first assertion
}

// Validate checks a passkey before it is stored.
func (k Passkey) Validate() error {
	switch {
	case k.ID.IsZero():
		return Invalid("passkey id", "must be set")
	case k.UserID.IsZero():
		return Invalid("user", "must be set")
	case len(k.CredentialID) == 0 || len(k.CredentialID) > MaxCredentialIDLen:
		return Invalid("credential id", "must be 1 to 1023 bytes")
	case len(k.PublicKey) == 0 || len(k.PublicKey) > MaxPasskeyPublicKey:
		return Invalid("public key", "must be 1 to 2048 bytes")
	case k.RPID == "" || len(k.RPID) > MaxRPIDLen:
		return Invalid("rp id", "must be 1 to 253 bytes")
	case len(k.AAGUID) != 0 && len(k.AAGUID) != 16:
		return Invalid("aaguid", "must be empty or 16 bytes")
	case len(k.AttestationFormat) > 32:
		return Invalid("attestation format", "must be at most 32 bytes")
	case len(strings.Join(k.Transports, " ")) > 200:
		return Invalid("transports", "must be at most 200 bytes")
	}
	return ValidatePasskeyName(k.Name)
}

// ValidatePasskeyName checks a passkey's label.
func ValidatePasskeyName(name string) error {
	if strings.TrimSpace(name) == "" || len(name) > MaxPasskeyNameLen {
		return Invalid("name", "must be 1 to 100 bytes")
	}
	return nil
}

// PasskeyUse is what one verified assertion changes on its passkey.
type PasskeyUse struct {
	SignCount    uint32
	BackupState  bool
	UserVerified bool
	At           time.Time
}

// WebAuthnChallenge is the server-side state of one WebAuthn ceremony
// between its begin and finish. The challenge itself is not stored: Hash
// is its SHA-256 (TokenHashSize bytes), and the finish step looks the
// ceremony up by the hash of the challenge the client signed.
type WebAuthnChallenge struct {
	Hash    []byte
	Purpose string // ChallengeRegister, ChallengeSignIn or ChallengeStepUp
	// UserID and SessionID bind a registration or step-up to the session
	// that began it; both are zero for a sign-in.
	UserID    UserID
	SessionID SessionID
	RPID      string
	// Data is the ceremony's other state (allowed credentials, user
	// verification), opaque to the store (at most MaxChallengeData bytes).
	Data      []byte
	ExpiresAt time.Time
	CreatedAt time.Time // stamped by the store
}

// Validate checks a challenge before it is stored.
func (c WebAuthnChallenge) Validate() error {
	switch {
	case len(c.Hash) != TokenHashSize:
		return Invalid("challenge hash", "must be 32 bytes")
	case c.Purpose != ChallengeRegister && c.Purpose != ChallengeSignIn && c.Purpose != ChallengeStepUp:
		return Invalid("purpose", "must be register, signin or step_up")
	case (c.Purpose == ChallengeSignIn) != c.SessionID.IsZero():
		return Invalid("session", "must be set except for a sign-in")
	case c.SessionID.IsZero() != c.UserID.IsZero():
		return Invalid("user", "must be set with the session")
	case c.RPID == "" || len(c.RPID) > MaxRPIDLen:
		return Invalid("rp id", "must be 1 to 253 bytes")
	case len(c.Data) > MaxChallengeData:
		return Invalid("data", "must be at most 8192 bytes")
	case c.ExpiresAt.IsZero():
		return Invalid("expires at", "must be set")
	}
	return nil
}

// PasskeyRepo keeps the unit of work's shop's passkeys and pending
// WebAuthn ceremonies (AUTH-12). No method takes a shop ID: another
// shop's passkeys and challenges are never seen.
type PasskeyRepo interface {
	// Create stores k (CreatedAt stamped, LastUsedAt zero) and returns it.
	// ErrInvalid (Validate), ErrConflict for a credential ID the shop
	// holds already, ErrNotFound for an unknown user.
	Create(ctx context.Context, k Passkey) (Passkey, error)
	// ByCredentialID returns the shop's passkey with that credential ID,
	// or ErrNotFound.
	ByCredentialID(ctx context.Context, credentialID []byte) (Passkey, error)
	// ListByUser returns user's passkeys in the shop, oldest first.
	ListByUser(ctx context.Context, user UserID) ([]Passkey, error)
	// Rename sets the name of user's passkey id and returns it.
	// ErrNotFound when the shop has no such passkey of user's;
	// ErrInvalid for a bad name.
	Rename(ctx context.Context, user UserID, id PasskeyID, name string) (Passkey, error)
	// Delete removes user's passkey id. ErrNotFound when the shop has no
	// such passkey of user's.
	Delete(ctx context.Context, user UserID, id PasskeyID) error
	// RecordUse stores a verified assertion's counter and flags on
	// passkey id, in one statement that succeeds only when u.SignCount is
	// above the stored counter, or both are zero: a lowered or repeated
	// counter (a cloned authenticator, a replayed assertion), concurrent
	// or not, gets ErrConflict. ErrNotFound for an unknown passkey.
	RecordUse(ctx context.Context, id PasskeyID, u PasskeyUse) error
	// PutChallenge stores a ceremony, and removes the shop's expired
	// ones. ErrInvalid (Validate), ErrConflict for a hash in use.
	PutChallenge(ctx context.Context, c WebAuthnChallenge) error
	// TakeChallenge removes and returns the ceremony whose challenge
	// hashes to hash, for purpose, in one statement: two finishes of one
	// ceremony cannot both get it. ErrNotFound when there is none, it is
	// for another purpose, or it expired at or before now.
	TakeChallenge(ctx context.Context, hash []byte, purpose string, now time.Time) (WebAuthnChallenge, error)
}
