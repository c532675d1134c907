package tenancy

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/events"
	"github.com/stockadehq/stockade/ports"
)

var errBadInvitation = fmt.Errorf("invitation is invalid, used, revoked or expired: %w", ports.ErrNotFound)

// InviteInput asks someone to join the caller's shop.
type InviteInput struct {
	Email string
	Role  ports.Role
	// LinkPrefix is the absolute URL the token is appended to, e.g.
	// "https://acme.example.com/invitations/accept?token=". The HTTP layer
	// builds it from configuration, never from the request's Host.
	LinkPrefix string
	ShopName   string // for the message
}

// Invite creates an invitation to the caller's shop and mails its link to
// Email (TEN-9). It needs access.InvitesManage, and access.MembersOwners to
// invite an Owner. The token is 256 random bits, mailed and never stored
// (only its SHA-256 is), valid for Config.InvitationTTL and single-use.
// Inviting an address with a pending invitation replaces it (the old link
// stops working). ErrInvalid for a bad address or role, ErrConflict when
// the address already belongs to a member. The invitation and its
// "invitation.created" event commit together with its mail (sealed, see
// core/authmail), which the auth mail worker delivers through the
// configured e-mail provider; a rolled-back invitation sends nothing.
func (s *Service) Invite(ctx context.Context, in InviteInput) (ports.Invitation, error) {
	email := ports.NormalizeEmail(in.Email)
	if err := ports.ValidateEmail(email); err != nil {
		return ports.Invitation{}, err
	}
	if err := ports.ValidateRole(in.Role); err != nil {
		return ports.Invitation{}, err
	}
	if !strings.HasPrefix(in.LinkPrefix, "https://") && !strings.HasPrefix(in.LinkPrefix, "http://") {
		return ports.Invitation{}, ports.Invalid("link_prefix", "must be an absolute http(s) URL")
	}
	sc, err := s.requireForRole(ctx, access.InvitesManage, in.Role)
	if err != nil {
		return ports.Invitation{}, err
	}
	existing, err := s.userByEmail(ctx, email)
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		return ports.Invitation{}, err
	}
	token, hash := newToken()
	now := s.clock.Now()
	shopName := in.ShopName
	if shopName == "" {
		shopName = "a shop"
	}
	var inv ports.Invitation
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		if !existing.ID.IsZero() {
			if _, err := tx.Memberships().Get(ctx, existing.ID); err == nil {
				return fmt.Errorf("%s is already a member: %w", email, ports.ErrConflict)
			} else if !errors.Is(err, ports.ErrNotFound) {
				return err
			}
		}
		pending, err := tx.Invitations().List(ctx, now)
		if err != nil {
			return err
		}
		for _, p := range pending {
			if p.Email == email {
				if _, err := tx.Invitations().Revoke(ctx, p.ID, now); err != nil {
					return err
				}
			}
		}
		inv, err = tx.Invitations().Create(ctx, ports.Invitation{
			ID: ports.NewInvitationID(), TokenHash: hash, Email: email, Role: in.Role,
			InvitedBy: sc.User, ExpiresAt: now.Add(s.cfg.InvitationTTL),
		})
		if err != nil {
			return err
		}
		if err := s.appendAudit(ctx, tx, sc, record{action: "invitation.created", target: "invitation:" + inv.ID.String(),
			after: map[string]string{"email": email, "role": string(in.Role)}}); err != nil {
			return err
		}
		return s.mail.Enqueue(ctx, tx.AuthMail(), ports.AuthMailInvitation, ports.Mail{
			To:      email,
			Subject: "You are invited to " + shopName,
			Text: fmt.Sprintf("You have been invited to join %s as %s.\n\nAccept the invitation:\n%s%s\n\nThe link works once and expires in %s. If you did not expect it, ignore this message.\n",
				shopName, in.Role, in.LinkPrefix, token, s.cfg.InvitationTTL),
		})
	})
	if err != nil {
		return ports.Invitation{}, fmt.Errorf("invite: %w", err)
	}
	return inv, nil
}

// ListInvitations returns the caller's shop's pending invitations, newest
// first (access.InvitesManage).
func (s *Service) ListInvitations(ctx context.Context) ([]ports.Invitation, error) {
	sc, err := s.policy.Require(ctx, access.InvitesManage)
	if err != nil {
		return nil, err
	}
	var out []ports.Invitation
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Invitations().List(ctx, s.clock.Now())
		return err
	}, ports.ReadOnly())
	if err != nil {
		return nil, fmt.Errorf("list invitations: %w", err)
	}
	return out, nil
}

