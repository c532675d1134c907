package tenancy

import (
	"context"
	"fmt"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
)

// EnterHQ is HQ access (TEN-6): it runs serve with a ctx carrying a scope
// in which the caller — an org owner or admin signed in on any shop of the
// org — acts in the org's shop with slug, with access.HQRole. It is
// audit-first (AUD-3, audit.Before): an "hq.access" event naming the
// caller, their home shop and what (for example the route) is appended to
// the target shop's own log in its own unit of work before serve runs; if
// that append fails serve never runs. serve's outcome is appended after
// it. The caller's own org role is required: HQ access is not available
// under impersonation or from another HQ scope. ErrForbidden without the
// org role, ErrNotFound for a shop of another org, ErrForbidden for a
// suspended shop; otherwise serve's error (see audit.Before).
//
// HQ access follows the TARGET shop's two-factor policy (AUTH-13), not the
// policy of the shop the caller signed in on: when the target requires a
// second factor of HQRole (or of every member), a session that has not
// used one (scope AAL below AAL2) is refused with ErrHQSecondFactor, and
// the refusal is appended to the target's log.
func (s *Service) EnterHQ(ctx context.Context, slug, what string, serve func(ctx context.Context, shop ports.Shop) error) error {
	sc, err := s.policy.Require(ctx, access.ShopRead)
	if err != nil {
		return err
	}
	if sc.System != "" {
		return fmt.Errorf("hq access is for users: %w", ports.ErrForbidden)
	}
	if err := s.orgRole(ctx, sc, sc.Org, access.OrgHQAccess); err != nil {
		return err
	}
	target, err := s.orgShop(ctx, sc, slug)
	if err != nil {
		return err
	}
	if target.Status != ports.ShopActive {
		return fmt.Errorf("shop %q is suspended: %w", target.Slug, ports.ErrForbidden)
	}
	if err := s.hqAssurance(ctx, sc, target); err != nil {
		return err
	}
	ev, err := s.event(sc, record{action: "hq.access", target: "shop:" + target.ID.String(),
		after: map[string]string{"from_shop": sc.Shop.String(), "what": what}})
	if err != nil {
		return err
	}
	hq := access.Scope{
		Shop: target.ID, Org: target.OrgID, User: sc.User, Role: access.HQRole, Session: sc.Session, HQ: true,
		RequestID: sc.RequestID, IP: sc.IP, UserAgent: sc.UserAgent,
	}
	return audit.Before(ctx, s.store, s.clock, target.ID, ev, func(ctx context.Context) error {
		return serve(access.With(ctx, hq), target)
	})
}

// ErrHQSecondFactor refuses HQ access from a session that has not used a
// second factor to a shop whose policy requires one of HQ access's role.
// It matches ports.ErrForbidden.
var ErrHQSecondFactor = fmt.Errorf("this shop requires a second factor for HQ access: sign in with your second factor (or enrol one) first: %w", ports.ErrForbidden)

// hqAssurance checks the caller's session against target's two-factor
// policy. An AAL2 session satisfies any policy without reading it, so
// only an AAL1 caller pays for the read.
func (s *Service) hqAssurance(ctx context.Context, sc access.Scope, target ports.Shop) error {
	if sc.AAL >= ports.AAL2 {
		return nil
	}
	refused := false
	err := s.store.InShop(ctx, target.ID, func(ctx context.Context, tx ports.ShopTx) error {
		policy, err := tx.TwoFactorPolicy().Get(ctx)
		if err != nil || !policy.Requires(access.HQRole) {
			return err
		}
		refused = true
		return s.appendAudit(ctx, tx, sc, record{action: "hq.access", target: "shop:" + target.ID.String(), outcome: ports.OutcomeDenied,
			after: map[string]string{"from_shop": sc.Shop.String(), "reason": "second factor required"}})
	})
	switch {
	case err != nil:
		return fmt.Errorf("hq access: check the shop's two-factor policy: %w", err)
	case refused:
		return ErrHQSecondFactor
	}
	return nil
}

// OrgMemberInfo is an org role with the account's details.
type OrgMemberInfo struct {
	ports.OrgMember
	Email string
	Name  string
}

// ListOrgMembers lists the owners and admins of the caller's org
// (access.OrgHQAccess).
func (s *Service) ListOrgMembers(ctx context.Context) ([]OrgMemberInfo, error) {
	sc, err := s.policy.Require(ctx, access.ShopRead)
	if err != nil {
		return nil, err
	}
	if err := s.orgRole(ctx, sc, sc.Org, access.OrgHQAccess); err != nil {
		return nil, err
	}
	var out []OrgMemberInfo
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		ms, err := tx.OrgMembers().List(ctx, sc.Org)
		if err != nil {
			return err
		}
		ids := make([]ports.UserID, len(ms))
		for i, m := range ms {
			ids[i] = m.UserID
		}
		users, err := ports.UsersByID(ctx, tx.Users(), ids)
		if err != nil {
			return err
		}
		for _, m := range ms {
			u, ok := users[m.UserID]
			if !ok {
				return fmt.Errorf("user %s: %w", m.UserID, ports.ErrNotFound)
			}
			out = append(out, OrgMemberInfo{OrgMember: m, Email: u.Email, Name: u.Name})
		}
		return nil
	}, ports.ReadOnly())
	if err != nil {
		return nil, fmt.Errorf("list org members: %w", err)
	}
	return out, nil
}
