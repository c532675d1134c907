package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/stockadehq/stockade/ports"
)

// Second-factor audit actions, appended to the log of the shop where the
// user acted.
const (
	ActionTOTPEnrolmentStarted  = "auth.2fa.totp.enrolment_started"
	ActionTOTPConfirmed         = "auth.2fa.totp.confirmed"
	ActionTOTPDisabled          = "auth.2fa.totp.disabled"
	ActionRecoveryRegenerated   = "auth.2fa.recovery_codes.regenerated"
	ActionStepUp                = "auth.2fa.step_up"
	ActionTwoFactorPolicyChange = "security.two_factor_policy.updated"
	// ActionSecondFactorReset: an operator removed every factor of a
	// member who lost the device (ResetUserSecondFactor).
	ActionSecondFactorReset = "auth.2fa.reset"
)

var (
	// errWrongCode answers a wrong, expired, replayed or used code as a
	// refused field (400): the session itself is still good.
	errWrongCode     = ports.Invalid("code", "is wrong, expired or used already")
	errNoFactor      = fmt.Errorf("no second factor is enrolled: %w", ports.ErrConflict)
	errFactorNotUsed = fmt.Errorf("you have a second factor: step up with a code from your authenticator app, a recovery code or a passkey: %w", ports.ErrInvalid)
)

// StepUpInput is one proof of who the user is, for StepUp: exactly one
// field set. A user with a second factor gives a Code from the
// authenticator app or a RecoveryCode; a user without one gives the
// Password.
type StepUpInput struct {
	Code         string
	RecoveryCode string
	Password     string
}

// SecondFactorStatus is what the principal's account has, and what its
// shop requires of it.
type SecondFactorStatus struct {
	TOTP              bool // a confirmed TOTP factor
	TOTPPending       bool // an enrolment started and not confirmed
	RecoveryCodesLeft int
	// Required is set when the shop's policy requires the principal's
	// role to use a second factor (AUTH-13).
	Required bool
}

// SecondFactors returns the principal's second-factor status.
func (s *Service) SecondFactors(ctx context.Context, p Principal) (SecondFactorStatus, error) {
	if err := s.guardSelf(ctx, p); err != nil {
		return SecondFactorStatus{}, err
	}
	var out SecondFactorStatus
	owner := ports.UserFactors(p.User)
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		f, err := tx.SecondFactors().TOTP(ctx, owner)
		switch {
		case errors.Is(err, ports.ErrNotFound):
			return nil
		case err != nil:
			return err
		}
		out.TOTP, out.TOTPPending = f.Confirmed(), !f.Confirmed()
		codes, err := tx.SecondFactors().RecoveryCodes(ctx, owner)
		for _, c := range codes {
			if !c.Used() {
				out.RecoveryCodesLeft++
			}
		}
		return err
	}, ports.ReadOnly())
	if err != nil {
		return SecondFactorStatus{}, fmt.Errorf("second factors: %w", err)
	}
	policy, err := s.policyOf(ctx, p.Shop)
	if err != nil {
		return SecondFactorStatus{}, err
	}
	out.Required = policy.Requires(p.Role)
	return out, nil
}

// EnrolTOTP starts a TOTP enrolment for the principal: a fresh secret,
// sealed under the server's key and stored pending, replacing a pending
// one. The secret, its otpauth:// URI and QR code are returned once; the
// factor counts only when ConfirmTOTP has seen a first valid code. It needs
// a recent authentication (RequireRecentAuth: a stolen session alone
// cannot bind an attacker's authenticator). ErrConflict when a confirmed
// factor exists (disable it first), ErrForbidden under impersonation.
func (s *Service) EnrolTOTP(ctx context.Context, p Principal, c Client) (TOTPEnrolment, error) {
	if err := s.guardFactorChange(ctx, p, false); err != nil {
		return TOTPEnrolment{}, err
	}
	user, err := s.User(ctx, p)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	owner := ports.UserFactors(p.User)
	raw, en, err := s.newTOTPKey(user.Email)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	sealed, err := s.sealSecret(ctx, owner, raw)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		_, err := tx.SecondFactors().PutPendingTOTP(ctx, ports.TOTPFactor{Owner: owner, SealedSecret: sealed})
		return err
	})
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("enrol totp: %w", err)
	}
	s.auditAlone(ctx, p.Shop, c.clean(), event{actor: p.Actor(), action: ActionTOTPEnrolmentStarted, target: "user:" + p.User.String(), outcome: ports.OutcomeSuccess})
	return en, nil
}

