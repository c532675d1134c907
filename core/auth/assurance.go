package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// What a session must do before it is served (Principal.Pending).
const (
	// PendingStepUp: the user has a second factor and the session has not
	// used it (AAL1): only the step-up is served.
	PendingStepUp = "step_up"
	// PendingEnrol: the shop requires the member's role to use a second
	// factor and the user has none: only enrolment is served.
	PendingEnrol = "enrol"
)

var (
	// ErrStepUpRequired answers a session that must use its second factor
	// first (PendingStepUp). It matches ports.ErrForbidden.
	ErrStepUpRequired = fmt.Errorf("second factor required: step up with POST /auth/2fa/step-up: %w", ports.ErrForbidden)
	// ErrEnrolRequired answers a session whose shop requires a second
	// factor the user has not enrolled (PendingEnrol). It matches
	// ports.ErrForbidden.
	ErrEnrolRequired = fmt.Errorf("this shop requires a second factor: enrol one with POST /auth/2fa/totp/enrol: %w", ports.ErrForbidden)
	// ErrReauthRequired answers a sensitive action from a session whose
	// last authentication is older than Config.ReauthWindow. It matches
	// ports.ErrForbidden.
	ErrReauthRequired = fmt.Errorf("this action needs a recent sign-in: re-authenticate with POST /auth/2fa/step-up: %w", ports.ErrForbidden)
)

// pendingOf decides what a session must do before it is served (AUTH-13),
// from the resolved state: a user with a confirmed second factor whose
// session has not used it steps up; a member whose role the shop's policy
// requires to have one and who has none enrols. A session made before the
// policy, or signed in with one factor, is therefore stepped up, not
// served. An impersonation session is the operator's, who used a second
// factor to start it (AAL2): the user's enrolment is not asked of it. A
// session that is AAL2 without a factor of the user's here — a single
// sign-on whose IdP says it used a second factor (AUTH-14) — meets the
// policy too: the factor was used, at the org's IdP.
func pendingOf(aal int, impersonated, hasFactor bool, policy ports.TwoFactorPolicy, role ports.Role) string {
	switch {
	case hasFactor && aal < ports.AAL2:
		return PendingStepUp
	case !hasFactor && !impersonated && aal < ports.AAL2 && policy.Requires(role):
		return PendingEnrol
	}
	return ""
}

// PendingError is the refusal for a principal with Pending set, or nil.
func PendingError(p Principal) error {
	switch p.Pending {
	case PendingStepUp:
		return ErrStepUpRequired
	case PendingEnrol:
		return ErrEnrolRequired
	}
	return nil
}

// RequireRecentAuth is the gate of sensitive actions (password and factor
// changes, role changes, billing changes): nil when the principal's
// session is served (nothing Pending), has used the second factor when
// the user has one (AAL2), and was authenticated within
// Config.ReauthWindow; otherwise an error matching ports.ErrForbidden
// (ErrStepUpRequired, ErrEnrolRequired or ErrReauthRequired).
func (s *Service) RequireRecentAuth(p Principal) error {
	if err := PendingError(p); err != nil {
		return err
	}
	if p.HasSecondFactor && p.AAL < ports.AAL2 {
		return ErrStepUpRequired
	}
	return s.requireRecent(p)
}

// requireRecent checks only the re-authentication's age.
func (s *Service) requireRecent(p Principal) error {
	if s.clock.Now().Sub(p.ReauthenticatedAt) >= s.cfg.ReauthWindow {
		return ErrReauthRequired
	}
	return nil
}

// assess fills in what a sign-in's principal must do next (Pending and
// HasSecondFactor), for the sign-in's answer. Authenticate decides the
// same for every later request, from the store's state at that time.
func (s *Service) assess(ctx context.Context, p *Principal) error {
	f, err := s.readTOTP(ctx, ports.UserFactors(p.User))
	switch {
	case errors.Is(err, ports.ErrNotFound):
	case err != nil:
		return fmt.Errorf("read second factor: %w", err)
	default:
		p.HasSecondFactor = f.Confirmed()
	}
	if !p.HasSecondFactor {
		// A passkey counts on the shop it was made for (AUTH-12).
		if p.HasSecondFactor, err = s.hasPasskey(ctx, p.Shop, p.User); err != nil {
			return err
		}
	}
	policy, err := s.policyOf(ctx, p.Shop)
	if err != nil {
		return err
	}
	p.Pending = pendingOf(p.AAL, p.Impersonated(), p.HasSecondFactor, policy, p.Role)
	return nil
}

// TwoFactorPolicy returns the caller's shop's two-factor policy. The
// caller's scope needs access.MembersOwners (Owners by default).
func (s *Service) TwoFactorPolicy(ctx context.Context) (ports.TwoFactorPolicy, error) {
	sc, err := s.access.Require(ctx, access.MembersOwners)
	if err != nil {
		return ports.TwoFactorPolicy{}, fmt.Errorf("two-factor policy: %w", err)
	}
	return s.policyOf(ctx, sc.Shop)
}

// SetTwoFactorPolicy replaces the caller's shop's two-factor policy
// (AUTH-13): every member, or the members of the given roles, must use a
// second factor; the zero policy requires nobody. It takes effect on the
// next request of every session of the shop (Authenticate). The caller's
// scope needs access.MembersOwners (Owners by default); a refusal is
// audited, and the change is audited with the policy before and after in
// the same unit of work. ErrInvalid for an unknown role.
func (s *Service) SetTwoFactorPolicy(ctx context.Context, in ports.TwoFactorPolicy, c Client) (ports.TwoFactorPolicy, error) {
	c = c.clean()
	sc, err := s.access.Require(ctx, access.MembersOwners)
	if err != nil {
		if errors.Is(err, ports.ErrForbidden) {
			if from, ok := access.From(ctx); ok && !from.Shop.IsZero() {
				s.auditAlone(ctx, from.Shop, c, event{actor: from.Actor(), impersonator: from.Impersonator, action: ActionTwoFactorPolicyChange, target: "shop:" + from.Shop.String(), outcome: ports.OutcomeDenied})
			}
		}
		return ports.TwoFactorPolicy{}, fmt.Errorf("set two-factor policy: %w", err)
	}
	in = ports.TwoFactorPolicy{AllMembers: in.AllMembers, Roles: in.Roles, UpdatedBy: sc.Actor()}
	if err := in.Validate(); err != nil {
		return ports.TwoFactorPolicy{}, err
	}
	var out ports.TwoFactorPolicy
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		before, err := tx.TwoFactorPolicy().Get(ctx)
		if err != nil {
			return err
		}
		if out, err = tx.TwoFactorPolicy().Set(ctx, in); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, c, event{
			actor: sc.Actor(), impersonator: sc.Impersonator, action: ActionTwoFactorPolicyChange, target: "shop:" + sc.Shop.String(), outcome: ports.OutcomeSuccess,
			after: map[string]any{
				"before": map[string]any{"all_members": before.AllMembers, "roles": rolesOrEmpty(before.Roles)},
				"after":  map[string]any{"all_members": out.AllMembers, "roles": rolesOrEmpty(out.Roles)},
			},
		})
	})
	if err != nil {
		return ports.TwoFactorPolicy{}, fmt.Errorf("set two-factor policy: %w", err)
	}
	return out, nil
}

func rolesOrEmpty(r []ports.Role) []ports.Role {
	if r == nil {
		return []ports.Role{}
	}
	return r
}
