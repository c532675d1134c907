package ports

import (
	"context"
	"time"
)

// MailTokenPurpose is what a mailed token proves a mailbox for (AUTH-16,
// AUTH-17).
type MailTokenPurpose string

// Mail token purposes.
const (
	// MailTokenVerify creates (or first verifies) the account of a
	// sign-up: the row keeps the name and the pending password's hash
	// until the link is followed.
	MailTokenVerify MailTokenPurpose = "verify"
	// MailTokenReset sets a new password for an existing account.
	MailTokenReset MailTokenPurpose = "reset"
)

// ValidateMailTokenPurpose returns ErrInvalid for an unknown purpose.
func ValidateMailTokenPurpose(p MailTokenPurpose) error {
	if p != MailTokenVerify && p != MailTokenReset {
		return Invalid("purpose", "must be verify or reset")
	}
	return nil
}

// MailToken is a single-use secret mailed to an address to prove that
// whoever presents it reads that mailbox: a sign-up verification or a
// password reset. It is a global row (an account belongs to no shop);
// only the token's SHA-256 is kept.
type MailToken struct {
	TokenHash []byte // TokenHashSize bytes
	Purpose   MailTokenPurpose
	Email     string // normalised address the token was mailed to
	// UserID is the account a reset is for; zero for a sign-up, whose
	// account may not exist yet.
	UserID UserID
	// Name is the display name a sign-up asked for (may be empty).
	Name string
	// PasswordHash is the encoded hash (PasswordHasher) of the password a
	// sign-up chose. It lives only here until the mailbox is proven, and
	// is deleted with the row. Empty for a reset.
	PasswordHash string
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// Validate checks a mail token before it is stored; the e-mail must
// already be normalised.
func (m MailToken) Validate() error {
	switch {
	case len(m.TokenHash) != TokenHashSize:
		return Invalid("token hash", "must be a SHA-256 digest")
	case m.ExpiresAt.IsZero():
		return Invalid("expires at", "must be set")
	case len(m.PasswordHash) > 1024:
		return Invalid("password hash", "must be at most 1024 bytes")
	case m.Purpose == MailTokenReset && m.UserID.IsZero():
		return Invalid("user id", "must be set for a reset")
	case m.Purpose == MailTokenReset && m.PasswordHash != "":
		return Invalid("password hash", "must be empty for a reset")
	case m.Purpose == MailTokenVerify && m.PasswordHash == "":
		return Invalid("password hash", "must be set for a sign-up")
	}
	if err := ValidateMailTokenPurpose(m.Purpose); err != nil {
		return err
	}
	if err := ValidateEmail(m.Email); err != nil {
		return err
	}
	if m.Name == "" {
		return nil
	}
	return ValidateName("name", m.Name)
}

// MailTokenRepo keeps mail tokens (global rows).
type MailTokenRepo interface {
	// Create stores t (e-mail normalised, CreatedAt stamped) and returns
	// it. ErrInvalid (see MailToken.Validate); ErrConflict for a taken
	// hash; ErrNotFound if t.UserID is set and names no user.
	Create(ctx context.Context, t MailToken) (MailToken, error)
	// Consume deletes the token of purpose with tokenHash and returns it,
	// together with every other token of the same purpose for the same
	// e-mail address (one proof spends every link of its kind that was
	// mailed there), atomically: of two concurrent calls at most one
	// succeeds. ErrNotFound if there is no such token of that purpose, or
	// it expired at or before now.
	Consume(ctx context.Context, tokenHash []byte, purpose MailTokenPurpose, now time.Time) (MailToken, error)
	// DeleteExpired removes tokens that expired at or before now and
	// returns how many.
	DeleteExpired(ctx context.Context, now time.Time) (int, error)
}
