package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// errBadCredentials is the one answer to every failed password sign-in:
// unknown e-mail, no password set, wrong password, or not a member of
// the shop (AUTH-2).
var errBadCredentials = fmt.Errorf("e-mail or password is wrong: %w", ports.ErrUnauthenticated)

// errUnverified answers a right password for an account whose mailbox was
// never proven (AUTH-16); only someone who knows the password sees it.
var errUnverified = fmt.Errorf("this address is not verified yet: sign in with a link sent by mail, or reset your password: %w", ports.ErrUnauthenticated)

// maxPasswordBytes bounds what is handed to the hasher.
const maxPasswordBytes = 1024

// SignInInput is a password sign-in attempt on one shop's host.
type SignInInput struct {
	Shop     ports.ShopID
	Email    string
	Password string
	Client   Client
	// Replace is the session cookie the browser presented while signing
	// in, if any; its session is ended (AUTH-7 rotation on sign-in).
	Replace string
}

// SignIn checks an e-mail and password and, when they match a member of
// the shop whose mailbox was proven (AUTH-16), creates a session (AUTH-1,
// AUTH-2, AUTH-10).
//
// Every attempt is first charged to the e-mail's and the client address's
// counters; over a limit the answer is ports.ErrRateLimited and the
// password is not checked. An unknown e-mail is verified against a dummy
// hash, so it costs what a wrong password costs, and both answer the same
// error, matching ports.ErrUnauthenticated. A hash at an older scheme or
// weaker parameters is replaced by one at current parameters after a
// successful check.
//
// When the shop's org has made single sign-on mandatory for the
// address's domain (AUTH-14) the attempt is refused with
// *SSORequiredError (ports.ErrForbidden) before the password is checked,
// unless the address is the connection's break-glass owner.
//
// The session is AAL1; the returned principal's Pending says whether it
// must step up (a user with a second factor) or enrol (a member the shop's
// policy requires to have one) before it is served.
func (s *Service) SignIn(ctx context.Context, in SignInInput) (Issued, error) {
	c := in.Client.clean()
	email := ports.NormalizeEmail(in.Email)
	if len(in.Password) > maxPasswordBytes || len(email) > 320 {
		return Issued{}, errBadCredentials
	}
	if err := s.charge(ctx, in.Shop, c, "signin",
		accountLimit("signin", email, s.cfg.Limits.PerAccount),
		ipLimit("signin", c.IP, s.cfg.Limits.PerIP)); err != nil {
		return Issued{}, err
	}
	// An org that made single sign-on mandatory for the address's domain
	// refuses the password (AUTH-14); the answer depends on the domain
	// only (and the break-glass owner), never on the account.
	if err := s.requireNoSSO(ctx, in.Shop, email); err != nil {
		return Issued{}, err
	}

	user, hash, err := s.credentials(ctx, email)
	if err != nil {
		return Issued{}, err
	}
	if hash == "" {
		// Unknown e-mail or no password: spend what a real check spends.
		dummy, err := s.dummy.get(ctx)
		if err != nil {
			return Issued{}, fmt.Errorf("sign in: %w", err)
		}
		if _, _, err := s.hasher.Verify(ctx, in.Password, dummy); errors.Is(err, ports.ErrRateLimited) {
			return Issued{}, err
		}
		return Issued{}, errBadCredentials
	}
	ok, rehash, err := s.hasher.Verify(ctx, in.Password, hash)
	switch {
	case errors.Is(err, ports.ErrRateLimited), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return Issued{}, err
	case err != nil:
		s.log.ErrorContext(ctx, "stored password hash refused", "user", user.ID.String(), "error", err)
		return Issued{}, errBadCredentials
	case !ok:
		return Issued{}, errBadCredentials
	case user.VerifiedAt.IsZero():
		// A password set before the mailbox was proven proves nothing
		// about who set it (AUTH-16).
		return Issued{}, errUnverified
	}

	var out Issued
	err = s.store.InShop(ctx, in.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		if _, err := tx.Memberships().Get(ctx, user.ID); errors.Is(err, ports.ErrNotFound) {
			return errBadCredentials
		} else if err != nil {
			return err
		}
		out, err = s.mintSession(ctx, tx, user.ID, MethodPassword, c, in.Replace)
		return err
	})
	if errors.Is(err, errBadCredentials) {
		return Issued{}, errBadCredentials // not a member: the same answer as a wrong password
	} else if err != nil {
		return Issued{}, fmt.Errorf("sign in: %w", err)
	}
	if rehash {
		s.upgradeHash(ctx, user.ID, in.Password)
	}
	if err := s.limiter.reset(ctx, accountLimit("signin", email, 0).key); err != nil {
		s.log.WarnContext(ctx, "reset sign-in counter failed", "error", err)
	}
	// The session is AAL1: a user with a second factor steps up next,
	// and a member the shop requires to have one enrols (AUTH-13).
	if err := s.assess(ctx, &out.Principal); err != nil {
		return Issued{}, fmt.Errorf("sign in: %w", err)
	}
	return out, nil
}

// credentials reads the user with email and the user's password hash.
// Both are zero, with a nil error, when there is no such user or no
// password.
func (s *Service) credentials(ctx context.Context, email string) (ports.User, string, error) {
	var user ports.User
	var hash string
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		u, err := tx.Users().GetByEmail(ctx, email)
		if errors.Is(err, ports.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		h, err := tx.Passwords().Get(ctx, u.ID)
		if errors.Is(err, ports.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		user, hash = u, h
		return nil
	}, ports.ReadOnly())
	if err != nil {
		return ports.User{}, "", fmt.Errorf("read credentials: %w", err)
	}
	return user, hash, nil
}

// upgradeHash stores a hash of password at current parameters. A failure
// is logged: the next sign-in tries again.
func (s *Service) upgradeHash(ctx context.Context, user ports.UserID, password string) {
	h, err := s.hasher.Hash(ctx, password)
	if err == nil {
		err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
			return tx.Passwords().Set(ctx, user, h)
		})
	}
	if err != nil {
		s.log.WarnContext(ctx, "password re-hash failed", "user", user.String(), "error", err)
	}
}

// charge counts an attempt against limits and, when it locks a counter
// out, appends an "auth.lockout" event to shop's log (AUTH-10).
func (s *Service) charge(ctx context.Context, shop ports.ShopID, c Client, purpose string, limits ...limit) error {
	tripped, err := s.limiter.charge(ctx, s.clock.Now(), limits...)
	for _, l := range tripped {
		if shop.IsZero() {
			s.log.WarnContext(ctx, "attempts locked out", "purpose", purpose, "counter", l.key)
			continue
		}
		s.auditAlone(ctx, shop, c, event{
			actor: "anonymous", action: "auth.lockout", target: l.key, outcome: ports.OutcomeDenied,
			after: map[string]any{"purpose": purpose, "limit": l.max, "window_seconds": int(s.cfg.Limits.Window / time.Second)},
		})
	}
	return err
}
