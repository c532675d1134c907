package access

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// Capability is what a public capability link lets its holder do (CAP-1):
// the actions on one record of one shop. A scope carrying one is not a
// member: every Policy.Require refuses it, and only RequireRecord, for
// exactly that record and one of those actions, lets it through.
type Capability struct {
	ID         ports.CapabilityID
	Shop       ports.ShopID // the shop that minted it; must be the scope's
	RecordType string
	RecordID   string
	Actions    []string
	ExpiresAt  time.Time
}

// ErrNoCapability is the one answer to every refused use of a capability
// link — unknown, tampered, expired or revoked token, another shop's
// host, another record, another action — so that a refusal tells the
// holder nothing about which. It matches ports.ErrNotFound.
var ErrNoCapability = fmt.Errorf("this link is invalid, has expired or was revoked, or does not reach this: %w", ports.ErrNotFound)

// WithCapability returns ctx carrying a capability scope: the shop of c,
// no user, no role, and a copy of c. The HTTP layer adds the request's
// org, ID and client to the returned scope as it does for members.
func WithCapability(ctx context.Context, c Capability) context.Context {
	return With(ctx, CapabilityScope(c))
}

// CapabilityScope returns the scope of a capability link's holder (see
// WithCapability).
func CapabilityScope(c Capability) Scope {
	c.Actions = slices.Clone(c.Actions)
	return Scope{Shop: c.Shop, Capability: &c}
}

// RequireRecord is the guard of a use case reached through a capability
// link. It returns the caller's scope when ctx carries a capability scope
// whose capability was minted in the scope's shop for exactly the record
// (recordType, recordID) and grants action; anything else — no scope, a
// member's or system scope, a capability for another shop, another record
// (of this type or another), or without action — fails closed with
// ErrNoCapability. Expiry and revocation are checked when the token is
// resolved, at the start of the request.
func RequireRecord(ctx context.Context, recordType, recordID, action string) (Scope, error) {
	sc, ok := From(ctx)
	if !ok || sc.Capability == nil {
		return Scope{}, ErrNoCapability
	}
	c := sc.Capability
	switch {
	case !sc.User.IsZero(), sc.System != "", sc.Impersonator != "", sc.HQ, sc.Role != "":
		// A capability scope mixed with a member's or system's is not
		// one this package makes: refuse rather than guess.
		return Scope{}, ErrNoCapability
	case sc.Shop.IsZero(), c.Shop != sc.Shop, c.ID.IsZero():
		return Scope{}, ErrNoCapability
	case recordType == "" || recordID == "" || action == "":
		return Scope{}, ErrNoCapability
	case c.RecordType != recordType, c.RecordID != recordID, !slices.Contains(c.Actions, action):
		return Scope{}, ErrNoCapability
	}
	return sc, nil
}
