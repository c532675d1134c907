package tenancy

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// CheckNewOrg validates in as CreateOrg would, without writing anything,
// and returns the slug CreateOrg would give the first shop. It lets a
// caller refuse a bad or taken shop address before it spends something
// it cannot get back (the sign-up page checks the shop before it consumes
// the mailed verification token). The caller needs the scope CreateOrg
// needs (a system scope, or a signed-in member with access.AccountSelf).
// ErrInvalid for a bad or reserved slug or a bad name, ErrConflict for a
// slug another shop holds. The answer is advice: a shop created between
// this check and CreateOrg still makes CreateOrg answer ErrConflict.
func (s *Service) CheckNewOrg(ctx context.Context, in NewOrg) (string, error) {
	sc, ok := access.From(ctx)
	switch {
	case ok && sc.System != "":
	case ok && !sc.User.IsZero():
		if _, err := s.policy.Require(ctx, access.AccountSelf); err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("check org: no caller scope: %w", ports.ErrUnauthenticated)
	}
	name := strings.TrimSpace(in.Name)
	if err := ports.ValidateName("name", name); err != nil {
		return "", err
	}
	shopName := strings.TrimSpace(in.ShopName)
	if shopName == "" {
		shopName = name
	}
	slug, err := s.cleanSlug(in.Slug, shopName)
	if err != nil {
		return "", err
	}
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		_, err := tx.Shops().GetBySlug(ctx, slug)
		switch {
		case err == nil:
			return slugTaken(slug)
		case errors.Is(err, ports.ErrNotFound):
			return nil
		}
		return err
	}, ports.ReadOnly())
	if err != nil {
		return "", fmt.Errorf("check org: %w", err)
	}
	return slug, nil
}

// PendingInvitation returns the pending invitation of shop whose mailed
// token is token, without accepting it: the invitation page shows the
// invited address and role before the person accepts. Like
// AcceptInvitation, the token is the only credential and no scope is
// needed; ErrNotFound is the one answer for a token that is malformed,
// unknown, used, revoked, expired or another shop's.
func (s *Service) PendingInvitation(ctx context.Context, shop ports.ShopID, token string) (ports.Invitation, error) {
	hash, ok := parseToken(token)
	if !ok {
		return ports.Invitation{}, errBadInvitation
	}
	inv, err := s.pendingByHash(ctx, shop, hash, s.clock.Now())
	if err != nil {
		return ports.Invitation{}, fmt.Errorf("invitation: %w", err)
	}
	return inv, nil
}

// pendingByHash returns shop's invitation whose token hashes to hash if
// it is pending at now (the hashes compared in constant time), else
// errBadInvitation.
func (s *Service) pendingByHash(ctx context.Context, shop ports.ShopID, hash []byte, now time.Time) (ports.Invitation, error) {
	var inv ports.Invitation
	err := s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		pending, err := tx.Invitations().List(ctx, now)
		if err != nil {
			return err
		}
		for _, p := range pending {
			if subtle.ConstantTimeCompare(p.TokenHash, hash) == 1 {
				inv = p
				return nil
			}
		}
		return errBadInvitation
	}, ports.ReadOnly())
	return inv, err
}

// OrgInvitationPreview is what the org invitation page shows before the
// invitee answers: the org, the role and the address it was sent to.
type OrgInvitationPreview struct {
	Org        ports.Org
	Invitation ports.OrgInvitation
}

// PendingOrgInvitation returns the pending org invitation with token of
// the org of shop (the shop whose host the mailed link was opened on)
// and its org, for the invitation page. The token alone reads it (it
// proves the mailbox, as for DeclineOrgInvitation); nothing changes and
// nothing is audited. errBadOrgInvitation (ErrNotFound) for a token that
// is malformed, unknown, used, declined, revoked, expired or another
// org's.
func (s *Service) PendingOrgInvitation(ctx context.Context, shop ports.ShopID, token string) (OrgInvitationPreview, error) {
	hash, ok := parseToken(token)
	if !ok {
		return OrgInvitationPreview{}, fmt.Errorf("org invitation: %w", errBadOrgInvitation)
	}
	var out OrgInvitationPreview
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		host, err := tx.Shops().Get(ctx, shop)
		if err != nil {
			return err
		}
		out.Invitation, err = tx.OrgInvitations().Pending(ctx, host.OrgID, hash, s.clock.Now())
		if errors.Is(err, ports.ErrNotFound) {
			return errBadOrgInvitation
		} else if err != nil {
			return err
		}
		out.Org, err = tx.Orgs().Get(ctx, host.OrgID)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return OrgInvitationPreview{}, fmt.Errorf("org invitation: %w", err)
	}
	return out, nil
}
