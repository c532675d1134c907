package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
)

// Impersonation audit actions.
const (
	// ActionImpersonationStart is appended, as "attempted", before an
	// impersonation is created, and again with its outcome after.
	ActionImpersonationStart = "impersonation.start"
	// ActionImpersonationEntered records the hand-off code's exchange for
	// the impersonation session, with the session.
	ActionImpersonationEntered = "impersonation.entered"
	// ActionImpersonationRequest is appended, as "attempted", before every
	// state-changing request under impersonation runs, and again with its
	// outcome after.
	ActionImpersonationRequest = "impersonation.request"
	// ActionImpersonationEnded records an exit, with the session's end.
	ActionImpersonationEnded = "impersonation.ended"
	// ActionImpersonationExpired records the first request refused because
	// the impersonation's hour was up.
	ActionImpersonationExpired = "impersonation.expired"
)

var errBadImpersonationCode = fmt.Errorf("impersonation code is invalid, used or expired: %w", ports.ErrUnauthenticated)

// StartImpersonationInput is an operator's request to act as one member
// of one shop.
type StartImpersonationInput struct {
	Shop   string // the shop's slug
	User   string // the member: a user ID or an e-mail address
	Reason string // why; required (ports.ValidateImpersonationReason)
	Client Client
}

// ImpersonationStart is a started impersonation: the one-time Code to
// hand to the shop's host (POST, never in a URL), valid until
// CodeExpiresAt, and the impersonation's fixed end.
type ImpersonationStart struct {
	ID            ports.ImpersonationID
	Shop          ports.Shop
	User          ports.UserID
	Code          string
	CodeExpiresAt time.Time
	ExpiresAt     time.Time
}

// StartImpersonation starts an impersonation of one member of one shop by
// the operator whose cookie is operatorCookie (AUD-5). Its guard is the
// operator session: ErrUnauthenticated without a valid one, ErrForbidden
// for one that has not used the operator's second factor (AAL2, AUTH-18).
// It is
// audit-first (AUD-3, audit.Before): an "impersonation.start" event with
// outcome "attempted", naming the operator, the user, the reason and the
// impersonation's end, is appended to the shop's log in its own unit of
// work before anything of the shop is read or written; if that append
// fails nothing happens. Then the membership is checked and the
// impersonation created, and the outcome appended. The impersonation
// lasts Config.ImpersonationTTL from now and is never extended; its
// 256-bit hand-off code is returned once and stored only as a hash.
// ErrInvalid for a missing or overlong reason, ErrNotFound for an unknown
// shop or user or a user who is not a member of the shop, ErrForbidden
// for a suspended shop.
func (s *Service) StartImpersonation(ctx context.Context, operatorCookie string, in StartImpersonationInput) (ImpersonationStart, error) {
	op, err := s.AuthenticateOperator(ctx, operatorCookie)
	if err != nil {
		return ImpersonationStart{}, err
	}
	if op.AAL < ports.AAL2 {
		// AUTH-18: only a session that used the operator's second factor
		// may act as a member.
		return ImpersonationStart{}, errOperatorAAL
	}
	c := in.Client.clean()
	reason := strings.TrimSpace(in.Reason)
	if err := ports.ValidateImpersonationReason(reason); err != nil {
		return ImpersonationStart{}, err
	}
	var shop ports.Shop
	var user ports.User
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		if shop, err = tx.Shops().GetBySlug(ctx, strings.ToLower(strings.TrimSpace(in.Shop))); err != nil {
			return fmt.Errorf("shop %q: %w", in.Shop, err)
		}
		if id, perr := ports.ParseUserID(strings.TrimSpace(in.User)); perr == nil {
			user, err = tx.Users().Get(ctx, id)
		} else {
			user, err = tx.Users().GetByEmail(ctx, in.User)
		}
		if err != nil {
			return fmt.Errorf("user: %w", err)
		}
		return nil
	}, ports.ReadOnly())
	if err != nil {
		return ImpersonationStart{}, fmt.Errorf("start impersonation: %w", err)
	}
	if shop.Status != ports.ShopActive {
		return ImpersonationStart{}, fmt.Errorf("shop %q is suspended: %w", shop.Slug, ports.ErrForbidden)
	}

	code := newToken()
	now := s.clock.Now()
	imp := ports.Impersonation{
		ID: ports.NewImpersonationID(), OperatorID: op.Operator, UserID: user.ID, Reason: reason,
		CodeHash: hashToken(code), CodeExpiresAt: now.Add(s.cfg.ImpersonationCodeTTL), ExpiresAt: now.Add(s.cfg.ImpersonationTTL),
	}
	after, err := json.Marshal(map[string]string{
		"impersonation": imp.ID.String(), "reason": reason, "expires_at": ports.Timestamp(imp.ExpiresAt).Format(time.RFC3339),
	})
	if err != nil {
		return ImpersonationStart{}, err
	}
	attempted := ports.AuditEvent{
		Actor: op.Actor(), Action: ActionImpersonationStart, Target: "user:" + user.ID.String(), After: after,
		IP: c.IP, UserAgent: c.UserAgent, RequestID: c.RequestID,
	}
	err = audit.Before(ctx, s.store, s.clock, shop.ID, attempted, func(ctx context.Context) error {
		return s.store.InShop(ctx, shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
			if _, err := tx.Memberships().Get(ctx, user.ID); errors.Is(err, ports.ErrNotFound) {
				return fmt.Errorf("the user is not a member of shop %q: %w", shop.Slug, ports.ErrNotFound)
			} else if err != nil {
				return err
			}
			var err error
			imp, err = tx.Impersonations().Create(ctx, imp)
			return err
		})
	})
	if err != nil {
		return ImpersonationStart{}, fmt.Errorf("start impersonation: %w", err)
	}
	s.log.InfoContext(ctx, "impersonation started", "operator", op.Operator.String(), "shop", shop.ID.String(),
		"user", user.ID.String(), "impersonation", imp.ID.String(), "request_id", c.RequestID)
	return ImpersonationStart{
		ID: imp.ID, Shop: shop, User: user.ID, Code: base64.RawURLEncoding.EncodeToString(code),
		CodeExpiresAt: imp.CodeExpiresAt, ExpiresAt: imp.ExpiresAt,
	}, nil
}

