package web

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// landing is where a signed-in principal goes next: the challenge when
// its session must use the second factor it has, the enrolment when its
// shop requires one it has not, else the account security page.
func landing(pr auth.Principal) string {
	switch pr.Pending {
	case auth.PendingStepUp:
		return SecondFactorPath
	case auth.PendingEnrol:
		return TOTPPath
	}
	return SecurityPath
}

// challengeData is the second-factor challenge page's data.
type challengeData struct {
	// Recovery is set when the recovery-code form is the one shown
	// with an error.
	Recovery bool
	// Passkey is set when the user has a passkey on this shop: the
	// script's "Use a passkey" button is in the page.
	Passkey bool
}

// hasPasskey reports whether the session's user has a passkey on this
// shop (a failure to read them hides the passkey button: the code forms
// still work).
func (p *Pages) hasPasskey(r *http.Request) bool {
	pr, _ := httpapi.PrincipalFrom(r.Context())
	keys, err := p.d.Auth.Passkeys(r.Context(), pr)
	return err == nil && len(keys) > 0
}

// challengePage serves the second-factor challenge. A session that must
// enrol rather than step up is sent to the enrolment; a served session may
// use it too, to re-authenticate for a sensitive action.
func (p *Pages) challengePage(w http.ResponseWriter, r *http.Request) {
	pr, _ := httpapi.PrincipalFrom(r.Context())
	if pr.Pending == auth.PendingEnrol {
		http.Redirect(w, r, TOTPPath, http.StatusSeeOther)
		return
	}
	p.render(w, r, http.StatusOK, "secondfactor", view{Title: "Second factor", Data: challengeData{Passkey: p.hasPasskey(r)}})
}

// stepUp checks the code or recovery code posted from the challenge with
// the same auth.Service.StepUp as POST /auth/2fa/step-up, and lands on the
// account security page. A refused code shows the form again with the
// message tied to its field; the session is not stepped up.
func (p *Pages) stepUp(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pr, _ := httpapi.PrincipalFrom(r.Context())
	in := auth.StepUpInput{Code: f.Get("code"), RecoveryCode: f.Get("recovery_code")}
	field := "code"
	if in.RecoveryCode != "" && in.Code == "" {
		field = "recovery_code"
	}
	if in.Code == "" && in.RecoveryCode == "" {
		err = ports.Invalid(field, "is required")
	} else {
		_, err = p.d.Auth.StepUp(r.Context(), pr, in, p.client(r))
	}
	if err != nil {
		msg, fields := formErrors(err, map[string]string{"code": field, "recovery_code": field, "step up": field})
		if errors.Is(err, ports.ErrInvalid) && fields[field] == "" {
			fields[field] = msg
		}
		p.render(w, r, httpapi.StatusOf(err), "secondfactor", view{Title: "Second factor", Form: field, Error: msg, FieldErrors: fields,
			Data: challengeData{Recovery: field == "recovery_code", Passkey: p.hasPasskey(r)}})
		return
	}
	http.Redirect(w, r, SecurityPath, http.StatusSeeOther)
}

// totpData is the enrolment page's data; which step it shows follows
// from what is set.
type totpData struct {
	// Required is set when the shop requires the member to enrol.
	Required bool
	// QR is the enrolment's QR code as a data: URL, Secret its secret:
	// the confirm step.
	QR     template.URL
	Secret string
	// RecoveryCodes are the codes shown once after confirmation, or
	// after regeneration when Regenerated is set.
	RecoveryCodes []string
	Regenerated   bool
}

func (d totpData) enrolment() (template.URL, string) { return d.QR, d.Secret }

// totpStartPage serves "Set up an authenticator app": where a member
// whose shop requires a second factor lands.
func (p *Pages) totpStartPage(w http.ResponseWriter, r *http.Request) {
	pr, _ := httpapi.PrincipalFrom(r.Context())
	if pr.Pending == auth.PendingStepUp {
		http.Redirect(w, r, SecondFactorPath, http.StatusSeeOther)
		return
	}
	p.render(w, r, http.StatusOK, "totp", view{Title: "Set up an authenticator app", Data: totpData{Required: pr.Pending == auth.PendingEnrol}})
}

// enrolTOTP starts an enrolment (auth.Service.EnrolTOTP, as POST
// /auth/2fa/totp/enrol) and shows its QR code and secret with the field
// for the first code. The answer is not stored (every page is no-store).
func (p *Pages) enrolTOTP(w http.ResponseWriter, r *http.Request) {
	pr, _ := httpapi.PrincipalFrom(r.Context())
	if pr.Pending == auth.PendingStepUp {
		http.Redirect(w, r, SecondFactorPath, http.StatusSeeOther)
		return
	}
	en, err := p.d.Auth.EnrolTOTP(r.Context(), pr, p.client(r))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "totp", view{Title: "Set up an authenticator app", Data: totpData{
		Required: pr.Pending == auth.PendingEnrol,
		// A data: URL of a PNG the service made: safe as an <img> source.
		QR:     template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(en.QRPNG)),
		Secret: en.Secret,
	}})
}

// confirmTOTP confirms the enrolment with its first code
// (auth.Service.ConfirmTOTP, as POST /auth/2fa/totp/confirm): the factor
// counts, this session is AAL2, and the recovery codes are shown once. A
// refused code shows the confirm field again with the message tied to it
// (the secret is not shown again: the enrolment can be started anew).
func (p *Pages) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pr, _ := httpapi.PrincipalFrom(r.Context())
	code := f.Get("code")
	var codes []string
	if code == "" {
		err = ports.Invalid("code", "is required")
	} else {
		codes, _, err = p.d.Auth.ConfirmTOTP(r.Context(), pr, code, p.client(r))
	}
	if err != nil {
		msg, fields := formErrors(err, nil)
		if errors.Is(err, ports.ErrInvalid) && fields["code"] == "" {
			fields["code"] = msg
		}
		p.render(w, r, httpapi.StatusOf(err), "totp", view{Title: "Set up an authenticator app", Form: "confirm", Error: msg, FieldErrors: fields,
			Data: totpData{Required: pr.Pending == auth.PendingEnrol}})
		return
	}
	p.render(w, r, http.StatusOK, "totp", view{Title: "Your recovery codes", Data: totpData{RecoveryCodes: codes}})
}

// disableTOTP removes the factor (auth.Service.DisableTOTP, as DELETE
// /auth/2fa/totp); the route needs a recent authentication.
func (p *Pages) disableTOTP(w http.ResponseWriter, r *http.Request) {
	pr, _ := httpapi.PrincipalFrom(r.Context())
	if err := p.d.Auth.DisableTOTP(r.Context(), pr, p.client(r)); err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, SecurityPath+"?done=totp-off", http.StatusSeeOther)
}
