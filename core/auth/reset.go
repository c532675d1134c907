package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/stockadehq/stockade/ports"
)

var errBadResetLink = fmt.Errorf("this reset link is invalid, used or expired; ask for a new one: %w", ports.ErrUnauthenticated)

// ResetRequest asks for a password reset link by e-mail.
type ResetRequest struct {
	Email string
	// LinkPrefix is the absolute URL the token is appended to, e.g.
	// "https://example.com/auth/password-reset?token=". The HTTP layer
	// builds it from configuration, never from the request's Host header.
	LinkPrefix string
	Client     Client
}

// RequestPasswordReset mails a password reset link to Email when it
// belongs to an account (AUTH-17). It answers nil whether or not it does,
// so the answer reveals nothing; requests are charged to the address's
// and the e-mail's reset counters, at the magic-link limits
// (ErrRateLimited over a limit). The token is 256 random bits, stored only
// as its SHA-256, bound to the account, single-use and valid for
// Config.ResetTTL.
func (s *Service) RequestPasswordReset(ctx context.Context, in ResetRequest) error {
	c := in.Client.clean()
	email := ports.NormalizeEmail(in.Email)
	if err := ports.ValidateEmail(email); err != nil {
		return err
	}
	if !validLinkPrefix(in.LinkPrefix) {
		return ports.Invalid("link_prefix", "must be an absolute http(s) URL")
	}
	if err := s.charge(ctx, ports.ShopID{}, c, "reset",
		accountLimit("reset", email, s.cfg.Limits.MagicPerEmail),
		ipLimit("reset", c.IP, s.cfg.Limits.MagicPerIP)); err != nil {
		return err
	}
	token := newToken()
	now := s.clock.Now()
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		u, err := tx.Users().GetByEmail(ctx, email)
		if errors.Is(err, ports.ErrNotFound) {
			return nil // no account: nothing to mail, the same answer
		} else if err != nil {
			return err
		}
		_, err = tx.MailTokens().Create(ctx, ports.MailToken{
			TokenHash: hashToken(token), Purpose: ports.MailTokenReset, Email: email, UserID: u.ID,
			ExpiresAt: now.Add(s.cfg.ResetTTL),
		})
		if err != nil {
			return err
		}
		return s.mail.Enqueue(ctx, tx.AuthMail(), ports.AuthMailReset, resetMail(email, in.LinkPrefix+base64.RawURLEncoding.EncodeToString(token), s.cfg.ResetTTL.Minutes()))
	})
	if err != nil {
		return fmt.Errorf("request password reset: %w", err)
	}
	return nil
}

// ResetPassword sets a new password with a reset link's token (AUTH-17).
// In one global unit of work the token is spent (with every other reset
// link mailed to the address), the mailbox proof recorded (the first one,
// for an account never verified, also removes its identity links), the
// password replaced and every session of the account, in every shop,
// ended. Then each shop the account belongs to gets an
// "auth.password.reset" audit event, and its session rows there are
// deleted. No session is created: the person signs in again. A token that
// is malformed, unknown, used, expired or of another kind matches
// ports.ErrUnauthenticated; ErrInvalid for a password the policy refuses
// (the token then stays usable).
func (s *Service) ResetPassword(ctx context.Context, token, password string, c Client) error {
	c = c.clean()
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) != tokenSize {
		return errBadResetLink
	}
	if err := s.checkPassword(password, ""); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	now := s.clock.Now()
	var user ports.UserID
	var first bool
	var shops []ports.ShopID
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		tok, err := tx.MailTokens().Consume(ctx, hashToken(raw), ports.MailTokenReset, now)
		if errors.Is(err, ports.ErrNotFound) {
			return errBadResetLink
		} else if err != nil {
			return err
		}
		if err := s.checkPassword(password, tok.Email); err != nil {
			return err // rolled back: the token is not spent
		}
		user = tok.UserID
		if first, err = proveMailbox(ctx, tx, user, now); err != nil {
			return err
		}
		if err := tx.Passwords().Set(ctx, user, hash); err != nil {
			return err
		}
		if err := tx.Users().EndSessions(ctx, user, now); err != nil {
			return err
		}
		shops, err = tx.Users().Shops(ctx, user)
		return err
	})
	if err != nil {
		return fmt.Errorf("reset password: %w", err)
	}
	s.auditInShops(ctx, user, shops, ports.SessionID{}, c, event{
		actor: "user:" + user.String(), action: "auth.password.reset", target: "user:" + user.String(),
		outcome: ports.OutcomeSuccess, after: map[string]any{"first_mailbox_proof": first},
	})
	return nil
}

func resetMail(to, link string, minutes float64) ports.Mail {
	return ports.Mail{
		To:      to,
		Subject: "Reset your password",
		Text: fmt.Sprintf("Someone, hopefully you, asked to reset the password of the account with this address. Follow this link to choose a new one. "+
			"It works once and expires in %d minutes. Resetting signs the account out everywhere.\n\n%s\n\n"+
			"If you did not ask for it, ignore this message: your password stays as it is.\n", int(minutes), link),
	}
}