// ConfirmTOTP confirms the principal's pending TOTP factor with a first
// valid code and returns RecoveryCodeCount recovery codes, shown once and
// stored hashed. The code proves the second factor in this session too: it
// is raised to AAL2 and counts as re-authenticated, and the returned
// principal says so. Attempts are charged to the account's second-factor
// counter (ErrRateLimited over it). ErrInvalid for a wrong code,
// ErrNotFound without a pending enrolment, ErrConflict when the factor is
// confirmed already.
func (s *Service) ConfirmTOTP(ctx context.Context, p Principal, code string, c Client) ([]string, Principal, error) {
	if err := s.guardSelf(ctx, p); err != nil {
		return nil, Principal{}, err
	}
	if p.Impersonated() {
		return nil, Principal{}, errFactorImpersonated
	}
	c = c.clean()
	owner := ports.UserFactors(p.User)
	if err := s.charge(ctx, p.Shop, c, "2fa", accountLimit("2fa", owner.String(), s.cfg.Limits.PerAccount)); err != nil {
		return nil, Principal{}, err
	}
	f, err := s.readTOTP(ctx, owner)
	if err != nil {
		return nil, Principal{}, fmt.Errorf("confirm totp: %w", err)
	}
	if f.Confirmed() {
		return nil, Principal{}, fmt.Errorf("confirm totp: the factor is confirmed already: %w", ports.ErrConflict)
	}
	secret, err := s.openSecret(ctx, owner, f.SealedSecret)
	if err != nil {
		return nil, Principal{}, err
	}
	now := s.clock.Now()
	step, ok := matchTOTP(secret, code, now)
	if !ok {
		s.auditAlone(ctx, p.Shop, c, event{actor: p.Actor(), action: ActionTOTPConfirmed, target: "user:" + p.User.String(), outcome: ports.OutcomeDenied})
		return nil, Principal{}, errWrongCode
	}
	codes, hashes := newRecoveryCodes()
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		if _, err := tx.SecondFactors().ConfirmTOTP(ctx, owner, step, now); err != nil {
			return err
		}
		return tx.SecondFactors().ReplaceRecoveryCodes(ctx, owner, hashes)
	})
	if err != nil {
		return nil, Principal{}, fmt.Errorf("confirm totp: %w", err)
	}
	out, err := s.reauthenticate(ctx, p, ports.AAL2, c, event{actor: p.Actor(), action: ActionTOTPConfirmed, target: "user:" + p.User.String(), outcome: ports.OutcomeSuccess})
	if err != nil {
		return nil, Principal{}, err
	}
	out.HasSecondFactor = true
	return codes, out, nil
}

