package ports

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
)

// CapabilityID identifies a capability link (CAP-1). It is not a secret:
// the link is presented with its token, and the ID only names it for
// listing and revoking.
type CapabilityID struct{ uuid.UUID }

// IsZero reports whether id is the nil UUID.
func (id CapabilityID) IsZero() bool { return id.UUID == uuid.Nil }

// NewCapabilityID returns a fresh UUIDv7 capability ID.
func NewCapabilityID() CapabilityID { return CapabilityID{newUUID()} }

// ParseCapabilityID parses the canonical text form of a capability ID (see
// ParseShopID).
func ParseCapabilityID(s string) (CapabilityID, error) {
	u, err := parseUUID("capability id", s)
	return CapabilityID{u}, err
}

// Limits of a capability's fields.
const (
	// MaxRecordTypeLen bounds a record type ("quote", "invoice", "file").
	MaxRecordTypeLen = 32
	// MaxRecordIDLen bounds a record ID.
	MaxRecordIDLen = 128
	// MaxActionLen bounds one action name.
	MaxActionLen = 32
	// MaxCapabilityActions bounds how many actions one capability grants.
	MaxCapabilityActions = 16
)

// Capability is a public capability link (CAP-1): a bearer token that
// lets whoever holds it perform a fixed set of actions on one record of
// one shop until it expires or is revoked. It is a tenant row. The token
// is handed out once and never stored: only its SHA-256 is kept.
//
// Records belong to the embedding app (quotes, invoices, bookings, a
// customer portal) or to Stockade (files): the store knows them only by
// type and ID and never checks that the record exists.
type Capability struct {
	ID        CapabilityID
	TokenHash []byte // TokenHashSize bytes
	// RecordType names the kind of record (see ValidateRecordType).
	RecordType string
	// RecordID is the record's ID as the app spells it, opaque to
	// Stockade (see ValidateRecordID).
	RecordID string
	// Actions are what the holder may do to the record, sorted and
	// without duplicates (see NormalizeActions and ValidateAction).
	Actions   []string
	CreatedBy UserID // zero when a system actor (CLI, job) minted it
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt time.Time // zero unless revoked
}

// Active reports whether the capability can still be used at now: not
// revoked, and now before ExpiresAt.
func (c Capability) Active(now time.Time) bool {
	return c.RevokedAt.IsZero() && now.Before(c.ExpiresAt)
}

// Allows reports whether action is one of the capability's actions.
func (c Capability) Allows(action string) bool {
	return action != "" && slices.Contains(c.Actions, action)
}

// Validate checks a capability before it is stored; Actions must already
// be normalised (NormalizeActions).
func (c Capability) Validate() error {
	if c.ID.IsZero() {
		return Invalid("id", "must be set")
	}
	if len(c.TokenHash) != TokenHashSize {
		return Invalid("token_hash", "must be a SHA-256")
	}
	if err := ValidateRecordType(c.RecordType); err != nil {
		return err
	}
	if err := ValidateRecordID(c.RecordID); err != nil {
		return err
	}
	if len(c.Actions) == 0 || len(c.Actions) > MaxCapabilityActions {
		return Invalid("actions", "must name 1 to 16 actions")
	}
	for i, a := range c.Actions {
		if err := ValidateAction(a); err != nil {
			return err
		}
		if i > 0 && c.Actions[i-1] >= a {
			return Invalid("actions", "must be sorted and without duplicates")
		}
	}
	if c.ExpiresAt.IsZero() {
		return Invalid("expires_at", "must be set")
	}
	return nil
}

// ValidateRecordType checks a record type: 1 to MaxRecordTypeLen bytes of
// a-z, 0-9, '_', '-' and '.', starting with a letter ("quote",
// "invoice", "portal.customer").
func ValidateRecordType(t string) error {
	if !lowerName(t, MaxRecordTypeLen, true) {
		return Invalid("record_type", "must be 1 to 32 characters of a-z, 0-9, '_', '-', '.', starting with a letter")
	}
	return nil
}

// ValidateAction checks an action name: 1 to MaxActionLen bytes of a-z,
// 0-9, '_' and '-', starting with a letter ("view", "accept", "pay").
func ValidateAction(a string) error {
	if !lowerName(a, MaxActionLen, false) {
		return Invalid("actions", "each must be 1 to 32 characters of a-z, 0-9, '_', '-', starting with a letter")
	}
	return nil
}

func lowerName(s string, max int, dot bool) bool {
	if s == "" || len(s) > max || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '-':
		case c == '.' && dot:
		default:
			return false
		}
	}
	return true
}

// ValidateRecordID checks a record ID: 1 to MaxRecordIDLen bytes of
// A-Z, a-z, 0-9 and "-._~:@+" — a UUID, a number, "INV-2026-001",
// "cus_123" — so that it is one URL path segment as it is, with no
// escaping that two spellings could disagree on.
func ValidateRecordID(id string) error {
	if id == "" || len(id) > MaxRecordIDLen {
		return Invalid("record_id", "must be 1 to 128 characters")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == ':', c == '@', c == '+':
		default:
			return Invalid("record_id", "must be letters, digits and -._~:@+ only")
		}
	}
	return nil
}

// NormalizeActions returns actions sorted and without duplicates, as a
// new slice; it does not validate them.
func NormalizeActions(actions []string) []string {
	out := slices.Clone(actions)
	slices.Sort(out)
	return slices.Compact(out)
}

// CapabilityRepo keeps the unit of work's shop's capability links. No
// method takes a shop ID: the shop is the transaction's, so a token
// minted in one shop is unknown in every other.
type CapabilityRepo interface {
	// Create stores c (actions normalised, CreatedAt stamped, RevokedAt
	// ignored) and returns the stored capability. ErrInvalid for a
	// malformed capability (see Validate); ErrConflict for a taken ID or
	// token hash; ErrNotFound if CreatedBy is set and is not a user, or
	// the shop does not exist.
	Create(ctx context.Context, c Capability) (Capability, error)
	// Get returns the capability, active or not, or ErrNotFound.
	Get(ctx context.Context, id CapabilityID) (Capability, error)
	// Active returns the capability whose token hash is tokenHash if it is
	// active at now (not revoked, expiring after now). ErrNotFound — one
	// answer — for an unknown or malformed hash, a revoked capability, or
	// one that expired at or before now.
	Active(ctx context.Context, tokenHash []byte, now time.Time) (Capability, error)
	// ListByRecord returns the capabilities minted for one record, newest
	// first. With activeAt non-zero only those active at that time are
	// returned. An invalid record type or ID matches nothing.
	ListByRecord(ctx context.Context, recordType, recordID string, activeAt time.Time) ([]Capability, error)
	// Revoke ends an active capability at now and returns it.
	// ErrNotFound if no such capability is active at now.
	Revoke(ctx context.Context, id CapabilityID, now time.Time) (Capability, error)
	// RevokeRecord revokes at now every capability of one record active
	// at now (for an app deleting or closing the record) and returns how
	// many.
	RevokeRecord(ctx context.Context, recordType, recordID string, now time.Time) (int, error)
	// DeleteExpired removes capabilities that expired before now, revoked
	// or not, and returns how many.
	DeleteExpired(ctx context.Context, now time.Time) (int, error)
}