// RevokeInvitation withdraws a pending invitation of the caller's shop
// (access.InvitesManage). ErrNotFound if it is not pending (or another
// shop's).
func (s *Service) RevokeInvitation(ctx context.Context, id ports.InvitationID) error {
	sc, err := s.policy.Require(ctx, access.InvitesManage)
	if err != nil {
		return err
	}
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		inv, err := tx.Invitations().Revoke(ctx, id, s.clock.Now())
		if err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, sc, record{action: "invitation.revoked", target: "invitation:" + id.String(),
			before: map[string]string{"email": inv.Email, "role": string(inv.Role)}})
	})
	if err != nil {
		return fmt.Errorf("revoke invitation: %w", err)
	}
	return nil
}

// AcceptInput accepts an invitation on its shop's host.
type AcceptInput struct {
	Shop  ports.ShopID // the shop whose host the token was presented on
	Token string
	// Name and Password are used only when the invited address has no
	// account yet: the account is created with them (an empty password
	// makes a passwordless account that signs in by link). For an existing
	// account they are ignored: the mailed token proves the mailbox, as a
	// magic link does.
	Name     string
	Password string
	Client   auth.Client
	// Replace is a session cookie the browser presented, which ends.
	Replace string
}

// AcceptInvitation accepts a pending invitation of in.Shop: it creates the
// invited address's account when there is none, or records the mailbox
// proof of the existing one (auth.Service.AccountForProvenMailbox: the
// first proof of an account never verified removes its password and
// identity links and ends its sessions), then — in one unit of
// work — marks the invitation accepted (single-use), creates the
// membership with the invited role, appends "invitation.accepted",
// records invitation.accepted and member.added (via "invitation") for
// the shop's webhooks, and signs the user in (method "invitation"); hooks
// get both events after the commit. The token is the only
// credential; no scope is needed. ErrNotFound (one answer for unknown,
// used, revoked, expired or another shop's), ErrInvalid for a password the
// policy refuses, ErrConflict if the user is already a member.
func (s *Service) AcceptInvitation(ctx context.Context, in AcceptInput) (auth.Issued, error) {
	hash, ok := parseToken(in.Token)
	if !ok {
		return auth.Issued{}, errBadInvitation
	}
	now := s.clock.Now()
	inv, err := s.pendingByHash(ctx, in.Shop, hash, now)
	if err != nil {
		return auth.Issued{}, fmt.Errorf("accept invitation: %w", err)
	}
	// The mailed token proves the mailbox (AUTH-16): an account never
	// verified loses the credentials and sessions set before this proof.
	user, err := s.auth.AccountForProvenMailbox(ctx, inv.Email, in.Name, in.Password, in.Client)
	if err != nil {
		return auth.Issued{}, fmt.Errorf("accept invitation: %w", err)
	}
	var issued auth.Issued
	var accepted, added events.Event
	err = s.store.InShop(ctx, in.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		got, err := tx.Invitations().Accept(ctx, hash, user.ID, s.clock.Now())
		if errors.Is(err, ports.ErrNotFound) {
			return errBadInvitation
		} else if err != nil {
			return err
		}
		if _, err := tx.Memberships().Add(ctx, user.ID, got.Role); err != nil {
			return err
		}
		sc := access.Scope{Shop: in.Shop, User: user.ID, Role: got.Role, IP: in.Client.IP, UserAgent: in.Client.UserAgent, RequestID: in.Client.RequestID}
		if err := s.appendAudit(ctx, tx, sc, record{action: "invitation.accepted", target: "invitation:" + got.ID.String(),
			after: map[string]string{"role": string(got.Role)}}); err != nil {
			return err
		}
		if accepted, err = s.events.Record(ctx, tx, events.InvitationAccepted{Invitation: got.ID.String(), User: user.ID.String(), Role: string(got.Role)}); err != nil {
			return err
		}
		if added, err = s.events.Record(ctx, tx, events.MemberAdded{User: user.ID.String(), Role: string(got.Role), Via: "invitation"}); err != nil {
			return err
		}
		issued, err = s.auth.IssueSession(ctx, tx, user.ID, "invitation", in.Client, in.Replace)
		return err
	})
	if err != nil {
		return auth.Issued{}, fmt.Errorf("accept invitation: %w", err)
	}
	s.events.After(ctx, accepted, added)
	return issued, nil
}

// newToken returns a fresh 256-bit token, base64url without padding, and
// its SHA-256.
func newToken() (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails since Go 1.24
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(b), sum[:]
}

// parseToken returns the SHA-256 of a well-formed token.
func parseToken(token string) ([]byte, bool) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) != 32 {
		return nil, false
	}
	sum := sha256.Sum256(b)
	return sum[:], true
}
