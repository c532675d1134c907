package ports

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Assurance levels of a session (NIST SP 800-63B): AAL1 is one factor (a
// password, a mailed link, an identity provider), AAL2 adds a second
// factor the server checked itself (AUTH-11, AUTH-13).
const (
	AAL1 = 1
	AAL2 = 2
)

// MaxRecoveryCodes bounds how many recovery codes one owner holds.
const MaxRecoveryCodes = 16

// MaxSealedSecret bounds a sealed TOTP secret.
const MaxSealedSecret = 1024

// FactorOwner names whose second factor a row is: exactly one of a user
// or a platform operator (AUTH-11, AUTH-18). Users' and operators'
// factors live apart, as their identities do.
type FactorOwner struct {
	User     UserID
	Operator OperatorID
}

// UserFactors names the second factors of user.
func UserFactors(user UserID) FactorOwner { return FactorOwner{User: user} }

// OperatorFactors names the second factors of operator.
func OperatorFactors(op OperatorID) FactorOwner { return FactorOwner{Operator: op} }

// Validate returns ErrInvalid unless exactly one of User and Operator is
// set.
func (o FactorOwner) Validate() error {
	if o.User.IsZero() == o.Operator.IsZero() {
		return Invalid("factor owner", "must name exactly one user or operator")
	}
	return nil
}

// IsOperator reports whether the owner is an operator.
func (o FactorOwner) IsOperator() bool { return !o.Operator.IsZero() }

// String names the owner as audit events do: "user:<id>" or
// "operator:<id>".
func (o FactorOwner) String() string {
	if o.IsOperator() {
		return "operator:" + o.Operator.String()
	}
	return "user:" + o.User.String()
}

// TOTPFactor is an owner's time-based one-time password factor (RFC
// 6238). It is pending from enrolment until a first valid code confirms
// it; only a confirmed factor counts as a second factor.
type TOTPFactor struct {
	Owner FactorOwner
	// SealedSecret is the shared secret sealed by the caller under a
	// server key (1 to MaxSealedSecret bytes); the store never sees the
	// secret itself.
	SealedSecret []byte
	// LastStep is the last time step (Unix time / period) a code was
	// accepted for; a code of that step or an earlier one is refused, so
	// a code works once. Zero before the first use.
	LastStep    int64
	CreatedAt   time.Time // stamped by the store
	ConfirmedAt time.Time // zero while pending
}

// Confirmed reports whether the factor has been confirmed.
func (f TOTPFactor) Confirmed() bool { return !f.ConfirmedAt.IsZero() }

// Validate checks a factor before it is stored.
func (f TOTPFactor) Validate() error {
	if err := f.Owner.Validate(); err != nil {
		return err
	}
	switch {
	case len(f.SealedSecret) == 0 || len(f.SealedSecret) > MaxSealedSecret:
		return Invalid("sealed secret", "must be 1 to 1024 bytes")
	case f.LastStep < 0:
		return Invalid("last step", "must not be negative")
	}
	return nil
}

// RecoveryCode is one stored recovery code: the SHA-256 of a
// high-entropy code shown to its owner once (TokenHashSize bytes).
type RecoveryCode struct {
	Hash      []byte
	CreatedAt time.Time
	UsedAt    time.Time // zero while unused
}

// Used reports whether the code has been spent.
func (c RecoveryCode) Used() bool { return !c.UsedAt.IsZero() }

// SecondFactorRepo keeps users' and operators' second factors: global
// rows, outside every shop. Methods return ErrInvalid for an owner that
// fails FactorOwner.Validate. Stores stamp CreatedAt from their clock.
type SecondFactorRepo interface {
	// PutPendingTOTP stores f as the owner's pending TOTP factor
	// (ConfirmedAt and LastStep are ignored: a new factor is pending and
	// unused), replacing a pending one, and returns it as stored.
	// ErrConflict when the owner has a confirmed factor (disable it
	// first), ErrNotFound for an unknown owner, ErrInvalid (Validate).
	PutPendingTOTP(ctx context.Context, f TOTPFactor) (TOTPFactor, error)
	// TOTP returns the owner's factor, pending or confirmed, or
	// ErrNotFound.
	TOTP(ctx context.Context, owner FactorOwner) (TOTPFactor, error)
	// ConfirmTOTP confirms the owner's pending factor at at, recording
	// step as its last used step, and returns it. ErrNotFound when the
	// owner has no factor, ErrConflict when it is confirmed already.
	ConfirmTOTP(ctx context.Context, owner FactorOwner, step int64, at time.Time) (TOTPFactor, error)
	// UseTOTPStep records that a code of step was accepted for the
	// owner's confirmed factor. It succeeds only when step is after the
	// factor's LastStep, in one statement, so two uses of one code (or of
	// an older one), concurrent or not, cannot both succeed: the loser
	// gets ErrConflict. ErrNotFound when the owner has no confirmed
	// factor.
	UseTOTPStep(ctx context.Context, owner FactorOwner, step int64) error
	// DeleteTOTP removes the owner's factor, pending or confirmed, and
	// every recovery code of the owner. ErrNotFound when there is no
	// factor.
	DeleteTOTP(ctx context.Context, owner FactorOwner) error
	// ReplaceRecoveryCodes removes the owner's recovery codes, used or
	// not, and stores hashes as new unused ones. ErrInvalid for more than
	// MaxRecoveryCodes hashes, one not TokenHashSize bytes, or a repeated
	// one; ErrNotFound for an unknown owner.
	ReplaceRecoveryCodes(ctx context.Context, owner FactorOwner, hashes [][]byte) error
	// RecoveryCodes returns the owner's recovery codes, used and unused,
	// in no particular order.
	RecoveryCodes(ctx context.Context, owner FactorOwner) ([]RecoveryCode, error)
	// UseRecoveryCode spends the owner's unused code whose hash is hash,
	// setting UsedAt to at, in one statement: two uses of one code cannot
	// both succeed. ErrNotFound when the owner has no unused code with
	// that hash.
	UseRecoveryCode(ctx context.Context, owner FactorOwner, hash []byte, at time.Time) error
}

// TwoFactorPolicy is a shop's rule on who must use a second factor
// (AUTH-13). The zero value requires nobody.
type TwoFactorPolicy struct {
	// AllMembers requires every member to use a second factor.
	AllMembers bool
	// Roles requires it of the members holding one of them (sorted,
	// distinct; nil when empty). Ignored when AllMembers.
	Roles     []Role
	UpdatedAt time.Time // stamped by the store; zero for a policy never set
	// UpdatedBy is the actor who set the policy, as audit events name
	// it (at most 200 bytes).
	UpdatedBy string
}

// Requires reports whether the policy requires a member with role to use
// a second factor.
func (p TwoFactorPolicy) Requires(role Role) bool {
	return p.AllMembers || slices.Contains(p.Roles, role)
}

// Enforcing reports whether the policy requires anybody.
func (p TwoFactorPolicy) Enforcing() bool { return p.AllMembers || len(p.Roles) > 0 }

// Normalize returns p with Roles sorted and distinct (nil when empty, and
// when AllMembers).
func (p TwoFactorPolicy) Normalize() TwoFactorPolicy {
	if p.AllMembers || len(p.Roles) == 0 {
		p.Roles = nil
		return p
	}
	roles := slices.Clone(p.Roles)
	slices.Sort(roles)
	p.Roles = slices.Compact(roles)
	return p
}

// Validate checks a policy before it is stored.
func (p TwoFactorPolicy) Validate() error {
	for _, r := range p.Roles {
		if err := ValidateRole(r); err != nil {
			return err
		}
	}
	if len(p.UpdatedBy) > 200 {
		return Invalid("updated by", "must be at most 200 bytes")
	}
	return nil
}

// EncodeRoles is the stored form of the policy's roles: the normalised
// roles joined by single spaces. For adapters.
func (p TwoFactorPolicy) EncodeRoles() string {
	parts := make([]string, len(p.Normalize().Roles))
	for i, r := range p.Normalize().Roles {
		parts[i] = string(r)
	}
	return strings.Join(parts, " ")
}

// DecodePolicyRoles parses EncodeRoles' text: nil for "". For adapters.
func DecodePolicyRoles(s string) []Role {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil
	}
	out := make([]Role, len(fields))
	for i, f := range fields {
		out[i] = Role(f)
	}
	return out
}

// TwoFactorPolicyRepo keeps the unit of work's shop's two-factor policy.
// No method takes a shop ID.
type TwoFactorPolicyRepo interface {
	// Get returns the shop's policy: the zero policy (nobody required)
	// when none was ever set.
	Get(ctx context.Context) (TwoFactorPolicy, error)
	// Set replaces the shop's policy (normalised, UpdatedAt stamped) and
	// returns it as stored. ErrInvalid (Validate), ErrNotFound for a
	// shop that does not exist.
	Set(ctx context.Context, p TwoFactorPolicy) (TwoFactorPolicy, error)
}