// StepUp proves who the principal is again (AUTH-13): with a TOTP code or
// a recovery code for a user who has a second factor, which raises the
// session to AAL2; with the password for a user who has none, which keeps
// AAL1. Either way the session counts as re-authenticated now (see
// RequireRecentAuth). A TOTP code works once (its step is recorded) and a
// recovery code once. Attempts are charged to the account's
// second-factor counter (ErrRateLimited over it); a refusal is audited.
// ErrInvalid for a wrong, expired, replayed or used code, a password from
// a user who has a second factor, or an input with not exactly one field;
// ErrUnauthenticated for a wrong password; ErrForbidden under
// impersonation.
func (s *Service) StepUp(ctx context.Context, p Principal, in StepUpInput, c Client) (Principal, error) {
	if err := s.guardSelf(ctx, p); err != nil {
		return Principal{}, err
	}
	if p.Impersonated() {
		return Principal{}, errFactorImpersonated
	}
	given := 0
	for _, f := range []string{in.Code, in.RecoveryCode, in.Password} {
		if f != "" {
			given++
		}
	}
	if given != 1 {
		return Principal{}, ports.Invalid("step up", "give exactly one of code, recovery_code and password")
	}
	c = c.clean()
	owner := ports.UserFactors(p.User)
	if err := s.charge(ctx, p.Shop, c, "2fa", accountLimit("2fa", owner.String(), s.cfg.Limits.PerAccount)); err != nil {
		return Principal{}, err
	}
	denied := event{actor: p.Actor(), action: ActionStepUp, target: "session:" + p.Session.String(), outcome: ports.OutcomeDenied}
	f, err := s.readTOTP(ctx, owner)
	hasFactor := err == nil && f.Confirmed()
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		return Principal{}, fmt.Errorf("step up: %w", err)
	}
	aal := ports.AAL1
	method := "password"
	switch {
	case (hasFactor || p.HasSecondFactor) && in.Password != "":
		// p.HasSecondFactor without TOTP: the user has a passkey on this
		// shop, which steps up through POST /auth/passkeys/step-up.
		return Principal{}, errFactorNotUsed
	case hasFactor:
		if err := s.verifySecondFactor(ctx, owner, f, in.Code, in.RecoveryCode); err != nil {
			if errors.Is(err, errWrongCode) {
				s.auditAlone(ctx, p.Shop, c, denied)
			}
			return Principal{}, err
		}
		aal, method = ports.AAL2, "totp"
		if in.RecoveryCode != "" {
			method = "recovery_code"
		}
	case in.Password == "":
		return Principal{}, errNoFactor
	default:
		if err := s.verifyPassword(ctx, p.User, in.Password); err != nil {
			if errors.Is(err, errWrongPassword) {
				s.auditAlone(ctx, p.Shop, c, denied)
			}
			return Principal{}, err
		}
	}
	out, err := s.reauthenticate(ctx, p, max(aal, p.AAL), c, event{
		actor: p.Actor(), action: ActionStepUp, target: "session:" + p.Session.String(), outcome: ports.OutcomeSuccess,
		after: map[string]any{"method": method, "aal": max(aal, p.AAL)},
	})
	if err != nil {
		return Principal{}, err
	}
	out.HasSecondFactor = hasFactor
	return out, nil
}

// verifySecondFactor checks a TOTP code (spending its step) or a recovery
// code (spending it) against the owner's confirmed factor f. errWrongCode
// for a wrong, replayed or used one.
func (s *Service) verifySecondFactor(ctx context.Context, owner ports.FactorOwner, f ports.TOTPFactor, code, recovery string) error {
	if recovery != "" {
		err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
			codes, err := tx.SecondFactors().RecoveryCodes(ctx, owner)
			if err != nil {
				return err
			}
			hash, ok := matchRecoveryCode(codes, recovery)
			if !ok {
				return errWrongCode
			}
			return tx.SecondFactors().UseRecoveryCode(ctx, owner, hash, s.clock.Now())
		})
		if errors.Is(err, ports.ErrNotFound) {
			return errWrongCode // spent by a concurrent request
		}
		return err
	}
	secret, err := s.openSecret(ctx, owner, f.SealedSecret)
	if err != nil {
		return err
	}
	step, ok := matchTOTP(secret, code, s.clock.Now())
	if !ok {
		return errWrongCode
	}
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		return tx.SecondFactors().UseTOTPStep(ctx, owner, step)
	})
	if errors.Is(err, ports.ErrConflict) || errors.Is(err, ports.ErrNotFound) {
		return errWrongCode // replayed within its window, or disabled meanwhile
	}
	return err
}

