package access

import (
	"context"

	"github.com/stockadehq/stockade/ports"
)

// Scope is who is calling, in which shop, with which role. The HTTP layer
// builds it from an authenticated session (or from an HQ access check, an
// impersonation session, a job); use cases read it with From and never
// take the shop from the request.
type Scope struct {
	Shop ports.ShopID
	Org  ports.OrgID // the shop's org
	// User is the member acting (for HQ access: the org admin; under
	// impersonation: the impersonated user). Zero for a system scope.
	User    ports.UserID
	Role    ports.Role      // the role the guard checks
	Session ports.SessionID // the session behind the request, if any
	// Impersonator names the operator acting as User ("operator:<id>"),
	// or is empty (AUD-5).
	Impersonator string
	// HQ is set when User reached this shop as an org admin through HQ
	// access (TEN-6) rather than as a member.
	HQ bool
	// AAL is the assurance level of the session behind the request
	// (ports.AAL1, ports.AAL2; AUTH-13), zero when there is none. HQ access
	// checks it against the target shop's two-factor policy.
	AAL int
	// System names an internal actor with no user, such as "cli" or
	// "job:auth.sweep". A system scope is allowed every permission in its
	// shop: only code in the process can create one (System), never a
	// request.
	System string
	// Capability, when set, makes this the scope of a public capability
	// link's holder (CAP-1): no user, no role; Policy.Require refuses it
	// and only RequireRecord admits it (see WithCapability).
	Capability *Capability

	RequestID string
	IP        string
	UserAgent string
}

// Actor names the caller as audit events do: "user:<id>",
// "system:<name>", or "capability:<id>" for a capability link's holder.
func (s Scope) Actor() string {
	if s.Capability != nil {
		return "capability:" + s.Capability.ID.String()
	}
	if s.System != "" {
		return "system:" + s.System
	}
	return "user:" + s.User.String()
}

// Kind describes how the caller reached the shop: "member", "hq",
// "impersonation", "system" or "capability".
func (s Scope) Kind() string {
	switch {
	case s.Capability != nil:
		return "capability"
	case s.System != "":
		return "system"
	case s.Impersonator != "":
		return "impersonation"
	case s.HQ:
		return "hq"
	}
	return "member"
}

type scopeKey struct{}

// With returns ctx carrying sc.
func With(ctx context.Context, sc Scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, sc)
}

// From returns the scope ctx carries.
func From(ctx context.Context) (Scope, bool) {
	sc, ok := ctx.Value(scopeKey{}).(Scope)
	return sc, ok
}

// System returns ctx carrying a system scope for shop, named name (for the
// CLI, jobs and other in-process actors).
func System(ctx context.Context, shop ports.ShopID, org ports.OrgID, name string) context.Context {
	return With(ctx, Scope{Shop: shop, Org: org, System: name})
}
