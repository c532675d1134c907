package ports

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// AuthMailID identifies a queued auth mail. Its text form is the mail's
// idempotency key at the e-mail provider.
type AuthMailID struct{ uuid.UUID }

// IsZero reports whether id is the nil UUID.
func (id AuthMailID) IsZero() bool { return id.UUID == uuid.Nil }

// NewAuthMailID returns a fresh UUIDv7 auth mail ID.
func NewAuthMailID() AuthMailID { return AuthMailID{newUUID()} }

// ParseAuthMailID parses the canonical text form of an auth mail ID.
func ParseAuthMailID(s string) (AuthMailID, error) {
	u, err := parseUUID("auth mail id", s)
	return AuthMailID{u}, err
}

// AuthMailKind says what an auth mail carries.
type AuthMailKind string

// The auth mail kinds.
const (
	AuthMailMagicLink     AuthMailKind = "magic_link"
	AuthMailInvitation    AuthMailKind = "invitation"
	AuthMailVerify        AuthMailKind = "verify"
	AuthMailReset         AuthMailKind = "reset"
	AuthMailOrgInvitation AuthMailKind = "org_invitation"
	// AuthMailRetentionWarning warns a cancelled shop's Owner that the
	// shop's data will be deleted (LIFE-2).
	AuthMailRetentionWarning AuthMailKind = "retention_warning"
)

// ValidateAuthMailKind checks k is one of the kinds.
func ValidateAuthMailKind(k AuthMailKind) error {
	switch k {
	case AuthMailMagicLink, AuthMailInvitation, AuthMailVerify, AuthMailReset, AuthMailOrgInvitation, AuthMailRetentionWarning:
		return nil
	}
	return Invalid("kind", "not an auth mail kind")
}

// AuthMailState is where an auth mail is in its life: queued until a
// worker claims it (sending), then sent when the provider accepted it or
// dead when its attempts are used up or the provider refused it for good.
// A mail that ended (sent or dead) has no body any more.
type AuthMailState string

// The auth mail states.
const (
	AuthMailQueued  AuthMailState = "queued"
	AuthMailSending AuthMailState = "sending"
	AuthMailSent    AuthMailState = "sent"
	AuthMailDead    AuthMailState = "dead"
)

// MaxAuthMailSealed bounds a sealed body.
const MaxAuthMailSealed = 64 << 10

// AuthMail is one e-mail of the authentication flows (a sign-in link, an
// invitation, a mailbox proof) in the auth mail outbox: enqueued in the
// unit of work that mints the token it carries, delivered by a worker.
// The body is sealed by core before it reaches the store, so a stored row
// holds no usable token; the envelope (To, Subject) is in clear.
type AuthMail struct {
	ID AuthMailID
	// ShopID is the shop of the unit of work that enqueued it; zero for
	// mail enqueued in a Global unit of work. Set by the store.
	ShopID  ShopID
	Kind    AuthMailKind
	To      string // a normalised e-mail address
	Subject string // one line
	// Sealed is the body as core sealed it; nil once the mail ended.
	Sealed []byte
	State  AuthMailState
	// Attempts counts claims so far, including the one running.
	Attempts    int
	MaxAttempts int       // 0 at Enqueue means DefaultMaxAttempts
	RunAt       time.Time // not claimed before; zero at Enqueue means now
	LockedUntil time.Time // lease of the running attempt; zero unless sending
	LastError   string    // the last failure, at most 1000 bytes
	ProviderID  string    // the provider's message ID once sent
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Validate checks a mail before it is enqueued: ID, kind, recipient,
// subject (one non-empty line of UTF-8, at most 998 bytes), a sealed body
// of 1 byte to MaxAuthMailSealed, attempts 0 to 1000.
func (m AuthMail) Validate() error {
	if m.ID.IsZero() {
		return Invalid("id", "must be set")
	}
	if err := ValidateAuthMailKind(m.Kind); err != nil {
		return err
	}
	if err := ValidateEmail(m.To); err != nil {
		return err
	}
	if strings.TrimSpace(m.Subject) == "" || strings.ContainsAny(m.Subject, "\r\n\x00") || !utf8.ValidString(m.Subject) {
		return Invalid("subject", "must be one non-empty line of UTF-8 text")
	}
	if len(m.Subject) > maxHeaderLine {
		return Invalid("subject", "must be at most 998 bytes")
	}
	if len(m.Sealed) == 0 || len(m.Sealed) > MaxAuthMailSealed {
		return Invalid("sealed", "must be 1 byte to 64 KiB")
	}
	if m.MaxAttempts < 0 || m.MaxAttempts > 1000 {
		return Invalid("max_attempts", "must be 0 to 1000")
	}
	return nil
}

// AuthMailQueue enqueues auth mail in the unit of work it belongs to
// (ShopTx.AuthMail, GlobalTx.AuthMail): the mail commits with the token it
// carries, and a rolled-back unit of work sends nothing.
type AuthMailQueue interface {
	// Enqueue stores m as queued (State, Attempts, LockedUntil, LastError,
	// ProviderID are ignored; ShopID is the unit of work's; MaxAttempts 0
	// becomes DefaultMaxAttempts; a zero RunAt becomes the store's now)
	// and returns it as stored. ErrInvalid for a malformed mail,
	// ErrConflict for a taken ID.
	Enqueue(ctx context.Context, m AuthMail) (AuthMail, error)
}

// AuthMailOutbox is the worker's side of the auth mail outbox, across
// shops: a maintenance path (TEN-1) implemented by the store itself. Every
// method that ends an attempt is fenced by the attempt number: ErrNotFound
// unless the mail is sending that attempt, so a worker whose lease ran
// out cannot overwrite a newer attempt's outcome. Safe for concurrent use
// by several workers and processes: a mail is handed to at most one
// claimer per lease.
type AuthMailOutbox interface {
	// ClaimAuthMail marks up to limit due mails sending and returns them
	// with Attempts incremented and LockedUntil = now+lease, oldest RunAt
	// first. Due means queued with RunAt at or before now, or sending with
	// LockedUntil at or before now and attempts left (a dead worker's
	// lease ran out: delivery is at least once). A sending mail whose
	// lease ran out on its last attempt becomes dead ("lease expired"),
	// its body wiped. limit is 1 to 1000 and lease positive and at most
	// 24h, or ErrInvalid.
	ClaimAuthMail(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]AuthMail, error)
	// MarkAuthMailSent ends attempt of the mail m names (its ID, ShopID
	// and Attempts): state sent, ProviderID, body wiped. It returns the
	// mail as stored.
	MarkAuthMailSent(ctx context.Context, m AuthMail, providerID string) (AuthMail, error)
	// FailAuthMail records a failed attempt of m: queued again to run at
	// retryAt, or dead (body wiped) when dead is true or the attempts are
	// used up. It returns the mail as stored.
	FailAuthMail(ctx context.Context, m AuthMail, reason string, retryAt time.Time, dead bool) (AuthMail, error)
	// DeleteEndedAuthMail removes sent and dead mail last updated before
	// before, of every shop and none, and returns how many.
	DeleteEndedAuthMail(ctx context.Context, before time.Time) (int, error)
}