// verifyPassword checks user's password for a step-up; errWrongPassword
// when it is wrong or the user has none.
func (s *Service) verifyPassword(ctx context.Context, user ports.UserID, password string) error {
	if len(password) > maxPasswordBytes {
		return errWrongCode
	}
	var hash string
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		hash, err = tx.Passwords().Get(ctx, user)
		return err
	}, ports.ReadOnly())
	if errors.Is(err, ports.ErrNotFound) {
		return errWrongPassword
	} else if err != nil {
		return fmt.Errorf("step up: %w", err)
	}
	ok, _, err := s.hasher.Verify(ctx, password, hash)
	if err != nil {
		return fmt.Errorf("step up: %w", err)
	}
	if !ok {
		return errWrongPassword
	}
	return nil
}

// RegenerateRecoveryCodes replaces the principal's recovery codes, used or
// not, with RecoveryCodeCount fresh ones, returned once. A sensitive
// action: it needs AAL2 and a recent re-authentication
// (RequireRecentAuth). ErrConflict without a confirmed factor.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, p Principal, c Client) ([]string, error) {
	if err := s.guardFactorChange(ctx, p, true); err != nil {
		return nil, err
	}
	owner := ports.UserFactors(p.User)
	codes, hashes := newRecoveryCodes()
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		f, err := tx.SecondFactors().TOTP(ctx, owner)
		if errors.Is(err, ports.ErrNotFound) || (err == nil && !f.Confirmed()) {
			return errNoFactor
		} else if err != nil {
			return err
		}
		return tx.SecondFactors().ReplaceRecoveryCodes(ctx, owner, hashes)
	})
	if err != nil {
		return nil, fmt.Errorf("regenerate recovery codes: %w", err)
	}
	s.auditAlone(ctx, p.Shop, c.clean(), event{actor: p.Actor(), action: ActionRecoveryRegenerated, target: "user:" + p.User.String(), outcome: ports.OutcomeSuccess})
	return codes, nil
}

// DisableTOTP removes the principal's TOTP factor and recovery codes. A
// sensitive action (RequireRecentAuth). ErrConflict while the shop's
// policy requires the principal's role to use a second factor, and
// without a factor.
func (s *Service) DisableTOTP(ctx context.Context, p Principal, c Client) error {
	if err := s.guardFactorChange(ctx, p, true); err != nil {
		return err
	}
	policy, err := s.policyOf(ctx, p.Shop)
	if err != nil {
		return err
	}
	if policy.Requires(p.Role) {
		return fmt.Errorf("disable totp: this shop requires your role to use a second factor: %w", ports.ErrConflict)
	}
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		return tx.SecondFactors().DeleteTOTP(ctx, ports.UserFactors(p.User))
	})
	if errors.Is(err, ports.ErrNotFound) {
		return errNoFactor
	} else if err != nil {
		return fmt.Errorf("disable totp: %w", err)
	}
	s.auditAlone(ctx, p.Shop, c.clean(), event{actor: p.Actor(), action: ActionTOTPDisabled, target: "user:" + p.User.String(), outcome: ports.OutcomeSuccess})
	return nil
}

