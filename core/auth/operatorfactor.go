package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/stockadehq/stockade/ports"
)

var (
	errOperatorAAL = fmt.Errorf("an impersonation starts only from an operator session that used its second factor: sign in again with your authenticator code: %w", ports.ErrForbidden)
	// ErrOperatorEnrolRequired answers an operator session that has not
	// used a second factor (AAL1) on every operator route but enrolment
	// and sign-out. It matches ports.ErrForbidden.
	ErrOperatorEnrolRequired = fmt.Errorf("operators must use a second factor: enrol one with POST /operator/2fa/totp/enrol, or sign in again with your code: %w", ports.ErrForbidden)
)

// operatorSecondFactor decides an operator sign-in's assurance level from
// code and the operator's factor (see OperatorSignIn). It returns the
// recovery codes when code confirmed a pending factor.
func (s *Service) operatorSecondFactor(ctx context.Context, op ports.OperatorID, code string) (int, []string, error) {
	owner := ports.OperatorFactors(op)
	f, err := s.readTOTP(ctx, owner)
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return ports.AAL1, nil, nil // enrol-only session
	case err != nil:
		return 0, nil, fmt.Errorf("operator sign in: %w", err)
	case !f.Confirmed() && code == "":
		return ports.AAL1, nil, nil
	case code == "":
		return 0, nil, errOperatorCodeRequired
	case f.Confirmed():
		if err := s.verifySecondFactor(ctx, owner, f, code, ""); err != nil {
			if errors.Is(err, errWrongCode) {
				return 0, nil, errBadCredentials
			}
			return 0, nil, err
		}
		return ports.AAL2, nil, nil
	}
	codes, err := s.confirmFactor(ctx, owner, f, code)
	if errors.Is(err, errWrongCode) {
		return 0, nil, errBadCredentials
	}
	if err != nil {
		return 0, nil, err
	}
	return ports.AAL2, codes, nil
}

var errOperatorCodeRequired = fmt.Errorf("give the code from your authenticator app (field \"code\"): %w", ports.ErrUnauthenticated)

// confirmFactor confirms owner's pending factor f with code and stores
// fresh recovery codes, which it returns. errWrongCode for a wrong code.
func (s *Service) confirmFactor(ctx context.Context, owner ports.FactorOwner, f ports.TOTPFactor, code string) ([]string, error) {
	secret, err := s.openSecret(ctx, owner, f.SealedSecret)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	step, ok := matchTOTP(secret, code, now)
	if !ok {
		return nil, errWrongCode
	}
	codes, hashes := newRecoveryCodes()
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		if _, err := tx.SecondFactors().ConfirmTOTP(ctx, owner, step, now); err != nil {
			return err
		}
		return tx.SecondFactors().ReplaceRecoveryCodes(ctx, owner, hashes)
	})
	if err != nil {
		return nil, fmt.Errorf("confirm totp: %w", err)
	}
	return codes, nil
}

// enrolOperator stores a fresh pending TOTP factor for op and returns
// its enrolment. ErrConflict when op has a confirmed factor.
func (s *Service) enrolOperator(ctx context.Context, op ports.Operator) (TOTPEnrolment, error) {
	owner := ports.OperatorFactors(op.ID)
	raw, en, err := s.newTOTPKey(op.Email)
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
		return TOTPEnrolment{}, fmt.Errorf("enrol operator totp: %w", err)
	}
	s.log.InfoContext(ctx, "operator totp enrolment started", "operator", op.ID.String())
	return en, nil
}

// EnrolOperatorTOTPByEmail starts a TOTP enrolment for the operator with
// email, for the CLI (`stockade operator create --totp`,
// `stockade operator enrol-totp`): the factor is confirmed by the first
// sign-in that gives a valid code. ErrNotFound for an unknown e-mail,
// ErrConflict when the operator has a confirmed factor.
func (s *Service) EnrolOperatorTOTPByEmail(ctx context.Context, email string) (TOTPEnrolment, error) {
	op, err := s.operatorByEmail(ctx, email)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	return s.enrolOperator(ctx, op)
}

