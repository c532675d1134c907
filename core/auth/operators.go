package auth

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/stockadehq/stockade/ports"
)

// OperatorCookieName is the operator session cookie's name, apart from the
// member session cookie: an operator session grants nothing on a shop's
// host, and a member session nothing on the operator routes (AUD-5).
const OperatorCookieName = "__Host-stockade_operator"

// operatorDomain separates operator-cookie MACs from every other MAC made
// with the same keys, so a member session cookie can never pass as an
// operator's, nor the other way round.
const operatorDomain = "stockade/operator-cookie/v1"

// MethodImpersonation is the method of a session an operator entered by
// impersonating its user.
const MethodImpersonation = "impersonation"

var (
	errBadOperatorCookie = fmt.Errorf("operator cookie is malformed or not signed by this server: %w", ports.ErrUnauthenticated)
	errNoOperatorSession = fmt.Errorf("operator session not found, ended or expired: %w", ports.ErrUnauthenticated)
)

// OperatorPrincipal is a platform operator authenticated by an operator
// session. It holds no shop and no role: operators reach a shop's data
// only by impersonation.
type OperatorPrincipal struct {
	Operator  ports.OperatorID
	Email     string
	Name      string
	Session   ports.OperatorSessionID
	ExpiresAt time.Time
	// AAL is ports.AAL2 when the session used the operator's second
	// factor; an AAL1 session may only enrol one (AUTH-18).
	AAL int
}

// Actor names the operator as audit events do.
func (p OperatorPrincipal) Actor() string { return "operator:" + p.Operator.String() }

// OperatorIssued is an operator session just created: the cookie value to
// hand the browser and the principal it authenticates.
type OperatorIssued struct {
	Cookie    string
	Principal OperatorPrincipal
	// RecoveryCodes are shown once, when the sign-in confirmed the
	// operator's TOTP factor.
	RecoveryCodes []string
}

// CreateOperator creates a platform operator (for the CLI: operators are
// managed out of band, never over HTTP). The password must pass the
// password policy and is stored as a hash at current parameters.
// ErrInvalid for a bad e-mail, name or password, ErrConflict for a taken
// e-mail.
func (s *Service) CreateOperator(ctx context.Context, email, name, password string) (ports.Operator, error) {
	email = ports.NormalizeEmail(email)
	if err := ports.ValidateEmail(email); err != nil {
		return ports.Operator{}, err
	}
	name = strings.TrimSpace(name)
	if err := s.checkPassword(password, email); err != nil {
		return ports.Operator{}, err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return ports.Operator{}, fmt.Errorf("hash password: %w", err)
	}
	var op ports.Operator
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		op, err = tx.Operators().Create(ctx, ports.Operator{ID: ports.NewOperatorID(), Email: email, Name: name}, hash)
		return err
	})
	if err != nil {
		return ports.Operator{}, fmt.Errorf("create operator: %w", err)
	}
	s.log.InfoContext(ctx, "operator created", "operator", op.ID.String())
	return op, nil
}

// ListOperators returns every operator, by e-mail (for the CLI).
func (s *Service) ListOperators(ctx context.Context) ([]ports.Operator, error) {
	var out []ports.Operator
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = tx.Operators().List(ctx)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return nil, fmt.Errorf("list operators: %w", err)
	}
	return out, nil
}

// DisableOperator disables the operator with email (for the CLI): their
// sessions end, they cannot sign in again, and every impersonation session
// they hold stops working at its next request. ErrNotFound for an unknown
// e-mail.
func (s *Service) DisableOperator(ctx context.Context, email string) (ports.Operator, error) {
	var op ports.Operator
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		found, _, err := tx.Operators().Credentials(ctx, email)
		if err != nil {
			return err
		}
		op, err = tx.Operators().Disable(ctx, found.ID, s.clock.Now())
		return err
	})
	if err != nil {
		return ports.Operator{}, fmt.Errorf("disable operator %s: %w", ports.NormalizeEmail(email), err)
	}
	s.log.InfoContext(ctx, "operator disabled", "operator", op.ID.String())
	return op, nil
}

// OperatorSignInInput is an operator's password sign-in attempt.
type OperatorSignInInput struct {
	Email    string
	Password string
	Client   Client
	// Replace is the operator cookie the browser presented, if any; its
	// session ends.
	Replace string
	// Code is the current code of the operator's TOTP factor (AUTH-18):
	// required once the operator has a confirmed factor, and confirming a
	// factor enrolled at `stockade operator create --totp` on first
	// sign-in.
	Code string
}

