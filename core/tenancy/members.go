package tenancy

import (
	"context"
	"errors"
	"fmt"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/events"
	"github.com/stockadehq/stockade/ports"
)

// Member is a membership with the member's account details.
type Member = ports.MemberAccount

// ListMembers returns the caller's shop's members (access.MembersRead),
// in order of joining: one read of the shop's memberships, then one of
// their accounts (UserRepo.GetMany, in chunks of ports.MaxBatch), however
// many members there are.
func (s *Service) ListMembers(ctx context.Context) ([]Member, error) {
	sc, err := s.policy.Require(ctx, access.MembersRead)
	if err != nil {
		return nil, err
	}
	var ms []ports.Membership
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		ms, err = tx.Memberships().List(ctx)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	var out []Member
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = ports.MemberAccounts(ctx, tx.Users(), ms)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return out, nil
}

// AddMember makes the user with email a member of the caller's shop with
// role, without an invitation: for system scopes (the CLI) and apps that
// vouch for the user themselves. It needs access.MembersManage, and
// access.MembersOwners to add an Owner. The membership, its
// "membership.added" audit event and its member.added webhooks commit
// together; hooks get member.added (via "direct") after the commit.
// ErrNotFound for an unknown user, ErrConflict for an existing member.
func (s *Service) AddMember(ctx context.Context, email string, role ports.Role) (ports.Membership, error) {
	if err := ports.ValidateRole(role); err != nil {
		return ports.Membership{}, err
	}
	sc, err := s.requireForRole(ctx, access.MembersManage, role)
	if err != nil {
		return ports.Membership{}, err
	}
	user, err := s.userByEmail(ctx, email)
	if err != nil {
		return ports.Membership{}, err
	}
	var m ports.Membership
	var ev events.Event
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		if m, err = tx.Memberships().Add(ctx, user.ID, role); err != nil {
			return err
		}
		if err := s.appendAudit(ctx, tx, sc, record{action: "membership.added", target: "user:" + user.ID.String(),
			after: map[string]string{"role": string(role)}}); err != nil {
			return err
		}
		ev, err = s.events.Record(ctx, tx, events.MemberAdded{User: user.ID.String(), Role: string(role), Via: "direct"})
		return err
	})
	if err != nil {
		return ports.Membership{}, fmt.Errorf("add member: %w", err)
	}
	s.events.After(ctx, ev)
	return m, nil
}

// ChangeRole sets a member's role in the caller's shop
// (access.MembersManage; making or unmaking an Owner also needs
// access.MembersOwners). The change and its "membership.role_changed"
// event commit together, with the member.role_changed webhooks; hooks get
// member.role_changed after the commit. The member's role is read on
// every request, so the change applies to their live sessions at once.
// ErrNotFound for a non-member, ErrLastOwner when it would demote the last
// Owner.
func (s *Service) ChangeRole(ctx context.Context, user ports.UserID, role ports.Role) (ports.Membership, error) {
	if err := ports.ValidateRole(role); err != nil {
		return ports.Membership{}, err
	}
	sc, err := s.policy.Require(ctx, access.MembersManage)
	if err != nil {
		return ports.Membership{}, err
	}
	var m ports.Membership
	var ev events.Event
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		before, err := tx.Memberships().Get(ctx, user)
		if err != nil {
			return err
		}
		if before.Role == ports.RoleOwner || role == ports.RoleOwner {
			if _, err := s.policy.Require(ctx, access.MembersOwners); err != nil {
				return err
			}
		}
		if m, err = tx.Memberships().SetRole(ctx, user, role); err != nil {
			return err
		}
		if err := s.appendAudit(ctx, tx, sc, record{action: "membership.role_changed", target: "user:" + user.String(),
			before: map[string]string{"role": string(before.Role)}, after: map[string]string{"role": string(role)}}); err != nil {
			return err
		}
		ev, err = s.events.Record(ctx, tx, events.MemberRoleChanged{User: user.String(), Role: string(role), PreviousRole: string(before.Role)})
		return err
	})
	if err != nil {
		return ports.Membership{}, fmt.Errorf("change role: %w", err)
	}
	s.events.After(ctx, ev)
	return m, nil
}

// RemoveMember ends a membership in the caller's shop, with the member's
// sessions and sign-in links there. A member may always leave
// (access.AccountSelf on themself); removing someone else needs
// access.MembersManage, and an Owner access.MembersOwners. The change, its
// "membership.removed" audit event and its member.removed webhooks commit
// together; hooks get member.removed after the commit. ErrNotFound for a
// non-member, ErrLastOwner for the last Owner.
func (s *Service) RemoveMember(ctx context.Context, user ports.UserID) error {
	sc, ok := access.From(ctx)
	perm := access.MembersManage
	if ok && sc.User == user && sc.Impersonator == "" && !sc.HQ {
		perm = access.AccountSelf
	}
	sc, err := s.policy.Require(ctx, perm)
	if err != nil {
		return err
	}
	var ev events.Event
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		before, err := tx.Memberships().Get(ctx, user)
		if err != nil {
			return err
		}
		if before.Role == ports.RoleOwner && perm != access.AccountSelf {
			if _, err := s.policy.Require(ctx, access.MembersOwners); err != nil {
				return err
			}
		}
		if err := tx.Memberships().Remove(ctx, user); err != nil {
			return err
		}
		if err := s.appendAudit(ctx, tx, sc, record{action: "membership.removed", target: "user:" + user.String(),
			before: map[string]string{"role": string(before.Role)}}); err != nil {
			return err
		}
		ev, err = s.events.Record(ctx, tx, events.MemberRemoved{User: user.String(), Role: string(before.Role), Left: perm == access.AccountSelf})
		return err
	})
	if err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	s.events.After(ctx, ev)
	return nil
}

// requireForRole is the guard for granting role: perm, and
// access.MembersOwners too when role is Owner.
func (s *Service) requireForRole(ctx context.Context, perm access.Permission, role ports.Role) (access.Scope, error) {
	if role == ports.RoleOwner {
		return s.policy.RequireAll(ctx, perm, access.MembersOwners)
	}
	return s.policy.Require(ctx, perm)
}

func (s *Service) userByEmail(ctx context.Context, email string) (ports.User, error) {
	var user ports.User
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		user, err = tx.Users().GetByEmail(ctx, email)
		return err
	}, ports.ReadOnly())
	if errors.Is(err, ports.ErrNotFound) {
		return ports.User{}, fmt.Errorf("no user with e-mail %s: %w", ports.NormalizeEmail(email), err)
	}
	if err != nil {
		return ports.User{}, fmt.Errorf("read user: %w", err)
	}
	return user, nil
}
