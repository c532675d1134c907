package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

var (
	errBadVerifyLink = fmt.Errorf("this confirmation link is invalid, used or expired; sign up again: %w", ports.ErrUnauthenticated)
	errAccountExists = fmt.Errorf("an account with this address exists already; sign in, or reset your password: %w", ports.ErrConflict)
)

// SignUpInput is a request for a new account.
type SignUpInput struct {
	Email    string
	Name     string
	Password string
	// LinkPrefix is the absolute URL the verification token is appended
	// to, e.g. "https://example.com/auth/verify?token=". The HTTP layer
	// builds it from configuration, never from the request's Host header.
	LinkPrefix string
	Client     Client
}

// SignUp asks for an account with a password and proves the mailbox
// before anything exists (AUTH-16): it creates no account and answers nil
// whether or not the address has one, so the answer is no account oracle.
// It mails either a verification link (a 256-bit single-use token stored
// only as its SHA-256, valid for Config.VerifyTTL; ConfirmSignUp creates
// the account from it) or, to an address whose account is verified
// already, a note that says so and changes nothing. The chosen password's
// hash and the name wait in the verification row until the link is
// followed. Attempts are charged to the client address's and the
// e-mail's sign-up counters (ErrRateLimited over a limit). ErrInvalid
// names a refused field (the password policy of AUTH-3 included).
func (s *Service) SignUp(ctx context.Context, in SignUpInput) error {
	c := in.Client.clean()
	email := ports.NormalizeEmail(in.Email)
	name := strings.TrimSpace(in.Name)
	if err := ports.ValidateEmail(email); err != nil {
		return err
	}
	if name != "" {
		if err := ports.ValidateName("name", name); err != nil {
			return err
		}
	}
	if !validLinkPrefix(in.LinkPrefix) {
		return ports.Invalid("link_prefix", "must be an absolute http(s) URL")
	}
	if err := s.charge(ctx, ports.ShopID{}, c, "signup",
		ipLimit("signup", c.IP, s.cfg.Limits.SignUpPerIP),
		accountLimit("signup", email, s.cfg.Limits.SignUpPerEmail)); err != nil {
		return err
	}
	if err := s.checkPassword(in.Password, email); err != nil {
		return err
	}
	// Hashed for every address, known or not: both answers cost the same.
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	token := newToken()
	now := s.clock.Now()
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		u, err := tx.Users().GetByEmail(ctx, email)
		switch {
		case err == nil && !u.VerifiedAt.IsZero():
			return s.mail.Enqueue(ctx, tx.AuthMail(), ports.AuthMailVerify, alreadyMail(email))
		case err != nil && !errors.Is(err, ports.ErrNotFound):
			return err
		}
		_, err = tx.MailTokens().Create(ctx, ports.MailToken{
			TokenHash: hashToken(token), Purpose: ports.MailTokenVerify, Email: email, Name: name,
			PasswordHash: hash, ExpiresAt: now.Add(s.cfg.VerifyTTL),
		})
		if err != nil {
			return err
		}
		return s.mail.Enqueue(ctx, tx.AuthMail(), ports.AuthMailVerify, verifyMail(email, in.LinkPrefix+base64.RawURLEncoding.EncodeToString(token), s.cfg.VerifyTTL.Minutes()))
	})
	if err != nil {
		return fmt.Errorf("sign up: %w", err)
	}
	return nil
}

