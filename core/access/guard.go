package access

import (
	"context"
	"fmt"

	"github.com/stockadehq/stockade/ports"
)

// Require is the guard. It returns the caller's scope when ctx carries
// one whose role holds perm, and otherwise fails closed: no scope (or a
// scope with no shop, or no user and no system name) is
// ports.ErrUnauthenticated; a role without perm, or a perm the policy does
// not know, is ports.ErrForbidden. A system scope holds every permission
// the policy knows. A capability link's scope holds none, whatever else
// it carries: its holder is not a member, and is refused with
// ports.ErrUnauthenticated (see RequireRecord).
func (p *Policy) Require(ctx context.Context, perm Permission) (Scope, error) {
	sc, ok := From(ctx)
	if ok && sc.Capability != nil {
		return Scope{}, fmt.Errorf("%s: a capability link is not a member's sign-in: %w", perm, ports.ErrUnauthenticated)
	}
	if !ok || sc.Shop.IsZero() || (sc.User.IsZero() && sc.System == "") {
		return Scope{}, fmt.Errorf("%s: no caller scope: %w", perm, ports.ErrUnauthenticated)
	}
	if _, known := p.matrix()[perm]; !known {
		return Scope{}, fmt.Errorf("%s: permission unknown to the policy: %w", perm, ports.ErrForbidden)
	}
	if sc.System != "" {
		return sc, nil
	}
	if !p.Allows(sc.Role, perm) {
		return Scope{}, fmt.Errorf("role %q lacks %s: %w", sc.Role, perm, ports.ErrForbidden)
	}
	return sc, nil
}

// RequireAll is Require for an action that needs every one of perms.
func (p *Policy) RequireAll(ctx context.Context, perms ...Permission) (Scope, error) {
	var sc Scope
	for _, perm := range perms {
		var err error
		if sc, err = p.Require(ctx, perm); err != nil {
			return Scope{}, err
		}
	}
	return sc, nil
}