// EnterImpersonation exchanges an impersonation's one-time hand-off code,
// presented on shop's host, for an impersonation session: a session of
// the impersonated user that names the impersonation and ends at the
// impersonation's fixed end, never later (it is not renewed by use). The
// code is spent, the session created and an "impersonation.entered" event
// appended in one unit of work (AUD-2). A code that is malformed, unknown
// in this shop, spent or expired, or whose user has left the shop,
// answers an error matching ports.ErrUnauthenticated.
func (s *Service) EnterImpersonation(ctx context.Context, shop ports.ShopID, code string, c Client) (Issued, error) {
	c = c.clean()
	raw, err := base64.RawURLEncoding.Strict().DecodeString(code)
	if err != nil || len(raw) != tokenSize {
		return Issued{}, errBadImpersonationCode
	}
	var out Issued
	err = s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		imp, err := tx.Impersonations().Redeem(ctx, hashToken(raw), s.clock.Now())
		if errors.Is(err, ports.ErrNotFound) {
			return errBadImpersonationCode
		} else if err != nil {
			return err
		}
		m, err := tx.Memberships().Get(ctx, imp.UserID)
		if errors.Is(err, ports.ErrNotFound) {
			return errBadImpersonationCode
		} else if err != nil {
			return err
		}
		token := newToken()
		sess, err := tx.Sessions().Create(ctx, ports.Session{
			ID: ports.NewSessionID(), UserID: imp.UserID, TokenHash: hashToken(token), Method: MethodImpersonation,
			UserAgent: c.UserAgent, IP: c.IP, ExpiresAt: imp.ExpiresAt, Impersonation: imp.ID,
			// The operator used a second factor to start the
			// impersonation (StartImpersonation).
			AAL: ports.AAL2,
		})
		if err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		err = s.appendAudit(ctx, tx, c, event{
			actor: "user:" + imp.UserID.String(), impersonator: "operator:" + imp.OperatorID.String(),
			action: ActionImpersonationEntered, target: "session:" + sess.ID.String(), outcome: ports.OutcomeSuccess,
			after: map[string]string{"impersonation": imp.ID.String(), "expires_at": sess.ExpiresAt.Format(time.RFC3339)},
		})
		if err != nil {
			return err
		}
		out = Issued{
			Cookie:    encodeSessionCookie(s.keys, shop, sessionCredential{ID: sess.ID, Token: token}),
			Principal: principalOf(shop, sess, m.Role, imp.OperatorID),
		}
		return nil
	})
	if err != nil {
		return Issued{}, fmt.Errorf("enter impersonation: %w", err)
	}
	return out, nil
}

// ImpersonationInfo describes the impersonation behind a session.
type ImpersonationInfo struct {
	ID            ports.ImpersonationID
	Operator      ports.OperatorID
	OperatorEmail string
	User          ports.UserID
	Reason        string
	CreatedAt     time.Time
	ExpiresAt     time.Time
}

