// Package scim holds the use cases of SCIM 2.0 provisioning per org
// (AUTH-14, RFC 7643/7644): an org owner's bearer tokens and group-to-role
// mappings, and the directory an identity provider keeps through the
// token — users (platform users found by e-mail) and groups whose members
// get memberships in the org's shops.
//
// Two kinds of caller reach it. An org owner, signed in on a shop of the
// org (an access.Scope, checked against the org role), manages tokens and
// mappings. An identity provider presents a token (Authenticate), which
// alone names the org: every directory use case takes that Caller and
// reads and writes only its org's rows, so an id of another org is
// ErrNotFound.
//
// Memberships follow the directory: an active user gets, in each shop a
// group of theirs is mapped to, the mapping's role (the strongest one when
// several apply). SCIM changes only memberships it granted (SCIMGrant) when
// groups change; deprovisioning a user (active false, or deleting them)
// removes every membership they hold in the org's shops and ends their
// sessions there, and nothing of theirs elsewhere. It never deletes the
// platform user. Each membership change commits with its audit event and
// webhook in its shop's unit of work (AUD-2).
package scim

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/core/publish"
	"github.com/stockadehq/stockade/events"
	"github.com/stockadehq/stockade/ports"
)

// TokenPrefix starts every SCIM bearer token, so that a leaked one is
// recognisable (secret scanners) and a token of another kind is refused
// without a query.
const TokenPrefix = "stk_scim_"

// Deps are the service's collaborators.
type Deps struct {
	Store ports.Store // required
	// Policy is the permission matrix the guard checks; nil is the
	// default.
	Policy *access.Policy
	Clock  ports.Clock  // default ports.SystemClock
	Logger *slog.Logger // default discards
	// Events publishes membership changes to hooks after they commit and
	// to the shop's webhook endpoints in their unit of work; nil is a
	// publisher without hooks.
	Events *publish.Publisher
}

// Service runs the SCIM use cases. It is safe for concurrent use.
type Service struct {
	store  ports.Store
	policy *access.Policy
	clock  ports.Clock
	log    *slog.Logger
	events *publish.Publisher
}

// New returns the service. ErrInvalid without a store.
func New(d Deps) (*Service, error) {
	if d.Store == nil {
		return nil, ports.Invalid("scim deps", "a store is required")
	}
	s := &Service{store: d.Store, policy: d.Policy, clock: d.Clock, log: d.Logger, events: d.Events}
	if s.clock == nil {
		s.clock = ports.SystemClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.events == nil {
		s.events = publish.New(publish.Deps{Clock: s.clock, Logger: s.log})
	}
	return s, nil
}

// Caller is an identity provider authenticated by an org's token.
type Caller struct {
	Org   ports.OrgID
	Token ports.SCIMTokenID
	// RequestID, IP and UserAgent are the request's, for the audit events
	// of the changes it makes.
	RequestID, IP, UserAgent string
}

// hashToken is the stored form of a token: SHA-256 of its text.
func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// newToken returns a fresh token: TokenPrefix and 256 random bits from
// crypto/rand, base64url.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// Authenticate finds the org of token, the bearer token a request
// presented. ErrUnauthenticated for anything but an unrevoked token of
// some org; the error says nothing of why.
func (s *Service) Authenticate(ctx context.Context, token string) (Caller, error) {
	refused := fmt.Errorf("scim: not a valid SCIM token: %w", ports.ErrUnauthenticated)
	if !strings.HasPrefix(token, TokenPrefix) || len(token) != len(TokenPrefix)+43 {
		return Caller{}, refused
	}
	hash := hashToken(token)
	var tok ports.SCIMToken
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		tok, err = tx.SCIM().TokenByHash(ctx, hash)
		return err
	}, ports.ReadOnly())
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return Caller{}, refused
	case err != nil:
		return Caller{}, fmt.Errorf("scim: authenticate: %w", err)
	}
	// The row was found by its hash; compare it again in constant time so
	// that the answer never depends on how much of a hash matched.
	if subtle.ConstantTimeCompare(tok.TokenHash, hash) != 1 || !tok.RevokedAt.IsZero() {
		return Caller{}, refused
	}
	return Caller{Org: tok.OrgID, Token: tok.ID}, nil
}

// scope is the access scope SCIM acts in when it changes shop's rows for
// c: a system scope named after the token, audited as
// "system:scim:<token id>".
func (c Caller) scope(shop ports.ShopID) access.Scope {
	return access.Scope{Shop: shop, Org: c.Org, System: "scim:" + c.Token.String(), RequestID: c.RequestID, IP: c.IP, UserAgent: c.UserAgent}
}

// roleRank orders roles for "the strongest role wins".
func roleRank(r ports.Role) int {
	if r == "" {
		return 0
	}
	return len(ports.DefaultRoles()) - slices.Index(ports.DefaultRoles(), r)
}

// actor says on whose behalf a reconciliation runs: the scope its audit
// events carry in each shop.
type actor func(shop ports.ShopID) access.Scope