// OperatorSignIn checks an operator's e-mail and password and creates an
// operator session valid for Config.OperatorSessionLifetime (idle
// timeout Config.OperatorIdleTimeout). It takes the member sign-in's path:
// every attempt is charged to per-e-mail and per-address counters of its
// own first (ErrRateLimited over a limit), an unknown e-mail is verified
// against the dummy hash, and every failure — unknown, wrong password,
// disabled — answers the same error matching ports.ErrUnauthenticated.
//
// Second factor (AUTH-18): an operator with a confirmed TOTP factor must
// give its current Code, which works once; the session is then AAL2. An
// operator with a pending factor (enrolled by the CLI) who gives a valid
// Code confirms it here and gets an AAL2 session and, once, the recovery
// codes (OperatorIssued.RecoveryCodes). An operator with no factor, or a
// pending one and no Code, gets an AAL1 session that may only enrol
// (EnrolOperatorTOTP, ConfirmOperatorTOTP). A wrong or replayed code
// answers ErrUnauthenticated, as a wrong password does.
func (s *Service) OperatorSignIn(ctx context.Context, in OperatorSignInInput) (OperatorIssued, error) {
	c := in.Client.clean()
	email := ports.NormalizeEmail(in.Email)
	if len(in.Password) > maxPasswordBytes || len(email) > 320 {
		return OperatorIssued{}, errBadCredentials
	}
	if err := s.charge(ctx, ports.ShopID{}, c, "operator signin",
		accountLimit("opsignin", email, s.cfg.Limits.PerAccount),
		ipLimit("opsignin", c.IP, s.cfg.Limits.PerIP)); err != nil {
		return OperatorIssued{}, err
	}
	var op ports.Operator
	var hash string
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		op, hash, err = tx.Operators().Credentials(ctx, email)
		if errors.Is(err, ports.ErrNotFound) {
			return nil
		}
		return err
	}, ports.ReadOnly())
	if err != nil {
		return OperatorIssued{}, fmt.Errorf("operator sign in: %w", err)
	}
	if hash == "" {
		dummy, err := s.dummy.get(ctx)
		if err != nil {
			return OperatorIssued{}, fmt.Errorf("operator sign in: %w", err)
		}
		if _, _, err := s.hasher.Verify(ctx, in.Password, dummy); errors.Is(err, ports.ErrRateLimited) {
			return OperatorIssued{}, err
		}
		return OperatorIssued{}, errBadCredentials
	}
	ok, rehash, err := s.hasher.Verify(ctx, in.Password, hash)
	switch {
	case errors.Is(err, ports.ErrRateLimited), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return OperatorIssued{}, err
	case err != nil:
		s.log.ErrorContext(ctx, "stored operator password hash refused", "operator", op.ID.String(), "error", err)
		return OperatorIssued{}, errBadCredentials
	case !ok || op.Disabled():
		return OperatorIssued{}, errBadCredentials
	}
	aal, codes, err := s.operatorSecondFactor(ctx, op.ID, in.Code)
	if err != nil {
		return OperatorIssued{}, err
	}

	var upgraded string
	if rehash {
		if upgraded, err = s.hasher.Hash(ctx, in.Password); err != nil {
			s.log.WarnContext(ctx, "operator password re-hash failed", "operator", op.ID.String(), "error", err)
			upgraded = ""
		}
	}
	token := newToken()
	now := s.clock.Now()
	var sess ports.OperatorSession
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		if old, err := decodeOperatorCookie(s.keys, in.Replace); err == nil {
			prev, _, err := tx.Operators().Session(ctx, old.ID)
			switch {
			case errors.Is(err, ports.ErrNotFound):
			case err != nil:
				return err
			case subtle.ConstantTimeCompare(hashToken(old.Token), prev.TokenHash) == 1:
				if err := tx.Operators().DeleteSession(ctx, old.ID); err != nil {
					return err
				}
			}
		}
		if upgraded != "" {
			if err := tx.Operators().SetPasswordHash(ctx, op.ID, upgraded); err != nil {
				return err
			}
		}
		var err error
		sess, err = tx.Operators().CreateSession(ctx, ports.OperatorSession{
			ID: ports.NewOperatorSessionID(), OperatorID: op.ID, TokenHash: hashToken(token),
			UserAgent: c.UserAgent, IP: c.IP, ExpiresAt: now.Add(s.cfg.OperatorSessionLifetime), AAL: aal,
		})
		return err
	})
	if err != nil {
		return OperatorIssued{}, fmt.Errorf("operator sign in: %w", err)
	}
	if err := s.limiter.reset(ctx, accountLimit("opsignin", email, 0).key); err != nil {
		s.log.WarnContext(ctx, "reset operator sign-in counter failed", "error", err)
	}
	s.log.InfoContext(ctx, "operator signed in", "operator", op.ID.String(), "aal", aal, "ip", c.IP, "request_id", c.RequestID)
	return OperatorIssued{
		Cookie:        encodeOperatorCookie(s.keys, operatorCredential{ID: sess.ID, Token: token}),
		Principal:     OperatorPrincipal{Operator: op.ID, Email: op.Email, Name: op.Name, Session: sess.ID, ExpiresAt: sess.ExpiresAt, AAL: sess.AAL},
		RecoveryCodes: codes,
	}, nil
}

