package httpapi

import (
	"bytes"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// ImpersonationHeader marks every answer to a request made under an
// impersonation session (AUD-5). Its value is
//
//	operator=<operator ID>, expires=<RFC 3339 time, UTC>
//
// naming the operator acting as the session's user and the fixed end of
// the impersonation.
const ImpersonationHeader = "Stockade-Impersonation"

func impersonationHeaderValue(p auth.Principal) string {
	return "operator=" + p.Impersonator.String() + ", expires=" + p.ExpiresAt.UTC().Format(time.RFC3339)
}

// OnPlatformHost serves next only on the public URL's own host (the
// platform's host, e.g. example.com, as opposed to a shop's
// acme.example.com); any other host gets a 404 problem.
func OnPlatformHost(shops *HostShops) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !shops.IsPublicHost(r.Host) {
				WriteProblem(w, r, fmt.Errorf("no resource at this path on this host: %w", ports.ErrNotFound))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// operatorRoutes registers the platform operators' routes (AUD-5). On the
// platform's own host, with the operator cookie (__Host-stockade_operator):
//
//	POST /operator/signin           {email, password, code} → operator cookie; rate-limited
//	POST /operator/signout          end the operator session
//	GET  /operator/me               who am I
//	POST /operator/2fa/totp/enrol   → {secret, otpauth_uri, qr_png}: first sign-in without a factor
//	POST /operator/2fa/totp/confirm {code} → {recovery_codes}: the session becomes AAL2
//	POST /operator/impersonations   {shop, user, reason} → 201 {code, enter_url, expires_at, …}; AAL2 only
//
// Operators must use a second factor (AUTH-18): a sign-in without a
// confirmed factor's code gets an AAL1 session that may only enrol, and an
// impersonation starts only from an AAL2 session.
//
// On a shop's host:
//
//	POST /auth/impersonation/enter  {code} (JSON or form) → impersonation session cookie; a form lands on AfterSignIn (else GET /auth/impersonation)
//	GET  /auth/impersonation        account.self: the impersonation behind this session (JSON, whatever the Accept header)
//	POST /auth/impersonation/exit   account.self: end it
//
// Operators are created, listed and disabled with the CLI only.
func operatorRoutes(rt *router, d AuthDeps) {
	h := &operatorHandlers{svc: d.Service, shops: d.Shops, trustXFF: d.TrustForwardedFor, afterEnter: d.AfterSignIn}
	if h.afterEnter == "" {
		h.afterEnter = "/auth/impersonation"
	}
	rt.platform("POST", "/operator/signin", AccessPublic, h.signIn).json(operatorSignInRequest{})
	rt.platform("POST", "/operator/signout", AccessOperator, h.signOut)
	rt.platform("GET", "/operator/me", AccessOperator, h.me)
	rt.platform("POST", "/operator/2fa/totp/enrol", AccessOperator, h.enrolTOTP)
	rt.platform("POST", "/operator/2fa/totp/confirm", AccessOperator, h.confirmTOTP).json(codeRequest{})
	rt.platform("POST", "/operator/impersonations", AccessOperator, h.start).json(impersonateRequest{}).form()
	rt.handoff("/auth/impersonation/enter", h.enter).json(enterRequest{}).form()
	rt.member("GET", "/auth/impersonation", access.AccountSelf, false, h.current)
	rt.member("POST", "/auth/impersonation/exit", access.AccountSelf, false, h.exit)
}

type operatorHandlers struct {
	svc      *auth.Service
	shops    *HostShops
	trustXFF bool
	// afterEnter is where a form post entering an impersonation lands:
	// AuthDeps.AfterSignIn (the account security page, with the
	// impersonation banner, when Stockade's pages are served), else
	// GET /auth/impersonation (JSON).
	afterEnter string
}

func operatorCookie(r *http.Request) string {
	if c, err := r.Cookie(auth.OperatorCookieName); err == nil {
		return c.Value
	}
	return ""
}

type operatorJSON struct {
	OperatorID string    `json:"operator_id"`
	Email      string    `json:"email"`
	Name       string    `json:"name"`
	ExpiresAt  time.Time `json:"expires_at"`
	// AAL is 2 once the session used the operator's second factor.
	AAL int `json:"aal"`
	// RecoveryCodes are shown once, when this sign-in or confirmation
	// confirmed the operator's TOTP factor.
	RecoveryCodes []string `json:"recovery_codes,omitempty"`
}

func operatorOf(p auth.OperatorPrincipal) operatorJSON {
	return operatorJSON{OperatorID: p.Operator.String(), Email: p.Email, Name: p.Name, ExpiresAt: p.ExpiresAt, AAL: p.AAL}
}

// operatorSignInRequest is the body of POST /operator/signin.
type operatorSignInRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Code     string `json:"code" doc:"the current code of the operator's TOTP factor; without one the session may only enrol a factor"`
}

func (h *operatorHandlers) signIn(w http.ResponseWriter, r *http.Request) {
	var in operatorSignInRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	is, err := h.svc.OperatorSignIn(r.Context(), auth.OperatorSignInInput{Email: in.Email, Password: in.Password, Code: in.Code, Client: clientOf(r, h.trustXFF), Replace: operatorCookie(r)})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	setOperatorCookie(w, is)
	body := operatorOf(is.Principal)
	body.RecoveryCodes = is.RecoveryCodes
	if len(is.RecoveryCodes) > 0 {
		w.Header().Set("Cache-Control", "no-store")
	}
	writeJSON(w, "application/json", http.StatusOK, body)
}

func (h *operatorHandlers) enrolTOTP(w http.ResponseWriter, r *http.Request) {
	en, err := h.svc.EnrolOperatorTOTP(r.Context(), operatorCookie(r))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"secret": en.Secret, "otpauth_uri": en.URI, "qr_png": en.QRPNG})
}