// EnrolOperatorTOTP starts a TOTP enrolment for the signed-in operator
// (first sign-in without a factor). ErrConflict when the operator has a
// confirmed factor: a session that has not used it cannot replace it.
func (s *Service) EnrolOperatorTOTP(ctx context.Context, operatorCookie string) (TOTPEnrolment, error) {
	p, err := s.AuthenticateOperator(ctx, operatorCookie)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	return s.enrolOperator(ctx, ports.Operator{ID: p.Operator, Email: p.Email})
}

// ConfirmOperatorTOTP confirms the signed-in operator's pending factor
// with a first valid code, raises the session to AAL2, and returns the
// recovery codes once. Attempts are charged to the operator's sign-in
// counter. ErrInvalid for a wrong code, ErrNotFound without a pending
// enrolment, ErrConflict for a confirmed factor.
func (s *Service) ConfirmOperatorTOTP(ctx context.Context, operatorCookie, code string) ([]string, OperatorPrincipal, error) {
	p, err := s.AuthenticateOperator(ctx, operatorCookie)
	if err != nil {
		return nil, OperatorPrincipal{}, err
	}
	if err := s.charge(ctx, ports.ShopID{}, Client{}, "operator 2fa", accountLimit("opsignin", p.Email, s.cfg.Limits.PerAccount)); err != nil {
		return nil, OperatorPrincipal{}, err
	}
	owner := ports.OperatorFactors(p.Operator)
	f, err := s.readTOTP(ctx, owner)
	if err != nil {
		return nil, OperatorPrincipal{}, fmt.Errorf("confirm operator totp: %w", err)
	}
	if f.Confirmed() {
		return nil, OperatorPrincipal{}, fmt.Errorf("confirm operator totp: the factor is confirmed already: %w", ports.ErrConflict)
	}
	codes, err := s.confirmFactor(ctx, owner, f, code)
	if err != nil {
		return nil, OperatorPrincipal{}, err
	}
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		return tx.Operators().SetSessionAAL(ctx, p.Session, ports.AAL2)
	})
	if err != nil {
		return nil, OperatorPrincipal{}, fmt.Errorf("confirm operator totp: %w", err)
	}
	s.log.InfoContext(ctx, "operator totp confirmed", "operator", p.Operator.String())
	p.AAL = ports.AAL2
	return codes, p, nil
}

// ResetOperatorSecondFactor removes the TOTP factor and recovery codes of
// the operator with email and ends the operator's sessions, for the CLI
// (a lost device): the operator's next sign-in may only enrol again.
// ErrNotFound for an unknown e-mail or an operator without a factor.
func (s *Service) ResetOperatorSecondFactor(ctx context.Context, email string) (ports.Operator, error) {
	op, err := s.operatorByEmail(ctx, email)
	if err != nil {
		return ports.Operator{}, err
	}
	err = s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		if err := tx.SecondFactors().DeleteTOTP(ctx, ports.OperatorFactors(op.ID)); err != nil {
			return err
		}
		_, err := tx.Operators().DeleteSessionsOf(ctx, op.ID)
		return err
	})
	if err != nil {
		return ports.Operator{}, fmt.Errorf("reset second factor of operator %s: %w", op.Email, err)
	}
	s.log.InfoContext(ctx, "operator second factor reset", "operator", op.ID.String())
	return op, nil
}

// operatorByEmail returns the operator with email, or ErrNotFound.
func (s *Service) operatorByEmail(ctx context.Context, email string) (ports.Operator, error) {
	var op ports.Operator
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		op, _, err = tx.Operators().Credentials(ctx, email)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return ports.Operator{}, fmt.Errorf("operator %s: %w", ports.NormalizeEmail(email), err)
	}
	return op, nil
}
