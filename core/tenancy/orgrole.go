package tenancy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// errNotOrgMember is the one answer for an address that holds no role in
// the org, whether or not it has an account: org role changes are no
// account oracle.
var errNotOrgMember = fmt.Errorf("no org member with that e-mail: %w", ports.ErrNotFound)

// OrgRoleInput offers a role in the caller's org to an e-mail address.
type OrgRoleInput struct {
	Email string
	Role  ports.OrgRole
	// LinkPrefix is the absolute URL the invitation token is appended to,
	// e.g. "https://acme.example.com/org/invitation?token=". The
	// HTTP layer builds it from configuration, never from the request's
	// Host.
	LinkPrefix string
}

// OfferOrgRole is how an org owner (access.OrgMembersManage) gives an org
// role: the role of someone who already holds one in the org changes at
// once (ErrLastOwner for the org's last owner; the same role again
// changes nothing), and anyone else — whether or not the address has an
// account — is sent an invitation to accept (see AcceptOrgInvitation): no
// one holds an org role they did not accept. It returns the invitation, or
// the zero invitation when the role changed directly. Both outcomes for an
// address outside the org are identical, so the answer is no account
// oracle. Calls by users are charged to the caller's and their address's
// counters (Config.OrgInvitesPerInviter, OrgInvitesPerIP; ErrRateLimited
// over a limit) before anything is looked up. Inviting an address with a
// pending invitation replaces it. The invitation commits with its mail
// (sealed, kind org_invitation: see core/authmail), which the auth mail
// worker delivers; a rolled-back invitation sends nothing. The change or
// the invitation is audited in the caller's shop's log after it commits
// ("org.role_changed", "org.invitation.created"). ErrInvalid for a bad
// address, role or link prefix.
func (s *Service) OfferOrgRole(ctx context.Context, in OrgRoleInput) (ports.OrgInvitation, error) {
	email := ports.NormalizeEmail(in.Email)
	if err := ports.ValidateEmail(email); err != nil {
		return ports.OrgInvitation{}, err
	}
	if err := ports.ValidateOrgRole(in.Role); err != nil {
		return ports.OrgInvitation{}, err
	}
	if !strings.HasPrefix(in.LinkPrefix, "https://") && !strings.HasPrefix(in.LinkPrefix, "http://") {
		return ports.OrgInvitation{}, ports.Invalid("link_prefix", "must be an absolute http(s) URL")
	}
	sc, err := s.policy.Require(ctx, access.ShopRead)
	if err != nil {
		return ports.OrgInvitation{}, err
	}
	if err := s.orgRole(ctx, sc, sc.Org, access.OrgMembersManage); err != nil {
		return ports.OrgInvitation{}, err
	}
	if sc.System == "" {
		err := s.auth.Throttle(ctx, sc.Shop, clientOf(sc), "org_invite", sc.User.String(), s.cfg.OrgInvitesPerInviter, s.cfg.OrgInvitesPerIP)
		if err != nil {
			return ports.OrgInvitation{}, err
		}
	}
	token, hash := newToken()
	now := s.clock.Now()
	var inv ports.OrgInvitation
	var org ports.Org
	var changed *roleChange
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		if changed, err = changeOrgRole(ctx, tx, sc.Org, email, in.Role); !errors.Is(err, errNotOrgMember) {
			return err
		}
		if org, err = tx.Orgs().Get(ctx, sc.Org); err != nil {
			return err
		}
		pending, err := tx.OrgInvitations().List(ctx, sc.Org, now)
		if err != nil {
			return err
		}
		for _, p := range pending {
			if p.Email == email {
				if _, err := tx.OrgInvitations().Revoke(ctx, sc.Org, p.ID, now); err != nil {
					return err
				}
			}
		}
		inv, err = tx.OrgInvitations().Create(ctx, ports.OrgInvitation{
			ID: ports.NewInvitationID(), OrgID: sc.Org, TokenHash: hash, Email: email, Role: in.Role,
			InvitedBy: sc.User, ExpiresAt: now.Add(s.cfg.InvitationTTL),
		})
		if err != nil {
			return err
		}
		return s.mail.Enqueue(ctx, tx.AuthMail(), ports.AuthMailOrgInvitation, s.orgInvitationMail(org.Name, in.LinkPrefix, inv, token))
	})
	if err != nil {
		return ports.OrgInvitation{}, fmt.Errorf("offer org role: %w", err)
	}
	if changed != nil {
		return ports.OrgInvitation{}, s.auditOrgRole(ctx, sc, *changed)
	}
	// Org rows are global, so their event cannot share the unit of work;
	// it follows in the caller's shop's log.
	if err := s.auditOrg(ctx, sc, record{action: "org.invitation.created", target: "org_invitation:" + inv.ID.String(),
		after: map[string]string{"org": sc.Org.String(), "email": email, "role": string(in.Role)}}); err != nil {
		return ports.OrgInvitation{}, fmt.Errorf("offer org role: %w", err)
	}
	return inv, nil
}