func (h *operatorHandlers) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	// The operator session first: without one the answer is 401, whatever
	// the body.
	if _, err := h.svc.AuthenticateOperator(r.Context(), operatorCookie(r)); err != nil {
		WriteProblem(w, r, err)
		return
	}
	var in codeRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	codes, p, err := h.svc.ConfirmOperatorTOTP(r.Context(), operatorCookie(r), in.Code)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	body := operatorOf(p)
	body.RecoveryCodes = codes
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, "application/json", http.StatusOK, body)
}

func (h *operatorHandlers) signOut(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.OperatorSignOut(r.Context(), operatorCookie(r)); err != nil {
		WriteProblem(w, r, err)
		return
	}
	clearCookie(w, auth.OperatorCookieName)
	w.WriteHeader(http.StatusNoContent)
}

func (h *operatorHandlers) me(w http.ResponseWriter, r *http.Request) {
	p, err := h.svc.AuthenticateOperator(r.Context(), operatorCookie(r))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, operatorOf(p))
}

// readFields reads the body into v: a JSON object (decodeJSON, unknown
// fields refused) or, for a form post, the form, whose values fromForm
// copies into v.
func readFields(w http.ResponseWriter, r *http.Request, v any, fromForm func(url.Values)) (form bool, err error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/x-www-form-urlencoded" {
		r.Body = http.MaxBytesReader(w, r.Body, 8192)
		if err := r.ParseForm(); err != nil {
			return true, ports.Invalid("body", "is not a form")
		}
		fromForm(r.PostForm)
		return true, nil
	}
	return false, decodeJSON(w, r, v)
}

// impersonateRequest is the body of POST /operator/impersonations.
type impersonateRequest struct {
	Shop   string `json:"shop" doc:"the shop's slug"`
	User   string `json:"user" doc:"the user's ID or e-mail address"`
	Reason string `json:"reason" doc:"why, for the audit log and the user"`
}

