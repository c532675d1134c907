package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/stockadehq/stockade/ports"
)

var errBadLink = fmt.Errorf("sign-in link is invalid, used or expired: %w", ports.ErrUnauthenticated)

// MagicLinkRequest asks for a sign-in link by e-mail on one shop's host.
type MagicLinkRequest struct {
	Shop     ports.ShopID
	ShopName string // for the message
	Email    string
	// LinkPrefix is the absolute URL the token is appended to, e.g.
	// "https://acme.example.com/auth/magic-link?token=". The HTTP layer
	// builds it from configuration, never from the request's Host header.
	LinkPrefix string
	Client     Client
}

// RequestMagicLink e-mails a single-use sign-in link to Email when it
// belongs to a member of the shop (AUTH-4): the link and its mail (sealed,
// see core/authmail) commit in one unit of work, and the auth mail worker
// delivers it through the configured e-mail provider. It answers nil whether or not
// it does, so the answer reveals nothing; requests are charged to the
// address's and the e-mail's counters (ErrRateLimited over a limit). The
// link's token is 256 random bits, stored only as its SHA-256, bound to
// the e-mail and the shop, and valid for Config.MagicLinkTTL. When the
// shop's org has made single sign-on mandatory for the address's domain
// (AUTH-14) it answers *SSORequiredError (ports.ErrForbidden) instead,
// unless the address is the connection's break-glass owner.
func (s *Service) RequestMagicLink(ctx context.Context, in MagicLinkRequest) error {
	c := in.Client.clean()
	email := ports.NormalizeEmail(in.Email)
	if err := ports.ValidateEmail(email); err != nil {
		return err
	}
	if err := s.charge(ctx, in.Shop, c, "magic_link",
		accountLimit("magic_link", email, s.cfg.Limits.MagicPerEmail),
		ipLimit("magic_link", c.IP, s.cfg.Limits.MagicPerIP)); err != nil {
		return err
	}
	// Mandatory single sign-on refuses magic links for the domain
	// (AUTH-14), whether or not the address has an account.
	if err := s.requireNoSSO(ctx, in.Shop, email); err != nil {
		return err
	}
	var user ports.User
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		user, err = tx.Users().GetByEmail(ctx, email)
		return err
	}, ports.ReadOnly())
	if errors.Is(err, ports.ErrNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("request magic link: %w", err)
	}
	token := newToken()
	now := s.clock.Now()
	link := in.LinkPrefix + base64.RawURLEncoding.EncodeToString(token)
	shopName := in.ShopName
	if shopName == "" {
		shopName = "your shop"
	}
	err = s.store.InShop(ctx, in.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		if _, err := tx.Memberships().Get(ctx, user.ID); err != nil {
			return err
		}
		if _, err := tx.MagicLinks().Create(ctx, ports.MagicLink{
			TokenHash: hashToken(token), UserID: user.ID, Email: email, ExpiresAt: now.Add(s.cfg.MagicLinkTTL),
		}); err != nil {
			return err
		}
		// The mail commits with the link: a rolled-back request sends
		// nothing, and a committed link is delivered by the worker.
		return s.mail.Enqueue(ctx, tx.AuthMail(), ports.AuthMailMagicLink, ports.Mail{
			To:      email,
			Subject: "Your sign-in link for " + shopName,
			Text: fmt.Sprintf("Use this link to sign in to %s. It works once and expires in %d minutes.\n\n%s\n\n"+
				"If you did not ask for it, ignore this message.\n", shopName, int(s.cfg.MagicLinkTTL.Minutes()), link),
		})
	})
	if errors.Is(err, ports.ErrNotFound) {
		return nil // not a member of this shop
	} else if err != nil {
		return fmt.Errorf("request magic link: %w", err)
	}
	return nil
}

// ConsumeMagicLink signs in with a magic link's token on the shop's host:
// the link is marked used and a session created in one unit of work, so a
// link works exactly once. The link proves the mailbox: for an account
// never verified it is the first proof (see AccountForProvenMailbox),
// which ends every other session of the account. A token that is
// malformed, unknown in this shop, used or expired answers an error
// matching ports.ErrUnauthenticated. A link for an address that mandatory
// single sign-on now covers (AUTH-14) is spent and answers
// *SSORequiredError; the session it made is ended at once.
func (s *Service) ConsumeMagicLink(ctx context.Context, shop ports.ShopID, token string, c Client, replace string) (Issued, error) {
	c = c.clean()
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) != tokenSize {
		return Issued{}, errBadLink
	}
	at := s.clock.Now()
	var out Issued
	var linkEmail string
	err = s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		link, err := tx.MagicLinks().Consume(ctx, hashToken(raw), at)
		if errors.Is(err, ports.ErrNotFound) {
			return errBadLink
		} else if err != nil {
			return err
		}
		linkEmail = link.Email
		out, err = s.mintSession(ctx, tx, link.UserID, MethodMagicLink, c, replace)
		if errors.Is(err, ports.ErrNotFound) {
			return errBadLink // no longer a member
		}
		return err
	})
	if err != nil {
		return Issued{}, fmt.Errorf("magic link sign-in: %w", err)
	}
	// A link mailed before the org made single sign-on mandatory is
	// refused too (AUTH-14): its session ends at once.
	if err := s.requireNoSSO(ctx, shop, linkEmail); err != nil {
		if derr := s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
			return tx.Sessions().Delete(ctx, out.Principal.Session)
		}); derr != nil {
			return Issued{}, fmt.Errorf("magic link sign-in: %w", errors.Join(err, derr))
		}
		return Issued{}, err
	}
	// The mailed link proved the mailbox (AUTH-16).
	if err := s.proveByLink(ctx, out.Principal.User, out.Principal.Session, at, c); err != nil {
		return Issued{}, fmt.Errorf("magic link sign-in: %w", err)
	}
	if err := s.assess(ctx, &out.Principal); err != nil {
		return Issued{}, fmt.Errorf("magic link sign-in: %w", err)
	}
	return out, nil
}
