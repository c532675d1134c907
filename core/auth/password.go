package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/stockadehq/stockade/ports"
)

var errWrongPassword = fmt.Errorf("current password is wrong: %w", ports.ErrUnauthenticated)

// ChangePassword replaces the principal's password after checking the
// current one (charged to the account's sign-in counter, so it cannot be
// used to guess), ends every session of the user in every shop
// (UserRepo.EndSessions), and replaces the current session with a fresh
// one (AUTH-8). It returns the new cookie.
// The fresh session keeps the current one's assurance level.
// ErrUnauthenticated for a wrong current password, ErrInvalid for a new
// password the policy refuses, ErrForbidden under impersonation and, as
// for every sensitive action, without a recent authentication
// (RequireRecentAuth).
func (s *Service) ChangePassword(ctx context.Context, p Principal, current, next string, c Client) (Issued, error) {
	if err := s.guardSelf(ctx, p); err != nil {
		return Issued{}, err
	}
	// A sensitive action (AUTH-13): AAL2 for a user with a second factor,
	// and a recent authentication.
	if err := s.RequireRecentAuth(p); err != nil {
		return Issued{}, err
	}
	if p.Impersonated() {
		// A password is the user's alone, and changing it would mint a
		// session outside the impersonation's hour.
		return Issued{}, fmt.Errorf("change password: not while impersonating: %w", ports.ErrForbidden)
	}
	c = c.clean()
	var user ports.User
	var hash string
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		u, err := tx.Users().Get(ctx, p.User)
		if err != nil {
			return err
		}
		user = u
		if hash, err = tx.Passwords().Get(ctx, p.User); errors.Is(err, ports.ErrNotFound) {
			return nil // no password yet (magic link or OIDC user): current must be empty
		}
		return err
	}, ports.ReadOnly())
	if err != nil {
		return Issued{}, fmt.Errorf("change password: %w", err)
	}
	if err := s.checkPassword(next, user.Email); err != nil {
		return Issued{}, err
	}
	if hash != "" {
		if err := s.charge(ctx, p.Shop, c, "signin", accountLimit("signin", user.Email, s.cfg.Limits.PerAccount)); err != nil {
			return Issued{}, err
		}
		ok, _, err := s.hasher.Verify(ctx, current, hash)
		if err != nil {
			return Issued{}, fmt.Errorf("change password: %w", err)
		}
		if !ok {
			return Issued{}, errWrongPassword
		}
	} else if current != "" {
		return Issued{}, errWrongPassword
	}
	newHash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return Issued{}, fmt.Errorf("hash password: %w", err)
	}
	if err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		if err := tx.Passwords().Set(ctx, p.User, newHash); err != nil {
			return err
		}
		return tx.Users().EndSessions(ctx, p.User, s.clock.Now())
	}); err != nil {
		return Issued{}, fmt.Errorf("change password: %w", err)
	}
	// Every session of the user, in every shop, has ended; this one is
	// replaced by a fresh session so the browser stays signed in here.
	var out Issued
	err = s.store.InShop(ctx, p.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		n, err := tx.Sessions().DeleteByUser(ctx, p.User, ports.SessionID{})
		if err != nil {
			return err
		}
		if out, err = s.mintSessionAt(ctx, tx, p.User, p.Method, p.AAL, c, ""); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, c, event{actor: p.Actor(), action: "auth.password.changed", target: "user:" + p.User.String(), outcome: ports.OutcomeSuccess, after: map[string]int{"sessions_revoked_here": n - 1}})
	})
	if err != nil {
		return Issued{}, fmt.Errorf("change password: %w", err)
	}
	return out, nil
}

// SetPassword sets the password of the user with email without knowing
// the old one, and ends every session the user has in every shop; for
// operators and the CLI. The operator vouches for the address, so an
// account never verified counts as verified from now on, and — as at any
// first mailbox proof — loses the identity links set before it.
// ErrNotFound for an unknown e-mail, ErrInvalid for a password the policy
// refuses.
func (s *Service) SetPassword(ctx context.Context, email, password string) (ports.User, error) {
	email = ports.NormalizeEmail(email)
	if err := s.checkPassword(password, email); err != nil {
		return ports.User{}, err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return ports.User{}, fmt.Errorf("hash password: %w", err)
	}
	var user ports.User
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		if user, err = tx.Users().GetByEmail(ctx, email); err != nil {
			return err
		}
		if _, err := proveMailbox(ctx, tx, user.ID, s.clock.Now()); err != nil {
			return err
		}
		if err := tx.Passwords().Set(ctx, user.ID, hash); err != nil {
			return err
		}
		return tx.Users().EndSessions(ctx, user.ID, s.clock.Now())
	})
	if err != nil {
		return ports.User{}, fmt.Errorf("set password: %w", err)
	}
	return user, nil
}

// RevokeUserSessions ends every session the user with email has in shop,
// on an operator's behalf (the CLI), and audits it in that shop's log.
// ErrNotFound for an unknown e-mail.
func (s *Service) RevokeUserSessions(ctx context.Context, shop ports.ShopID, email, operator string) (int, error) {
	var user ports.User
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		user, err = tx.Users().GetByEmail(ctx, email)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	var n int
	var ev published
	err = s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		if n, err = tx.Sessions().DeleteByUser(ctx, user.ID, ports.SessionID{}); err != nil {
			return err
		}
		if err := s.appendAudit(ctx, tx, Client{}, event{actor: operator, action: "auth.member_sessions.revoked", target: "user:" + user.ID.String(), outcome: ports.OutcomeSuccess, after: map[string]int{"revoked": n}}); err != nil {
			return err
		}
		return s.sessionsRevoked(ctx, tx, &ev, user.ID, ports.SessionID{}, n, "operator")
	})
	if err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	s.events.After(ctx, ev)
	return n, nil
}