// enterRequest is the body of POST /auth/impersonation/enter.
type enterRequest struct {
	Code string `json:"code" doc:"the one-time code of the impersonation's start"`
}

// handoffPage is what a form-posting operator console gets back from a
// start: a page on the platform's host whose form posts the one-time code
// to the shop's host (the code travels in a POST body, never in a URL).
var handoffPage = template.Must(template.New("handoff").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer"><title>Impersonation</title></head>
<body><p>Impersonation of user {{.User}} in {{.Shop}} started; it ends at {{.Expires}}. Every change you make is audited.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="code" value="{{.Code}}">
<button type="submit">Continue to {{.Shop}}</button>
</form></body></html>
`))

func (h *operatorHandlers) start(w http.ResponseWriter, r *http.Request) {
	var in impersonateRequest
	form, err := readFields(w, r, &in, func(f url.Values) {
		in.Shop, in.User, in.Reason = f.Get("shop"), f.Get("user"), f.Get("reason")
	})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	st, err := h.svc.StartImpersonation(r.Context(), operatorCookie(r), auth.StartImpersonationInput{
		Shop: in.Shop, User: in.User, Reason: in.Reason, Client: clientOf(r, h.trustXFF),
	})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	enter := h.shops.URL(st.Shop.Slug, "/auth/impersonation/enter")
	if form {
		var buf bytes.Buffer
		_ = handoffPage.Execute(&buf, map[string]string{
			"User": st.User.String(), "Shop": st.Shop.Slug, "Expires": st.ExpiresAt.UTC().Format(time.RFC3339),
			"Action": enter, "Code": st.Code,
		})
		writeHTML(w, http.StatusCreated, buf.Bytes())
		return
	}
	writeJSON(w, "application/json", http.StatusCreated, map[string]any{
		"impersonation_id": st.ID.String(), "shop": st.Shop.Slug, "user_id": st.User.String(),
		"expires_at": st.ExpiresAt, "code": st.Code, "code_expires_at": st.CodeExpiresAt, "enter_url": enter,
	})
}

func (h *operatorHandlers) enter(w http.ResponseWriter, r *http.Request) {
	var in enterRequest
	form, err := readFields(w, r, &in, func(f url.Values) { in.Code = f.Get("code") })
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	shop, _ := ShopFrom(r.Context())
	is, err := h.svc.EnterImpersonation(r.Context(), shop.ID, in.Code, clientOf(r, h.trustXFF))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	setSessionCookie(w, is)
	w.Header().Set(ImpersonationHeader, impersonationHeaderValue(is.Principal))
	if form {
		http.Redirect(w, r, h.afterEnter, http.StatusSeeOther)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, bodyOf(is.Principal))
}

// current answers the impersonation behind this session as JSON, whatever
// the Accept header: it is an API route. A person sees the impersonation
// on app/web's pages, whose banner (web.Banner) names the operator, the
// member, the shop and the end, with an Exit button.
func (h *operatorHandlers) current(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	info, err := h.svc.Impersonation(r.Context(), p)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{
		"impersonation_id": info.ID.String(), "operator_id": info.Operator.String(), "operator_email": info.OperatorEmail,
		"user_id": info.User.String(), "reason": info.Reason, "started_at": info.CreatedAt, "expires_at": info.ExpiresAt,
	})
}

func (h *operatorHandlers) exit(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	if err := h.svc.ExitImpersonation(r.Context(), p, clientOf(r, h.trustXFF)); err != nil {
		WriteProblem(w, r, err)
		return
	}
	clearCookie(w, auth.SessionCookieName)
	w.WriteHeader(http.StatusNoContent)
}

// wantsHTML reports whether the request's Accept header asks for HTML
// before JSON.
func wantsHTML(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part))
		switch mt {
		case "text/html":
			return true
		case "application/json", "application/problem+json":
			return false
		}
	}
	return false
}

// writeHTML writes an HTML answer that must not be cached and sends no
// referrer.
func writeHTML(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