// SetOrgRole changes the org role of the member with email directly, or
// with role "" removes it (access.OrgMembersManage: org owners). For a
// user this reaches only those who already hold a role in the org: an
// address outside it is ErrNotFound, alike with or without an account,
// and is offered a role with OfferOrgRole instead. A system scope (the
// operator's CLI, `stockade org set-role`) may also give a role to any
// existing account without an invitation: the operator vouches for it
// (ErrNotFound for an unknown address). The change is audited in the
// caller's shop's log ("org.role_changed"). ErrLastOwner for the org's
// last owner.
func (s *Service) SetOrgRole(ctx context.Context, email string, role ports.OrgRole) error {
	sc, err := s.policy.Require(ctx, access.ShopRead)
	if err != nil {
		return err
	}
	if role != "" {
		if err := ports.ValidateOrgRole(role); err != nil {
			return err
		}
	}
	if err := s.orgRole(ctx, sc, sc.Org, access.OrgMembersManage); err != nil {
		return err
	}
	email = ports.NormalizeEmail(email)
	var changed *roleChange
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		changed, err = changeOrgRole(ctx, tx, sc.Org, email, role)
		if !errors.Is(err, errNotOrgMember) || sc.System == "" || role == "" {
			return err
		}
		user, err := tx.Users().GetByEmail(ctx, email)
		if err != nil {
			return fmt.Errorf("no user with e-mail %s: %w", email, err)
		}
		if _, err := tx.OrgMembers().Add(ctx, sc.Org, user.ID, role); err != nil {
			return err
		}
		changed = &roleChange{user: user.ID, after: role}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set org role: %w", err)
	}
	if changed == nil {
		return nil
	}
	return s.auditOrgRole(ctx, sc, *changed)
}

// roleChange is an org role that changed: from before ("" for none) to
// after ("" for removed).
type roleChange struct {
	user          ports.UserID
	before, after ports.OrgRole
}

// orgMembersTx is the part of a global unit of work changeOrgRole needs.
type orgMembersTx interface {
	Users() ports.UserRepo
	OrgMembers() ports.OrgMemberRepo
}

// changeOrgRole sets (or with role "" removes) the org role of the org
// member with email in tx. It answers errNotOrgMember when the address
// holds no role in org (with or without an account), and a nil change
// when the role is already role.
func changeOrgRole(ctx context.Context, tx orgMembersTx, org ports.OrgID, email string, role ports.OrgRole) (*roleChange, error) {
	user, err := tx.Users().GetByEmail(ctx, email)
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		return nil, err
	}
	// An unknown address asks for the zero user, so that both kinds of
	// outsider take the same path to the same answer.
	m, err := tx.OrgMembers().Get(ctx, org, user.ID)
	if errors.Is(err, ports.ErrNotFound) {
		return nil, errNotOrgMember
	} else if err != nil {
		return nil, err
	}
	if m.Role == role {
		return nil, nil
	}
	if err := tx.OrgMembers().Remove(ctx, org, m.UserID); err != nil {
		return nil, err
	}
	if role != "" {
		if _, err := tx.OrgMembers().Add(ctx, org, m.UserID, role); err != nil {
			return nil, err
		}
	}
	return &roleChange{user: m.UserID, before: m.Role, after: role}, nil
}

// auditOrgRole appends "org.role_changed" for c to the caller's shop's
// log.
func (s *Service) auditOrgRole(ctx context.Context, sc access.Scope, c roleChange) error {
	err := s.auditOrg(ctx, sc, record{action: "org.role_changed", target: "user:" + c.user.String(),
		before: roleOrNil(sc.Org, c.before), after: map[string]string{"org": sc.Org.String(), "role": string(c.after)}})
	if err != nil {
		return fmt.Errorf("set org role: %w", err)
	}
	return nil
}

func roleOrNil(org ports.OrgID, r ports.OrgRole) any {
	if r == "" {
		return nil
	}
	return map[string]string{"org": org.String(), "role": string(r)}
}

// auditOrg appends e to the log of the scope's shop in its own unit of
// work: org rows are global, so an org change cannot share the shop's
// unit of work; its event follows it.
func (s *Service) auditOrg(ctx context.Context, sc access.Scope, e record) error {
	return s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		return s.appendAudit(ctx, tx, sc, e)
	})
}