// ResetUserSecondFactor removes every second factor of the user with
// email without knowing it, on an operator's behalf (the CLI, for a member
// who lost the device): the TOTP factor with its recovery codes and the
// passkeys the user registered in each of their shops (a lost device's
// passkey must not keep signing in). It ends every session the user has in
// every shop, and appends ActionSecondFactorReset to each shop's log.
//
// Passkeys go first, shop by shop; the TOTP factor and the sessions last,
// in one global unit of work. A reset that fails part way can be run again.
// ErrNotFound for an unknown e-mail or a user with no factor at all.
func (s *Service) ResetUserSecondFactor(ctx context.Context, email string) (ports.User, error) {
	fail := func(err error) (ports.User, error) {
		return ports.User{}, fmt.Errorf("reset second factor of %s: %w", ports.NormalizeEmail(email), err)
	}
	var (
		user  ports.User
		shops []ports.ShopID
	)
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		if user, err = tx.Users().GetByEmail(ctx, email); err != nil {
			return err
		}
		shops, err = tx.Users().Shops(ctx, user.ID)
		return err
	})
	if err != nil {
		return fail(err)
	}
	passkeys := make(map[ports.ShopID]int, len(shops))
	removed := 0
	for _, shop := range shops {
		err := s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
			keys, err := tx.Passkeys().ListByUser(ctx, user.ID)
			if err != nil {
				return err
			}
			for _, k := range keys {
				if err := tx.Passkeys().Delete(ctx, user.ID, k.ID); err != nil && !errors.Is(err, ports.ErrNotFound) {
					return err
				}
			}
			passkeys[shop] = len(keys)
			return nil
		})
		if err != nil {
			return fail(fmt.Errorf("remove passkeys in shop %s: %w", shop, err))
		}
		removed += passkeys[shop]
	}
	totp := true
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		err := tx.SecondFactors().DeleteTOTP(ctx, ports.UserFactors(user.ID))
		if errors.Is(err, ports.ErrNotFound) {
			totp, err = false, nil
		}
		if err != nil {
			return err
		}
		if !totp && removed == 0 {
			return fmt.Errorf("the user has no second factor: %w", ports.ErrNotFound)
		}
		return tx.Users().EndSessions(ctx, user.ID, s.clock.Now())
	})
	if err != nil {
		return fail(err)
	}
	for _, shop := range shops {
		s.auditAlone(ctx, shop, Client{}, event{
			actor: "system:cli", action: ActionSecondFactorReset,
			target: "user:" + user.ID.String(), outcome: ports.OutcomeSuccess,
			after: map[string]any{"totp_removed": totp, "passkeys_removed_here": passkeys[shop]},
		})
	}
	s.log.InfoContext(ctx, "user second factor reset", "user", user.ID.String(), "totp", totp, "passkeys", removed)
	return user, nil
}

var errFactorImpersonated = fmt.Errorf("second factors are the user's own: not while impersonating: %w", ports.ErrForbidden)

// guardFactorChange is the guard of the use cases that change the
// principal's factors: the principal's own scope, no impersonation, and
// a recent authentication (with AAL2 when sensitive and the user has a
// factor: RequireRecentAuth).
func (s *Service) guardFactorChange(ctx context.Context, p Principal, sensitive bool) error {
	if err := s.guardSelf(ctx, p); err != nil {
		return err
	}
	if p.Impersonated() {
		return errFactorImpersonated
	}
	if sensitive {
		return s.RequireRecentAuth(p)
	}
	return s.requireRecent(p)
}

// reauthenticate records in p's session that its user proved who they
// are now, at aal, appends e in the same unit of work, and returns p
// updated.
func (s *Service) reauthenticate(ctx context.Context, p Principal, aal int, c Client, e event) (Principal, error) {
	now := s.clock.Now()
	err := s.store.InShop(ctx, p.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		if err := tx.Sessions().Reauthenticate(ctx, p.Session, aal, now); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, c, e)
	})
	if err != nil {
		return Principal{}, fmt.Errorf("re-authenticate session: %w", err)
	}
	p.AAL, p.ReauthenticatedAt, p.Pending = aal, ports.Timestamp(now), ""
	return p, nil
}

// readTOTP reads the owner's factor, pending or confirmed.
func (s *Service) readTOTP(ctx context.Context, owner ports.FactorOwner) (ports.TOTPFactor, error) {
	var f ports.TOTPFactor
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		f, err = tx.SecondFactors().TOTP(ctx, owner)
		return err
	}, ports.ReadOnly())
	return f, err
}

// policyOf reads shop's two-factor policy.
func (s *Service) policyOf(ctx context.Context, shop ports.ShopID) (ports.TwoFactorPolicy, error) {
	var p ports.TwoFactorPolicy
	err := s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		p, err = tx.TwoFactorPolicy().Get(ctx)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return ports.TwoFactorPolicy{}, fmt.Errorf("read two-factor policy: %w", err)
	}
	return p, nil
}
