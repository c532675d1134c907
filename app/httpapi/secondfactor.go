package httpapi

import (
	"net/http"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// secondFactorRoutes registers the second-factor API (AUTH-11, AUTH-13) on
// a shop's host. The first four serve a session that must still step up or
// enrol (beforeSecondFactor); the others are sensitive (a recent
// authentication, AAL2 for a user with a factor):
//
//	GET    /auth/2fa                   my factors, what the shop requires, this session's level
//	POST   /auth/2fa/totp/enrol        → {secret, otpauth_uri, qr_png} (base64 PNG), shown once; needs a recent authentication
//	POST   /auth/2fa/totp/confirm      {code} → {recovery_codes, session}: the factor counts, this session is AAL2
//	POST   /auth/2fa/step-up           {code} | {recovery_code} | {password} → {session}: AAL2 (or AAL1 by password), re-authenticated now
//	POST   /auth/2fa/recovery-codes    → {recovery_codes}: new codes, the old ones end
//	DELETE /auth/2fa/totp              remove my TOTP factor and recovery codes
//	GET    /shop/2fa-policy            members.owners: who must use a second factor here
//	PUT    /shop/2fa-policy            members.owners: {all_members, roles}; audited
//
// Answers that carry a secret or recovery codes are Cache-Control:
// no-store.
func secondFactorRoutes(rt *router, h *authHandlers) {
	rt.beforeSecondFactor("GET", "/auth/2fa", access.AccountSelf, h.secondFactors)
	rt.beforeSecondFactor("POST", "/auth/2fa/totp/enrol", access.AccountSelf, h.enrolTOTP)
	rt.beforeSecondFactor("POST", "/auth/2fa/totp/confirm", access.AccountSelf, h.confirmTOTP).json(codeRequest{})
	rt.beforeSecondFactor("POST", "/auth/2fa/step-up", access.AccountSelf, h.stepUp).json(stepUpRequest{})
	rt.member("POST", "/auth/2fa/recovery-codes", access.AccountSelf, false, h.regenerateCodes)
	rt.member("DELETE", "/auth/2fa/totp", access.AccountSelf, false, h.disableTOTP)
	rt.member("GET", "/shop/2fa-policy", access.MembersOwners, false, h.twoFactorPolicy)
	rt.member("PUT", "/shop/2fa-policy", access.MembersOwners, false, h.setTwoFactorPolicy).json(twoFactorPolicyRequest{})
}

func (h *authHandlers) secondFactors(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	st, err := h.svc.SecondFactors(r.Context(), p)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{
		"totp": st.TOTP, "totp_pending": st.TOTPPending, "recovery_codes_left": st.RecoveryCodesLeft,
		"required": st.Required, "session": bodyOf(p),
	})
}

func (h *authHandlers) enrolTOTP(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	en, err := h.svc.EnrolTOTP(r.Context(), p, h.client(r))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, "application/json", http.StatusOK, map[string]any{
		"secret": en.Secret, "otpauth_uri": en.URI, "qr_png": en.QRPNG, // []byte: base64 in JSON
	})
}

// codeRequest is the body that confirms a TOTP factor with its current
// code: POST /auth/2fa/totp/confirm and POST /operator/2fa/totp/confirm.
type codeRequest struct {
	Code string `json:"code" doc:"the current code of the factor being confirmed"`
}

func (h *authHandlers) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	var in codeRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	codes, np, err := h.svc.ConfirmTOTP(r.Context(), p, in.Code, h.client(r))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"recovery_codes": codes, "session": bodyOf(np)})
}

// stepUpRequest is the body of POST /auth/2fa/step-up: one of its fields.
type stepUpRequest struct {
	Code         string `json:"code" doc:"the current code of the user's TOTP factor (AAL2)"`
	RecoveryCode string `json:"recovery_code" doc:"an unused recovery code (AAL2; the code is used up)"`
	Password     string `json:"password" doc:"the user's password: re-authenticates at AAL1, for a user without a second factor"`
}

func (h *authHandlers) stepUp(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	var in stepUpRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	np, err := h.svc.StepUp(r.Context(), p, auth.StepUpInput{Code: in.Code, RecoveryCode: in.RecoveryCode, Password: in.Password}, h.client(r))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"session": bodyOf(np)})
}

func (h *authHandlers) regenerateCodes(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	codes, err := h.svc.RegenerateRecoveryCodes(r.Context(), p, h.client(r))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"recovery_codes": codes})
}

func (h *authHandlers) disableTOTP(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	if err := h.svc.DisableTOTP(r.Context(), p, h.client(r)); err != nil {
		WriteProblem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type policyJSON struct {
	AllMembers bool         `json:"all_members"`
	Roles      []ports.Role `json:"roles"`
	UpdatedAt  *time.Time   `json:"updated_at,omitempty"`
	UpdatedBy  string       `json:"updated_by,omitempty"`
}

func policyOf(p ports.TwoFactorPolicy) policyJSON {
	out := policyJSON{AllMembers: p.AllMembers, Roles: p.Roles, UpdatedBy: p.UpdatedBy}
	if out.Roles == nil {
		out.Roles = []ports.Role{}
	}
	if !p.UpdatedAt.IsZero() {
		out.UpdatedAt = &p.UpdatedAt
	}
	return out
}

func (h *authHandlers) twoFactorPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := h.svc.TwoFactorPolicy(r.Context())
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, policyOf(p))
}

// twoFactorPolicyRequest is the body of PUT /shop/2fa-policy.
type twoFactorPolicyRequest struct {
	AllMembers bool         `json:"all_members" doc:"every member must use a second factor"`
	Roles      []ports.Role `json:"roles" doc:"the roles whose members must use a second factor"`
}

func (h *authHandlers) setTwoFactorPolicy(w http.ResponseWriter, r *http.Request) {
	var in twoFactorPolicyRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	p, err := h.svc.SetTwoFactorPolicy(r.Context(), ports.TwoFactorPolicy{AllMembers: in.AllMembers, Roles: in.Roles}, h.client(r))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, policyOf(p))
}