// ConfirmSignUp follows a sign-up's verification link: the token is spent
// (with every other sign-up link mailed to the address) and the account
// is created, verified, with the name and password chosen at sign-up.
// When an account that was never verified has the address (one made
// before mailbox proof existed), this is its first proof: its earlier
// password and identity links are removed and its sessions end everywhere
// before the chosen password is set. An account that is verified already
// is left as it is (errAccountExists, matching ports.ErrConflict). A
// token that is malformed, unknown, used or expired matches
// ports.ErrUnauthenticated. No session is created: the account belongs to
// no shop yet.
func (s *Service) ConfirmSignUp(ctx context.Context, token string, c Client) (ports.User, error) {
	c = c.clean()
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) != tokenSize {
		return ports.User{}, errBadVerifyLink
	}
	now := s.clock.Now()
	var user ports.User
	var first, exists, created bool
	var shops []ports.ShopID
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		tok, err := tx.MailTokens().Consume(ctx, hashToken(raw), ports.MailTokenVerify, now)
		if errors.Is(err, ports.ErrNotFound) {
			return errBadVerifyLink
		} else if err != nil {
			return err
		}
		u, err := tx.Users().GetByEmail(ctx, tok.Email)
		switch {
		case errors.Is(err, ports.ErrNotFound):
			user, err = s.createVerified(ctx, tx, tok.Email, tok.Name, tok.PasswordHash, now)
			created = err == nil
			return err
		case err != nil:
			return err
		case !u.VerifiedAt.IsZero():
			exists = true // the token stays spent; nothing else changes
			return nil
		}
		user = u
		if first, err = proveMailbox(ctx, tx, u.ID, now); err != nil {
			return err
		} else if !first {
			exists = true // proven concurrently by other means
			return nil
		}
		if err := tx.Passwords().Set(ctx, u.ID, tok.PasswordHash); err != nil {
			return err
		}
		if shops, err = tx.Users().Shops(ctx, u.ID); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return ports.User{}, fmt.Errorf("confirm sign-up: %w", err)
	}
	if exists {
		return ports.User{}, errAccountExists
	}
	if first {
		s.auditInShops(ctx, user.ID, shops, ports.SessionID{}, c, provenEvent(user.ID))
	}
	if created {
		s.signedUp(ctx, user, "signup")
	}
	return user, nil
}

// CreateUser creates a verified user, without rate limits or a mailed
// proof, for operators and the CLI: the operator vouches for the address.
// An empty password creates an account that signs in by magic link or
// OpenID Connect only. ErrInvalid names a refused field; ErrConflict if
// the e-mail is taken. Nothing is written on error.
func (s *Service) CreateUser(ctx context.Context, email, name, password string) (ports.User, error) {
	email = ports.NormalizeEmail(email)
	name = strings.TrimSpace(name)
	if err := ports.ValidateEmail(email); err != nil {
		return ports.User{}, err
	}
	var hash string
	if password != "" {
		if err := s.checkPassword(password, email); err != nil {
			return ports.User{}, err
		}
		var err error
		if hash, err = s.hasher.Hash(ctx, password); err != nil {
			return ports.User{}, fmt.Errorf("hash password: %w", err)
		}
	}
	var user ports.User
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		user, err = s.createVerified(ctx, tx, email, name, hash, s.clock.Now())
		return err
	})
	if err != nil {
		return ports.User{}, fmt.Errorf("create user: %w", err)
	}
	s.signedUp(ctx, user, "operator")
	return user, nil
}

// checkPassword applies the policy and the hasher's input bound.
func (s *Service) checkPassword(password, email string) error {
	if len(password) > maxPasswordBytes {
		return ports.Invalid("password", fmt.Sprintf("must be at most %d bytes", maxPasswordBytes))
	}
	return s.policy.Check(password, email)
}

// validLinkPrefix reports whether p is an absolute http(s) URL prefix.
func validLinkPrefix(p string) bool {
	return strings.HasPrefix(p, "https://") || strings.HasPrefix(p, "http://")
}

func verifyMail(to, link string, minutes float64) ports.Mail {
	return ports.Mail{
		To:      to,
		Subject: "Confirm your e-mail address",
		Text: fmt.Sprintf("Someone, hopefully you, asked for an account with this address. Follow this link to confirm it and finish signing up. "+
			"It works once and expires in %d minutes.\n\n%s\n\nIf you did not ask for it, ignore this message: no account is created.\n", int(minutes), link),
	}
}

func alreadyMail(to string) ports.Mail {
	return ports.Mail{
		To:      to,
		Subject: "You already have an account",
		Text: "Someone, hopefully you, tried to sign up with this address, but it already has an account. Nothing was changed.\n\n" +
			"Sign in as usual. If you forgot your password, ask for a reset link on the sign-in page.\n\n" +
			"If it was not you, ignore this message.\n",
	}
}
