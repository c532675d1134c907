package tenancy

import (
	"context"
	"errors"
	"fmt"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// errBadOrgInvitation is the one answer for a token that is malformed,
// unknown, used, declined, revoked, expired, another org's, or sent to
// another address than the signed-in account's.
var errBadOrgInvitation = fmt.Errorf("org invitation is invalid, used, declined, revoked, expired or not yours: %w", ports.ErrNotFound)

// AcceptOrgInvitation accepts the org invitation with token for the
// signed-in caller (access.AccountSelf, their own session: not under
// impersonation or HQ access) and gives them its org role. The caller
// must be signed in on a shop of the invitation's org, as the account of
// the address the invitation was mailed to: the token proves the mailbox,
// the session the account, and accepting is the invitee's consent. In one
// global unit of work the invitation is marked accepted (single-use) and
// the org role created; "org.role_changed" follows in the caller's shop's
// log. errBadOrgInvitation (ErrNotFound) for every token that does not
// qualify, ErrConflict if the caller already holds a role in the org.
func (s *Service) AcceptOrgInvitation(ctx context.Context, token string) (ports.OrgMember, error) {
	sc, err := s.policy.Require(ctx, access.AccountSelf)
	if err != nil {
		return ports.OrgMember{}, err
	}
	if sc.System != "" || sc.User.IsZero() || sc.Impersonator != "" || sc.HQ {
		return ports.OrgMember{}, fmt.Errorf("accept org invitation: only for the invitee themself: %w", ports.ErrForbidden)
	}
	hash, ok := parseToken(token)
	if !ok {
		return ports.OrgMember{}, fmt.Errorf("accept org invitation: %w", errBadOrgInvitation)
	}
	now := s.clock.Now()
	var m ports.OrgMember
	var inv ports.OrgInvitation
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		inv, err = tx.OrgInvitations().Pending(ctx, sc.Org, hash, now)
		if errors.Is(err, ports.ErrNotFound) {
			return errBadOrgInvitation
		} else if err != nil {
			return err
		}
		user, err := tx.Users().Get(ctx, sc.User)
		if err != nil {
			return err
		}
		if ports.NormalizeEmail(user.Email) != inv.Email {
			return errBadOrgInvitation
		}
		if _, err := tx.OrgInvitations().Accept(ctx, sc.Org, hash, sc.User, now); errors.Is(err, ports.ErrNotFound) {
			return errBadOrgInvitation
		} else if err != nil {
			return err
		}
		if _, err := tx.OrgMembers().Get(ctx, sc.Org, sc.User); err == nil {
			return fmt.Errorf("you already hold a role in this org: %w", ports.ErrConflict)
		}
		m, err = tx.OrgMembers().Add(ctx, sc.Org, sc.User, inv.Role)
		return err
	})
	if err != nil {
		return ports.OrgMember{}, fmt.Errorf("accept org invitation: %w", err)
	}
	err = s.auditOrg(ctx, sc, record{action: "org.role_changed", target: "user:" + sc.User.String(),
		after: map[string]string{"org": sc.Org.String(), "role": string(inv.Role), "invitation": inv.ID.String()}})
	if err != nil {
		return ports.OrgMember{}, fmt.Errorf("accept org invitation: %w", err)
	}
	return m, nil
}

// DeclineOrgInvitation is the invitee's no: the token alone (it proves
// the mailbox, and no account is needed) ends the pending invitation of
// the org of shop, the shop whose host it was presented on. No org role
// is created; "org.invitation.declined" is appended to shop's log.
// errBadOrgInvitation (ErrNotFound) for every token that does not
// qualify, including another org's.
func (s *Service) DeclineOrgInvitation(ctx context.Context, shop ports.ShopID, token string, c auth.Client) error {
	hash, ok := parseToken(token)
	if !ok {
		return fmt.Errorf("decline org invitation: %w", errBadOrgInvitation)
	}
	var inv ports.OrgInvitation
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		host, err := tx.Shops().Get(ctx, shop)
		if err != nil {
			return err
		}
		inv, err = tx.OrgInvitations().Decline(ctx, host.OrgID, hash, s.clock.Now())
		if errors.Is(err, ports.ErrNotFound) {
			return errBadOrgInvitation
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("decline org invitation: %w", err)
	}
	err = s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := audit.AppendAs(ctx, tx, s.clock, audit.By{
			Actor: "invitee:" + inv.Email, IP: c.IP, UserAgent: c.UserAgent, RequestID: c.RequestID,
		}, audit.Change{
			Action: "org.invitation.declined", Target: "org_invitation:" + inv.ID.String(),
			Before: map[string]string{"org": inv.OrgID.String(), "email": inv.Email, "role": string(inv.Role)},
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("decline org invitation: audit: %w", err)
	}
	return nil
}

// ListOrgInvitations returns the caller's org's pending invitations,
// newest first (access.OrgMembersManage).
func (s *Service) ListOrgInvitations(ctx context.Context) ([]ports.OrgInvitation, error) {
	sc, err := s.policy.Require(ctx, access.ShopRead)
	if err != nil {
		return nil, err
	}
	if err := s.orgRole(ctx, sc, sc.Org, access.OrgMembersManage); err != nil {
		return nil, err
	}
	var out []ports.OrgInvitation
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = tx.OrgInvitations().List(ctx, sc.Org, s.clock.Now())
		return err
	}, ports.ReadOnly())
	if err != nil {
		return nil, fmt.Errorf("list org invitations: %w", err)
	}
	return out, nil
}

// RevokeOrgInvitation withdraws a pending invitation of the caller's org
// (access.OrgMembersManage), audited in the caller's shop's log.
// ErrNotFound if it is not pending (or another org's).
func (s *Service) RevokeOrgInvitation(ctx context.Context, id ports.InvitationID) error {
	sc, err := s.policy.Require(ctx, access.ShopRead)
	if err != nil {
		return err
	}
	if err := s.orgRole(ctx, sc, sc.Org, access.OrgMembersManage); err != nil {
		return err
	}
	var inv ports.OrgInvitation
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		inv, err = tx.OrgInvitations().Revoke(ctx, sc.Org, id, s.clock.Now())
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke org invitation: %w", err)
	}
	return s.auditOrg(ctx, sc, record{action: "org.invitation.revoked", target: "org_invitation:" + id.String(),
		before: map[string]string{"org": sc.Org.String(), "email": inv.Email, "role": string(inv.Role)}})
}

// orgInvitationMail is the message that carries inv's token.
func (s *Service) orgInvitationMail(orgName, linkPrefix string, inv ports.OrgInvitation, token string) ports.Mail {
	return ports.Mail{
		To:      inv.Email,
		Subject: "You are invited to help run " + orgName,
		Text: fmt.Sprintf("You have been invited to become %s of %s, with access to all its shops.\n\n"+
			"Sign in to one of its shops with this address, then accept (or decline) here:\n%s%s\n\n"+
			"Nothing changes unless you accept. The link works once and expires in %s. If you did not expect it, ignore this message.\n",
			inv.Role, orgName, linkPrefix, token, s.cfg.InvitationTTL),
	}
}

// clientOf is the scope's client, for rate limits and audit.
func clientOf(sc access.Scope) auth.Client {
	return auth.Client{IP: sc.IP, UserAgent: sc.UserAgent, RequestID: sc.RequestID}
}