// AuthenticateOperator turns an operator cookie into an operator
// principal: a forged or malformed cookie is refused before any database
// query; then the session is read with its operator, its token compared
// in constant time, and its absolute and idle timeouts and the operator's
// status checked. Every refusal matches ports.ErrUnauthenticated.
func (s *Service) AuthenticateOperator(ctx context.Context, cookie string) (OperatorPrincipal, error) {
	cred, err := decodeOperatorCookie(s.keys, cookie)
	if err != nil {
		return OperatorPrincipal{}, err
	}
	var sess ports.OperatorSession
	var op ports.Operator
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		sess, op, err = tx.Operators().Session(ctx, cred.ID)
		return err
	}, ports.ReadOnly())
	if errors.Is(err, ports.ErrNotFound) {
		return OperatorPrincipal{}, errNoOperatorSession
	} else if err != nil {
		return OperatorPrincipal{}, fmt.Errorf("read operator session: %w", err)
	}
	now := s.clock.Now()
	switch {
	case subtle.ConstantTimeCompare(hashToken(cred.Token), sess.TokenHash) != 1, op.Disabled():
		return OperatorPrincipal{}, errNoOperatorSession
	case !now.Before(sess.ExpiresAt), now.Sub(sess.LastSeenAt) >= s.cfg.OperatorIdleTimeout:
		return OperatorPrincipal{}, errNoOperatorSession
	case now.Sub(sess.LastSeenAt) >= min(s.cfg.LastSeenInterval, s.cfg.OperatorIdleTimeout/6):
		err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
			return tx.Operators().TouchSession(ctx, sess.ID, now)
		})
		if err != nil && !errors.Is(err, ports.ErrNotFound) {
			s.log.WarnContext(ctx, "operator session last-seen update failed", "error", err)
		}
	}
	return OperatorPrincipal{Operator: op.ID, Email: op.Email, Name: op.Name, Session: sess.ID, ExpiresAt: sess.ExpiresAt, AAL: max(sess.AAL, ports.AAL1)}, nil
}

// OperatorSignOut ends the operator session the cookie names.
// ErrUnauthenticated for a cookie that authenticates nobody.
func (s *Service) OperatorSignOut(ctx context.Context, cookie string) error {
	p, err := s.AuthenticateOperator(ctx, cookie)
	if err != nil {
		return err
	}
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		return tx.Operators().DeleteSession(ctx, p.Session)
	})
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		return fmt.Errorf("operator sign out: %w", err)
	}
	return nil
}

// operatorCredential is what an operator cookie carries.
type operatorCredential struct {
	ID    ports.OperatorSessionID
	Token []byte
}

// encodeOperatorCookie returns the operator cookie value
//
//	v1.<key id>.<session id>.<token>.<mac>
//
// in the member cookie's shape, with the MAC under operatorDomain: no
// shop is bound in, and neither cookie verifies as the other.
func encodeOperatorCookie(keys *Keyring, c operatorCredential) string {
	id := c.ID.UUID
	kid, sum := keys.sign(operatorDomain, id[:], c.Token)
	enc := base64.RawURLEncoding
	return strings.Join([]string{cookieVersion, kid, enc.EncodeToString(id[:]), enc.EncodeToString(c.Token), enc.EncodeToString(sum)}, ".")
}

// decodeOperatorCookie parses and verifies an operator cookie value
// without I/O; every failure matches ports.ErrUnauthenticated.
func decodeOperatorCookie(keys *Keyring, value string) (operatorCredential, error) {
	if value == "" || len(value) > 256 {
		return operatorCredential{}, errBadOperatorCookie
	}
	parts := strings.Split(value, ".")
	if len(parts) != 5 || parts[0] != cookieVersion {
		return operatorCredential{}, errBadOperatorCookie
	}
	enc := base64.RawURLEncoding.Strict()
	id, err1 := enc.DecodeString(parts[2])
	token, err2 := enc.DecodeString(parts[3])
	sum, err3 := enc.DecodeString(parts[4])
	if err := errors.Join(err1, err2, err3); err != nil || len(id) != 16 || len(token) != tokenSize || len(sum) != 32 {
		return operatorCredential{}, errBadOperatorCookie
	}
	if !keys.verify(parts[1], sum, operatorDomain, id, token) {
		return operatorCredential{}, errBadOperatorCookie
	}
	u, err := uuid.FromBytes(id)
	if err != nil || u == uuid.Nil {
		return operatorCredential{}, errBadOperatorCookie
	}
	return operatorCredential{ID: ports.OperatorSessionID{UUID: u}, Token: token}, nil
}
