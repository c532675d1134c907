package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// ReauthPath is the "Confirm it's you" page: a sensitive post refused
// because the session's last authentication is too old shows it, and it
// re-authenticates the session (auth.Service.StepUp, as POST
// /auth/2fa/step-up) before sending the user back to the page they came
// from.
const ReauthPath = "/account/reauth"

// reauthData is the "Confirm it's you" page's data.
type reauthData struct {
	// Next is the page (a path of this site) the user goes back to.
	Next string
	// TOTP is set when the user has an authenticator app (the code and
	// recovery-code forms), Passkey when they have a passkey on this shop
	// (the script's button), Password when they have no second factor
	// (the password form: StepUp takes the password only from such a
	// user).
	TOTP, Passkey, Password bool
}

// requireRecent is the guard of sensitive posts: as
// httpapi.RequireRecentAuth, but a session whose authentication is too
// old is shown the "Confirm it's you" page rather than an error.
func (p *Pages) requireRecent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pr, ok := httpapi.PrincipalFrom(r.Context())
		if !ok {
			p.fail(w, r, fmt.Errorf("sign in first: %w", ports.ErrUnauthenticated))
			return
		}
		if err := p.d.Auth.RequireRecentAuth(pr); err != nil {
			p.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// reauthFor shows the "Confirm it's you" page (403) and reports true when
// err refuses a served session's request for a stale authentication
// (auth.ErrReauthRequired, or auth.ErrStepUpRequired for a session that
// is otherwise served); the page leads back to the page r's form was on.
// Any other error, or a request without a served session, is left to the
// caller.
func (p *Pages) reauthFor(w http.ResponseWriter, r *http.Request, err error) bool {
	pr, ok := httpapi.PrincipalFrom(r.Context())
	if !ok || pr.Pending != "" || pr.Impersonated() {
		return false
	}
	if !errors.Is(err, auth.ErrReauthRequired) && !errors.Is(err, auth.ErrStepUpRequired) {
		return false
	}
	p.reauthPage(w, r, http.StatusForbidden, p.pageOf(r.URL.Path), view{})
	return true
}

// pageOf is the page a form posted to path was on: path itself or its
// nearest ancestor served as a page by GET, account security when none
// is.
func (p *Pages) pageOf(path string) string {
	for path != "" && path != "/" {
		if path != ReauthPath && p.isPage(path) {
			return path
		}
		path = path[:strings.LastIndex(path, "/")]
	}
	return SecurityPath
}

// isPage reports whether GET path is one of the pages (on a shop's host).
func (p *Pages) isPage(path string) bool {
	r := &http.Request{Method: http.MethodGet, Host: "shop.invalid", URL: &url.URL{Path: path}}
	_, pattern := p.mux.Handler(r)
	return pattern != "" && pattern != "GET "+StylesheetPath && pattern != "GET "+PasskeyScriptPath
}

// safeNext returns raw as a path to redirect to when it is one of the
// pages of this site: an absolute path ("/account/security"), no scheme,
// host, "//" or backslash, no query or fragment, served by GET. Anything
// else is refused (ErrInvalid): the page never redirects off the site.
func (p *Pages) safeNext(raw string) (string, error) {
	bad := ports.Invalid("next", "is not a page of this site")
	if raw == "" {
		return SecurityPath, nil
	}
	if !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") || strings.ContainsAny(raw, "\\?#%") || len(raw) > 512 {
		return "", bad
	}
	for _, c := range raw {
		if c < 0x21 || c == 0x7f {
			return "", bad
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Path != raw {
		return "", bad
	}
	if !p.isPage(u.Path) || u.Path == ReauthPath {
		return "", bad
	}
	return u.Path, nil
}

// reauthPage renders "Confirm it's you" for the session in r's context,
// leading back to next.
func (p *Pages) reauthPage(w http.ResponseWriter, r *http.Request, status int, next string, v view) {
	pr, _ := httpapi.PrincipalFrom(r.Context())
	factors, err := p.d.Auth.SecondFactors(r.Context(), pr)
	if err != nil {
		p.errorPage(w, r, p.errorViewOf(r, err))
		return
	}
	keys, err := p.d.Auth.Passkeys(r.Context(), pr)
	if err != nil {
		p.errorPage(w, r, p.errorViewOf(r, err))
		return
	}
	v.Title = "Confirm it's you"
	v.Data = reauthData{Next: next, TOTP: factors.TOTP, Passkey: len(keys) > 0, Password: !pr.HasSecondFactor && !factors.TOTP && len(keys) == 0}
	p.render(w, r, status, "reauth", v)
}

// errorViewOf is the error page's data for err (not the reauth page: the
// reauth page's own failures end here).
func (p *Pages) errorViewOf(r *http.Request, err error) errorView {
	status := httpapi.StatusOf(err)
	detail := httpapi.PublicDetail(err)
	if status >= 500 {
		detail = "Something went wrong on our side. Try again in a moment."
	}
	return errorView{Status: status, Title: http.StatusText(status), Detail: detail, RequestID: httpapi.RequestIDFrom(r.Context())}
}

// reauthShow serves GET /account/reauth?next=PATH.
func (p *Pages) reauthShow(w http.ResponseWriter, r *http.Request) {
	next, err := p.safeNext(r.URL.Query().Get("next"))
	if err != nil {
		p.errorPage(w, r, p.errorViewOf(r, err))
		return
	}
	p.reauthPage(w, r, http.StatusOK, next, view{})
}

// reauth re-authenticates the session with the password (a user without
// a second factor) or a code or recovery code (a user with an
// authenticator app), with the same auth.Service.StepUp as POST
// /auth/2fa/step-up, and redirects to the form's next page. A next that is
// not a page of this site is refused before anything is checked; a
// refused credential shows the page again with the message on its field.
func (p *Pages) reauth(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		p.errorPage(w, r, p.errorViewOf(r, err))
		return
	}
	next, err := p.safeNext(f.Get("next"))
	if err != nil {
		p.errorPage(w, r, p.errorViewOf(r, err))
		return
	}
	pr, _ := httpapi.PrincipalFrom(r.Context())
	in := auth.StepUpInput{Password: f.Get("password"), Code: f.Get("code"), RecoveryCode: f.Get("recovery_code")}
	field := "password"
	switch {
	case in.Code != "":
		field = "code"
	case in.RecoveryCode != "":
		field = "recovery_code"
	}
	if in.Password == "" && in.Code == "" && in.RecoveryCode == "" {
		if f.Has("code") {
			field = "code"
		} else if f.Has("recovery_code") {
			field = "recovery_code"
		}
		err = ports.Invalid(field, "is required")
	} else {
		_, err = p.d.Auth.StepUp(r.Context(), pr, in, p.client(r))
	}
	if err != nil {
		msg, fields := formErrors(err, map[string]string{"step up": field, "password": field, "code": field, "recovery_code": field})
		if (errors.Is(err, ports.ErrInvalid) || errors.Is(err, ports.ErrUnauthenticated)) && fields[field] == "" {
			fields[field] = msg
		}
		if errors.Is(err, ports.ErrUnauthenticated) {
			// A wrong password: the session stays; say so on the field.
			msg = "That password is not right."
			fields[field] = msg
		}
		p.reauthPage(w, r, httpapi.StatusOf(err), next, view{Form: field, Error: msg, FieldErrors: fields})
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}