// reconcile brings the memberships of the org's user id in line with the
// directory: with deprovision (or an inactive user) every membership in
// the org's shops goes, with the sessions there; otherwise each mapped
// shop gets the strongest mapped role, and memberships SCIM granted that
// no mapping supports any more go. A membership SCIM did not grant is left
// as it is unless the user is deprovisioned. Each shop's change commits
// with its audit event; the grant follows in the global unit of work (the
// changes are idempotent: a retry finishes what a failure left).
func (s *Service) reconcile(ctx context.Context, org ports.OrgID, id ports.SCIMUserID, deprovision bool, by actor) error {
	var (
		u        ports.SCIMUser
		groups   []ports.SCIMGroup
		mappings []ports.SCIMMapping
		grants   []ports.SCIMGrant
		shops    []ports.Shop
	)
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		if u, err = tx.SCIM().GetUser(ctx, org, id); err != nil {
			return err
		}
		if groups, err = tx.SCIM().UserGroups(ctx, org, id); err != nil {
			return err
		}
		if mappings, err = tx.SCIM().ListMappings(ctx, org); err != nil {
			return err
		}
		if grants, err = tx.SCIM().Grants(ctx, org, id); err != nil {
			return err
		}
		shops, err = tx.Shops().ListByOrg(ctx, org)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return fmt.Errorf("scim: read the directory: %w", err)
	}
	removeAll := deprovision || !u.Active
	want := map[ports.ShopID]ports.Role{}
	if !removeAll {
		in := map[ports.SCIMGroupID]bool{}
		for _, g := range groups {
			in[g.ID] = true
		}
		for _, m := range mappings {
			if in[m.GroupID] && roleRank(m.Role) > roleRank(want[m.ShopID]) {
				want[m.ShopID] = m.Role
			}
		}
	}
	granted := map[ports.ShopID]ports.Role{}
	for _, g := range grants {
		granted[g.ShopID] = g.Role
	}
	for _, shop := range shops {
		role, wanted := want[shop.ID]
		_, wasGranted := granted[shop.ID]
		if !wanted && !wasGranted && !removeAll {
			continue
		}
		keep, err := s.applyShop(ctx, shop.ID, u.UserID, role, wanted, wasGranted, removeAll, by(shop.ID))
		if err != nil {
			return fmt.Errorf("scim: shop %s: %w", shop.Slug, err)
		}
		err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
			if keep {
				return tx.SCIM().SetGrant(ctx, ports.SCIMGrant{OrgID: org, User: id, ShopID: shop.ID, Role: role})
			}
			if wasGranted {
				return tx.SCIM().DeleteGrant(ctx, org, id, shop.ID)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("scim: record the grant in %s: %w", shop.Slug, err)
		}
	}
	return nil
}

// applyShop changes user's membership in shop in one unit of work with
// its audit event and webhook, and reports whether SCIM now holds a grant
// there (it gave the membership, or changed one it gave).
func (s *Service) applyShop(ctx context.Context, shop ports.ShopID, user ports.UserID, role ports.Role, wanted, granted, removeAll bool, sc access.Scope) (bool, error) {
	var evs []events.Event
	keep := false
	err := s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		m, err := tx.Memberships().Get(ctx, user)
		member := err == nil
		if err != nil && !errors.Is(err, ports.ErrNotFound) {
			return err
		}
		target := "user:" + user.String()
		record := func(change audit.Change, payload events.Payload) error {
			if _, err := audit.AppendBy(ctx, tx, s.clock, sc, change); err != nil {
				return err
			}
			ev, err := s.events.Record(ctx, tx, payload)
			evs = append(evs, ev)
			return err
		}
		switch {
		case !wanted:
			if !member {
				return nil
			}
			if !granted && !removeAll {
				return nil // a membership SCIM did not give
			}
			if err := tx.Memberships().Remove(ctx, user); err != nil {
				return err
			}
			if _, err := tx.Sessions().DeleteByUser(ctx, user, ports.SessionID{}); err != nil {
				return err
			}
			return record(audit.Change{Action: "membership.removed", Target: target,
				Before: map[string]string{"role": string(m.Role)}, After: map[string]string{"via": "scim"}},
				events.MemberRemoved{User: user.String(), Role: string(m.Role)})
		case !member:
			if _, err := tx.Memberships().Add(ctx, user, role); err != nil {
				return err
			}
			keep = true
			return record(audit.Change{Action: "membership.added", Target: target, After: map[string]string{"role": string(role), "via": "scim"}},
				events.MemberAdded{User: user.String(), Role: string(role), Via: "scim"})
		case !granted:
			return nil // a membership SCIM did not give: left as it is
		case m.Role != role:
			if _, err := tx.Memberships().SetRole(ctx, user, role); err != nil {
				return err
			}
			keep = true
			return record(audit.Change{Action: "membership.role_changed", Target: target,
				Before: map[string]string{"role": string(m.Role)}, After: map[string]string{"role": string(role), "via": "scim"}},
				events.MemberRoleChanged{User: user.String(), Role: string(role), PreviousRole: string(m.Role)})
		default:
			keep = true
			return nil
		}
	})
	if err != nil {
		return false, err
	}
	s.events.After(ctx, evs...)
	return keep, nil
}
