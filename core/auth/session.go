package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// Session methods, as recorded on the session and in audit events.
const (
	MethodPassword  = "password"
	MethodMagicLink = "magic_link"
	MethodOIDC      = "oidc"
)

var (
	errNoSession      = fmt.Errorf("session not found or revoked: %w", ports.ErrUnauthenticated)
	errSessionExpired = fmt.Errorf("session expired: %w", ports.ErrUnauthenticated)
)

// Authenticate turns the session cookie presented on shop's host into a
// principal (AUTH-6, AUTH-7, TEN-7). A malformed, forged or other-shop
// cookie is refused before any database query; otherwise the session is
// resolved inside shop's tenant boundary (one round trip on the stores in
// this module), its token compared in constant time with the stored hash,
// and its absolute and idle timeouts checked. LastSeenAt is written only
// when older than Config.LastSeenInterval. Every refusal matches
// ports.ErrUnauthenticated.
//
// An impersonation session (AUD-5) authenticates as its user with the
// operator in Principal.Impersonator. It ends at its fixed ExpiresAt
// whatever its use; the first request after that is refused, ends the
// session and appends an "impersonation.expired" event.
//
// A session that must use or enrol a second factor first (AUTH-13: see
// Principal.Pending) is refused with ErrStepUpRequired or
// ErrEnrolRequired, which match ports.ErrForbidden: the check is made here,
// on every use of a session, from the policy and factors in the store at
// the time of the request.
func (s *Service) Authenticate(ctx context.Context, shop ports.ShopID, cookie string) (Principal, error) {
	p, err := s.AuthenticatePending(ctx, shop, cookie)
	if err != nil {
		return Principal{}, err
	}
	if err := PendingError(p); err != nil {
		return Principal{}, err
	}
	return p, nil
}

// AuthenticatePending is Authenticate that also returns a principal whose
// session must still step up or enrol (Principal.Pending set), for the
// routes that serve exactly that: stepping up, enrolling, signing out,
// "who am I". Every other use of such a principal must be refused
// (PendingError).
func (s *Service) AuthenticatePending(ctx context.Context, shop ports.ShopID, cookie string) (Principal, error) {
	cred, err := decodeSessionCookie(s.keys, shop, cookie)
	if err != nil {
		return Principal{}, err
	}
	rs, err := s.resolver.ResolveSession(ctx, shop, cred.ID)
	if errors.Is(err, ports.ErrNotFound) {
		return Principal{}, errNoSession
	}
	if err != nil {
		return Principal{}, fmt.Errorf("resolve session: %w", err)
	}
	sess := rs.Session
	if subtle.ConstantTimeCompare(hashToken(cred.Token), sess.TokenHash) != 1 {
		return Principal{}, errNoSession
	}
	now := s.clock.Now()
	switch {
	case sess.CreatedAt.Before(rs.ValidAfter):
		return Principal{}, errNoSession // ended everywhere (password change or reset)
	case !now.Before(sess.ExpiresAt):
		if !sess.Impersonation.IsZero() {
			s.expireImpersonation(ctx, shop, rs)
		}
		return Principal{}, errSessionExpired
	case now.Sub(sess.LastSeenAt) >= s.cfg.SessionIdleTimeout:
		return Principal{}, errSessionExpired
	case now.Sub(sess.LastSeenAt) >= s.cfg.LastSeenInterval:
		s.touch(ctx, shop, sess.ID, now)
	}
	p := principalOf(shop, sess, rs.Role, rs.Impersonator)
	p.HasSecondFactor = rs.HasSecondFactor
	p.Pending = pendingOf(sess.AAL, p.Impersonated(), rs.HasSecondFactor, rs.TwoFactor, rs.Role)
	return p, nil
}

// touch records that the session was used. A failure is logged, not
// returned: the request is authenticated either way.
func (s *Service) touch(ctx context.Context, shop ports.ShopID, id ports.SessionID, now time.Time) {
	err := s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		return tx.Sessions().Touch(ctx, id, now)
	})
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		s.log.WarnContext(ctx, "session last-seen update failed", "error", err)
	}
}

func principalOf(shop ports.ShopID, sess ports.Session, role ports.Role, impersonator ports.OperatorID) Principal {
	return Principal{
		Shop: shop, User: sess.UserID, Role: role, Session: sess.ID, Method: sess.Method, ExpiresAt: sess.ExpiresAt,
		Impersonation: sess.Impersonation, Impersonator: impersonator,
		AAL: max(sess.AAL, ports.AAL1), ReauthenticatedAt: sess.ReauthenticatedAt,
	}
}

