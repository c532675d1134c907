// Package passwordpolicy decides whether a new password is acceptable, per
// NIST SP 800-63B (AUTH-3): a length between a configurable minimum and
// maximum, no composition rules, and not one of a shipped list of common
// passwords, nor the user's own e-mail address.
//
// Length is counted in Unicode code points of the password as given.
// SP 800-63B recommends normalising (NFKC/NFKD) before counting and
// hashing; core may not import golang.org/x/text (see internal/archtest),
// so no normalisation happens here, and a caller that normalises must do
// it before both Check and hashing.
package passwordpolicy

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/stockadehq/stockade/ports"
)

// Defaults and bounds for Policy. MinLength may not go below SP 800-63B's
// floor of 8; MaxLength must allow at least the 64 characters it requires
// and at most 256, so an accepted password is at most 1024 bytes of UTF-8,
// the password hasher's limit.
const (
	DefaultMinLength = 8
	DefaultMaxLength = 128
	FloorMinLength   = 8
	FloorMaxLength   = 64
	CeilMaxLength    = 256
)

// Policy configures a Checker. Lengths are in Unicode code points; a zero
// field takes its default.
type Policy struct {
	MinLength int // default DefaultMinLength; at least FloorMinLength
	MaxLength int // default DefaultMaxLength; in [FloorMaxLength, CeilMaxLength]
}

// Checker applies a Policy. It is immutable after New and safe for
// concurrent use.
type Checker struct {
	policy Policy
	common map[string]struct{} // lower-cased common passwords
}

// New returns a Checker for p with zero fields defaulted. It returns an
// error matching ports.ErrInvalid when a length is outside its bounds or
// MinLength exceeds MaxLength. It builds the common-password set once
// (about 10,000 entries), so make one Checker and share it.
func New(p Policy) (*Checker, error) {
	if p.MinLength == 0 {
		p.MinLength = DefaultMinLength
	}
	if p.MaxLength == 0 {
		p.MaxLength = DefaultMaxLength
	}
	var errs []error
	if p.MinLength < FloorMinLength {
		errs = append(errs, fmt.Errorf("min length %d below %d", p.MinLength, FloorMinLength))
	}
	if p.MaxLength < FloorMaxLength || p.MaxLength > CeilMaxLength {
		errs = append(errs, fmt.Errorf("max length %d outside [%d, %d]", p.MaxLength, FloorMaxLength, CeilMaxLength))
	}
	if p.MinLength > p.MaxLength {
		errs = append(errs, fmt.Errorf("min length %d above max length %d", p.MinLength, p.MaxLength))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("passwordpolicy: %w: %w", ports.ErrInvalid, err)
	}
	return &Checker{policy: p, common: commonSet()}, nil
}

// Policy returns the policy in force, defaults applied.
func (c *Checker) Policy() Policy { return c.policy }

// Check returns nil if password is acceptable for the user with the given
// e-mail address (which may be empty when unknown), or a
// *ports.InvalidError for field "password" whose reason can be shown to the
// user as is: the password is not valid UTF-8, is shorter than MinLength or
// longer than MaxLength code points, is on the common-password list, or
// equals the e-mail address or its local part. The last two comparisons
// ignore case. Nothing else is required: no mix of character classes.
func (c *Checker) Check(password, email string) error {
	if !utf8.ValidString(password) {
		return ports.Invalid("password", "must be valid UTF-8 text")
	}
	n := utf8.RuneCountInString(password)
	if n < c.policy.MinLength {
		return ports.Invalid("password", fmt.Sprintf("must be at least %d characters", c.policy.MinLength))
	}
	if n > c.policy.MaxLength {
		return ports.Invalid("password", fmt.Sprintf("must be at most %d characters", c.policy.MaxLength))
	}
	lower := strings.ToLower(password)
	if _, ok := c.common[lower]; ok {
		return ports.Invalid("password", "is too common; choose one that is harder to guess")
	}
	if sameAsEmail(lower, email) {
		return ports.Invalid("password", "must not be your e-mail address")
	}
	return nil
}

// sameAsEmail reports whether the lower-cased password equals email or the
// part of email before its last '@', ignoring case and surrounding space.
func sameAsEmail(lower, email string) bool {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return false
	}
	if lower == email {
		return true
	}
	at := strings.LastIndexByte(email, '@')
	return at > 0 && lower == email[:at]
}
