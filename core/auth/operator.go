package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
)

// ShopBySlug returns the shop with slug, or ErrNotFound.
func (s *Service) ShopBySlug(ctx context.Context, slug string) (ports.Shop, error) {
	var shop ports.Shop
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		shop, err = tx.Shops().GetBySlug(ctx, slug)
		return err
	}, ports.ReadOnly())
	if errors.Is(err, ports.ErrNotFound) {
		return ports.Shop{}, fmt.Errorf("no shop with slug %q: %w", slug, ports.ErrNotFound)
	}
	if err != nil {
		return ports.Shop{}, fmt.Errorf("shop %q: %w", slug, err)
	}
	return shop, nil
}

// AddMember makes user a member of the shop with slug, with role, on an
// operator's behalf, and audits it in the shop's log in the same unit of
// work, with member.added (via "operator") for the shop's webhooks and,
// after the commit, its hooks. ErrNotFound for an unknown shop or user,
// ErrConflict if already a member. (Membership management proper belongs
// to core/tenancy; this is the bootstrap path the CLI needs.)
func (s *Service) AddMember(ctx context.Context, slug string, user ports.UserID, role ports.Role, operator string) (ports.Shop, error) {
	shop, err := s.ShopBySlug(ctx, slug)
	if err != nil {
		return ports.Shop{}, err
	}
	var ev published
	err = s.store.InShop(ctx, shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		if _, err := tx.Memberships().Add(ctx, user, role); err != nil {
			return err
		}
		if err := s.appendAudit(ctx, tx, Client{}, event{actor: operator, action: "membership.added", target: "user:" + user.String(), outcome: ports.OutcomeSuccess, after: map[string]string{"role": string(role)}}); err != nil {
			return err
		}
		return s.memberAdded(ctx, tx, &ev, user, role)
	})
	if err != nil {
		return ports.Shop{}, fmt.Errorf("add member: %w", err)
	}
	s.events.After(ctx, ev)
	return shop, nil
}

// UserByEmail returns the user with email, or ErrNotFound; for operators.
func (s *Service) UserByEmail(ctx context.Context, email string) (ports.User, error) {
	var user ports.User
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		user, err = tx.Users().GetByEmail(ctx, email)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return ports.User{}, fmt.Errorf("user %s: %w", ports.NormalizeEmail(email), err)
	}
	return user, nil
}

// ActionOperatorMembersRead is appended, as "attempted" and then with its
// outcome, when an operator reads a shop's member list
// (ShopMembersForOperator).
const ActionOperatorMembersRead = "operator.members_read"

// ShopMember is a member of a shop with their account's name and e-mail
// address, as an operator sees it.
type ShopMember = ports.MemberAccount

// ShopMembers is a shop's member list as an operator reads it: the
// first members by joining, at most the limit asked for, and Total, how
// many members the shop has.
type ShopMembers struct {
	Shop    ports.Shop
	Members []ShopMember
	Total   int
}

// ShopMembersForOperator returns the members of the shop with slug, in
// order of joining, at most limit of them (limit ≤ 0 lists none but
// still counts them), to the operator whose cookie is operatorCookie. Its
// guard is the operator session, as StartImpersonation's:
// ErrUnauthenticated without a valid one, ErrForbidden for one that has
// not used the operator's second factor (AUTH-18). Reading a shop's
// people from outside its membership is an operator action, so it is
// audit-first (AUD-3, audit.Before): an "operator.members_read" event with
// outcome "attempted", the operator as actor and the shop as target, is
// appended to the shop's log before the memberships are read, then the
// outcome; the shop's access review lists both. The read is one query of
// the memberships and one batch read of the accounts listed
// (ports.UsersByID), whatever the count. ErrNotFound for an unknown shop.
func (s *Service) ShopMembersForOperator(ctx context.Context, operatorCookie, slug string, limit int, c Client) (ShopMembers, error) {
	op, err := s.AuthenticateOperator(ctx, operatorCookie)
	if err != nil {
		return ShopMembers{}, err
	}
	if op.AAL < ports.AAL2 {
		return ShopMembers{}, ErrOperatorEnrolRequired
	}
	c = c.clean()
	shop, err := s.ShopBySlug(ctx, strings.ToLower(strings.TrimSpace(slug)))
	if err != nil {
		return ShopMembers{}, err
	}
	limit = max(limit, 0)
	after, err := json.Marshal(map[string]string{"limit": strconv.Itoa(limit)})
	if err != nil {
		return ShopMembers{}, err
	}
	attempted := ports.AuditEvent{
		Actor: op.Actor(), Action: ActionOperatorMembersRead, Target: "shop:" + shop.ID.String(), After: after,
		IP: c.IP, UserAgent: c.UserAgent, RequestID: c.RequestID,
	}
	out := ShopMembers{Shop: shop}
	var ms []ports.Membership
	err = audit.Before(ctx, s.store, s.clock, shop.ID, attempted, func(ctx context.Context) error {
		err := s.store.InShop(ctx, shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
			var err error
			ms, err = tx.Memberships().List(ctx)
			return err
		}, ports.ReadOnly())
		if err != nil {
			return err
		}
		out.Total = len(ms)
		return s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
			var err error
			out.Members, err = ports.MemberAccounts(ctx, tx.Users(), ms[:min(len(ms), limit)])
			return err
		}, ports.ReadOnly())
	})
	if err != nil {
		return ShopMembers{}, fmt.Errorf("members of shop %q: %w", shop.Slug, err)
	}
	return out, nil
}