// mintSession creates a session for user in tx's shop, appends its
// "auth.session.created" audit event in the same unit of work, and
// returns its cookie. When replace names a session of the same shop (the
// one the browser presented while signing in) and the cookie still holds
// its current token, it is deleted, so a fixed
// or stolen pre-sign-in session never becomes an authenticated one.
// IssueSession creates a session for user in tx's shop and returns its
// cookie, for use cases in other core packages that have proven who the
// user is by other means in the same unit of work (an accepted
// invitation: the mailed token proves the mailbox, as a magic link does).
// The user must be a member of the shop by the time it is called. replace
// is a cookie the browser presented, which ends if it is still current.
func (s *Service) IssueSession(ctx context.Context, tx ports.ShopTx, user ports.UserID, method string, c Client, replace string) (Issued, error) {
	return s.mintSession(ctx, tx, user, method, c.clean(), replace)
}

func (s *Service) mintSession(ctx context.Context, tx ports.ShopTx, user ports.UserID, method string, c Client, replace string) (Issued, error) {
	return s.mintSessionAt(ctx, tx, user, method, ports.AAL1, c, replace)
}

// mintSessionAt is mintSession at assurance level aal.
func (s *Service) mintSessionAt(ctx context.Context, tx ports.ShopTx, user ports.UserID, method string, aal int, c Client, replace string) (Issued, error) {
	if old, err := decodeSessionCookie(s.keys, tx.ShopID(), replace); err == nil {
		// End the presented session only if the cookie still holds its
		// current token: a retired cookie has no power left.
		prev, err := tx.Sessions().Get(ctx, old.ID)
		switch {
		case errors.Is(err, ports.ErrNotFound):
		case err != nil:
			return Issued{}, err
		case subtle.ConstantTimeCompare(hashToken(old.Token), prev.TokenHash) == 1:
			if err := tx.Sessions().Delete(ctx, old.ID); err != nil {
				return Issued{}, err
			}
		}
	}
	token := newToken()
	now := s.clock.Now()
	sess, err := tx.Sessions().Create(ctx, ports.Session{
		ID:        ports.NewSessionID(),
		UserID:    user,
		TokenHash: hashToken(token),
		Method:    method,
		UserAgent: c.UserAgent,
		IP:        c.IP,
		ExpiresAt: now.Add(s.cfg.SessionLifetime),
		AAL:       aal,
	})
	if err != nil {
		return Issued{}, fmt.Errorf("create session: %w", err)
	}
	m, err := tx.Memberships().Get(ctx, user)
	if err != nil {
		return Issued{}, fmt.Errorf("read membership: %w", err)
	}
	err = s.appendAudit(ctx, tx, c, event{
		actor: "user:" + user.String(), action: "auth.session.created", target: "session:" + sess.ID.String(),
		outcome: ports.OutcomeSuccess, after: map[string]string{"method": method},
	})
	if err != nil {
		return Issued{}, err
	}
	return Issued{
		Cookie:    encodeSessionCookie(s.keys, tx.ShopID(), sessionCredential{ID: sess.ID, Token: token}),
		Principal: principalOf(tx.ShopID(), sess, m.Role, ports.OperatorID{}),
	}, nil
}

// Rotate gives the principal's session a new token and returns the new
// cookie; the old cookie stops working (AUTH-7: rotate on privilege
// change).
func (s *Service) Rotate(ctx context.Context, p Principal, c Client) (Issued, error) {
	token := newToken()
	var out Issued
	err := s.store.InShop(ctx, p.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		if err := tx.Sessions().Rotate(ctx, p.Session, hashToken(token)); err != nil {
			return err
		}
		m, err := tx.Memberships().Get(ctx, p.User)
		if err != nil {
			return err
		}
		out = Issued{Cookie: encodeSessionCookie(s.keys, p.Shop, sessionCredential{ID: p.Session, Token: token})}
		out.Principal = p
		out.Principal.Role = m.Role
		return s.appendAudit(ctx, tx, c.clean(), event{actor: p.Actor(), action: "auth.session.rotated", target: "session:" + p.Session.String(), outcome: ports.OutcomeSuccess})
	})
	if err != nil {
		return Issued{}, fmt.Errorf("rotate session: %w", err)
	}
	return out, nil
}