// Impersonation describes the impersonation the principal's session
// belongs to (access.AccountSelf). ErrNotFound when the session is the
// member's own.
func (s *Service) Impersonation(ctx context.Context, p Principal) (ImpersonationInfo, error) {
	if err := s.guardSelf(ctx, p); err != nil {
		return ImpersonationInfo{}, err
	}
	if p.Impersonation.IsZero() {
		return ImpersonationInfo{}, fmt.Errorf("this session is not an impersonation: %w", ports.ErrNotFound)
	}
	var imp ports.Impersonation
	err := s.store.InShop(ctx, p.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		imp, err = tx.Impersonations().Get(ctx, p.Impersonation)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return ImpersonationInfo{}, fmt.Errorf("read impersonation: %w", err)
	}
	var op ports.Operator
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		op, err = tx.Operators().Get(ctx, imp.OperatorID)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return ImpersonationInfo{}, fmt.Errorf("read operator: %w", err)
	}
	return ImpersonationInfo{
		ID: imp.ID, Operator: op.ID, OperatorEmail: op.Email, User: imp.UserID, Reason: imp.Reason,
		CreatedAt: imp.CreatedAt, ExpiresAt: imp.ExpiresAt,
	}, nil
}

// ExitImpersonation ends the impersonation the principal's session
// belongs to (access.AccountSelf): the session is deleted, the
// impersonation marked ended and an "impersonation.ended" event appended,
// in one unit of work. Over HTTP the request is itself audited first
// (AuditImpersonated). ErrNotFound when the session is the member's own.
func (s *Service) ExitImpersonation(ctx context.Context, p Principal, c Client) error {
	if err := s.guardSelf(ctx, p); err != nil {
		return err
	}
	if p.Impersonation.IsZero() {
		return fmt.Errorf("this session is not an impersonation: %w", ports.ErrNotFound)
	}
	now := s.clock.Now()
	err := s.store.InShop(ctx, p.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		if err := tx.Sessions().Delete(ctx, p.Session); err != nil {
			return err
		}
		if _, err := tx.Impersonations().End(ctx, p.Impersonation, now); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, c.clean(), event{
			actor: p.Actor(), impersonator: "operator:" + p.Impersonator.String(), action: ActionImpersonationEnded,
			target: "impersonation:" + p.Impersonation.String(), outcome: ports.OutcomeSuccess,
			after: map[string]string{"session": p.Session.String(), "how": "exit"},
		})
	})
	if err != nil {
		return fmt.Errorf("exit impersonation: %w", err)
	}
	return nil
}

// AuditImpersonated runs serve, a state-changing request described by
// what (e.g. "PATCH /shop"), audit-first when ctx's scope is an
// impersonation (AUD-3, AUD-5): an "impersonation.request" event naming
// the impersonated user and the operator is appended to the scope's shop
// log in its own unit of work before serve runs — if that append fails
// serve does not run — and serve's outcome after (see audit.Before).
// Without an impersonated scope it runs serve as is.
func (s *Service) AuditImpersonated(ctx context.Context, what string, serve func(ctx context.Context) error) error {
	sc, ok := access.From(ctx)
	if !ok || sc.Impersonator == "" {
		return serve(ctx)
	}
	after, err := json.Marshal(map[string]string{"request": truncate(what, 300)})
	if err != nil {
		return err
	}
	attempted := ports.AuditEvent{
		Actor: sc.Actor(), Impersonator: sc.Impersonator, Action: ActionImpersonationRequest,
		Target: "session:" + sc.Session.String(), After: after,
		IP: truncate(sc.IP, 64), UserAgent: truncate(sc.UserAgent, 512), RequestID: truncate(sc.RequestID, 128),
	}
	return audit.Before(ctx, s.store, s.clock, sc.Shop, attempted, serve)
}

// expireImpersonation ends an impersonation session found past its end:
// the session is deleted, the impersonation marked ended at its end, and
// an "impersonation.expired" event appended (outcome denied: the request
// that noticed is refused), in one unit of work and only once (a
// concurrent request that loses the delete appends nothing). A failure is
// logged: the request is refused either way.
func (s *Service) expireImpersonation(ctx context.Context, shop ports.ShopID, rs ports.ResolvedSession) {
	sess := rs.Session
	err := s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		if err := tx.Sessions().Delete(ctx, sess.ID); err != nil {
			return err
		}
		if _, err := tx.Impersonations().End(ctx, sess.Impersonation, sess.ExpiresAt); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, Client{}, event{
			actor: "user:" + sess.UserID.String(), impersonator: "operator:" + rs.Impersonator.String(),
			action: ActionImpersonationExpired, target: "impersonation:" + sess.Impersonation.String(), outcome: ports.OutcomeDenied,
			after: map[string]string{"session": sess.ID.String(), "expired_at": sess.ExpiresAt.Format(time.RFC3339)},
		})
	})
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		s.log.WarnContext(ctx, "ending an expired impersonation failed", "error", err)
	}
}
