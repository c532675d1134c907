package auth

import (
	"context"
	"errors"
	"fmt"
	"github.com/stockadehq/stockade/core/access"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// SessionInfo is one session as its owner sees it in a session list
// (AUTH-8). It carries no secret.
type SessionInfo struct {
	ID         ports.SessionID
	Device     string // e.g. "Firefox on Linux", from the user agent
	IP         string
	Method     string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	Current    bool // the session making the request
}

// ListSessions returns the principal's sessions in its shop, newest first.
func (s *Service) ListSessions(ctx context.Context, p Principal) ([]SessionInfo, error) {
	if err := s.guardSelf(ctx, p); err != nil {
		return nil, err
	}
	var out []SessionInfo
	err := s.store.InShop(ctx, p.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		list, err := tx.Sessions().ListByUser(ctx, p.User)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		for _, sess := range list {
			if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.cfg.SessionIdleTimeout {
				continue // ended; swept later
			}
			out = append(out, SessionInfo{
				ID: sess.ID, Device: Device(sess.UserAgent), IP: sess.IP, Method: sess.Method,
				CreatedAt: sess.CreatedAt, LastSeenAt: sess.LastSeenAt, ExpiresAt: sess.ExpiresAt,
				Current: sess.ID == p.Session,
			})
		}
		return nil
	}, ports.ReadOnly())
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// SignOut ends the principal's own session; for an impersonation session
// it is ExitImpersonation.
func (s *Service) SignOut(ctx context.Context, p Principal, c Client) error {
	if p.Impersonated() {
		return s.ExitImpersonation(ctx, p, c)
	}
	return s.RevokeSession(ctx, p, p.Session, c)
}

// RevokeSession ends one of the principal's own sessions. ErrNotFound if
// id is not a session of the principal's in this shop.
func (s *Service) RevokeSession(ctx context.Context, p Principal, id ports.SessionID, c Client) error {
	if err := s.guardSelf(ctx, p); err != nil {
		return err
	}
	var ev published
	err := s.store.InShop(ctx, p.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		sess, err := tx.Sessions().Get(ctx, id)
		if err != nil {
			return err
		}
		if sess.UserID != p.User {
			return fmt.Errorf("session %s: %w", id, ports.ErrNotFound)
		}
		if err := tx.Sessions().Delete(ctx, id); err != nil {
			return err
		}
		if err := s.appendAudit(ctx, tx, c.clean(), event{actor: p.Actor(), action: "auth.session.revoked", target: "session:" + id.String(), outcome: ports.OutcomeSuccess}); err != nil {
			return err
		}
		return s.sessionsRevoked(ctx, tx, &ev, p.User, id, 1, "self")
	})
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	s.events.After(ctx, ev)
	return nil
}

// RevokeOtherSessions ends every session of the principal's in this shop
// but the current one, and returns how many it ended.
func (s *Service) RevokeOtherSessions(ctx context.Context, p Principal, c Client) (int, error) {
	if err := s.guardSelf(ctx, p); err != nil {
		return 0, err
	}
	var n int
	var ev published
	err := s.store.InShop(ctx, p.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		if n, err = tx.Sessions().DeleteByUser(ctx, p.User, p.Session); err != nil {
			return err
		}
		if err := s.appendAudit(ctx, tx, c.clean(), event{actor: p.Actor(), action: "auth.session.revoked_others", target: "user:" + p.User.String(), outcome: ports.OutcomeSuccess, after: map[string]int{"revoked": n}}); err != nil {
			return err
		}
		return s.sessionsRevoked(ctx, tx, &ev, p.User, ports.SessionID{}, n, "self")
	})
	if err != nil {
		return 0, fmt.Errorf("revoke other sessions: %w", err)
	}
	s.events.After(ctx, ev)
	return n, nil
}

// RevokeMemberSessions ends every session a member has in the caller's
// shop and returns how many. The caller's scope needs
// access.MembersSessions (owners and admins by default), and
// access.MembersOwners too when the member is an Owner (an Admin cannot
// sign the Owner out); anyone else gets ErrForbidden, and the refusal is
// audited. ErrNotFound if user is not a member.
func (s *Service) RevokeMemberSessions(ctx context.Context, p Principal, user ports.UserID, c Client) (int, error) {
	c = c.clean()
	denied := event{actor: p.Actor(), action: "auth.member_sessions.revoked", target: "user:" + user.String(), outcome: ports.OutcomeDenied}
	sc, err := s.access.Require(ctx, access.MembersSessions)
	if errors.Is(err, ports.ErrForbidden) {
		s.auditAlone(ctx, p.Shop, c, denied)
	}
	if err != nil {
		return 0, fmt.Errorf("revoke member sessions: %w", err)
	}
	var n int
	var ev published
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		m, err := tx.Memberships().Get(ctx, user)
		if err != nil {
			return err
		}
		if m.Role == ports.RoleOwner {
			if _, err := s.access.Require(ctx, access.MembersOwners); err != nil {
				return err
			}
		}
		if n, err = tx.Sessions().DeleteByUser(ctx, user, ports.SessionID{}); err != nil {
			return err
		}
		if err := s.appendAudit(ctx, tx, c, event{actor: sc.Actor(), impersonator: sc.Impersonator, action: "auth.member_sessions.revoked", target: "user:" + user.String(), outcome: ports.OutcomeSuccess, after: map[string]int{"revoked": n}}); err != nil {
			return err
		}
		return s.sessionsRevoked(ctx, tx, &ev, user, ports.SessionID{}, n, "admin")
	})
	if errors.Is(err, ports.ErrForbidden) {
		s.auditAlone(ctx, sc.Shop, c, denied)
	}
	if err != nil {
		return 0, fmt.Errorf("revoke member sessions: %w", err)
	}
	s.events.After(ctx, ev)
	return n, nil
}

// guardSelf is the guard of the use cases on the caller's own account: the
// scope must hold access.AccountSelf and be the principal's own (same
// shop, user and session), so a principal cannot be passed in for
// somebody else's request.
func (s *Service) guardSelf(ctx context.Context, p Principal) error {
	sc, err := s.access.Require(ctx, access.AccountSelf)
	if err != nil {
		return err
	}
	if sc.Shop != p.Shop || sc.User != p.User || sc.Session != p.Session {
		return fmt.Errorf("the principal is not the caller's: %w", ports.ErrForbidden)
	}
	return nil
}
