package httpapi

import (
	"html/template"
	"mime"
	"net/http"

	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// Sign-up with mailbox proof and password reset (AUTH-16, AUTH-17). The
// routes run on any host; the links they mail point at the platform's own
// host, built from the configured public URL, and open app/web's pages
// (VerifyLinkPath, ResetLinkPath). Every mailed link opens a page that
// changes nothing (mail scanners prefetch links); the person confirms with
// a button that posts the token back. The GET paths below are the links
// mailed before those pages existed: they answer 303 to them.
//
//	POST /auth/signup                    ask for an account (always 202, mails a link)
//	GET  /auth/verify?token=…            303 to VerifyLinkPath (platform host), same query
//	POST /auth/verify                    token (JSON or form) → the account exists
//	POST /auth/password-reset            ask for a reset link (always 202)
//	GET  /auth/password-reset?token=…    303 to ResetLinkPath, same query
//	POST /auth/password-reset/confirm    token and password (JSON or form) → 204

// signUpAccepted is the one answer to every well-formed sign-up, whether or
// not the address has an account.
const signUpAccepted = "Check your mail: we sent a link to this address. Follow it to finish signing up."

// resetAccepted is the one answer to every well-formed reset request.
const resetAccepted = "If this address has an account, a link to reset its password is on its way."

func mailproofRoutes(rt *router, h *authHandlers) {
	rt.bare("POST", "/auth/signup", h.signUp).json(signUpRequest{})
	rt.bare("GET", "/auth/verify", h.verifyPage)
	rt.bare("POST", "/auth/verify", h.verify).json(tokenPost{}).form()
	rt.bare("POST", "/auth/password-reset", h.requestReset).json(emailRequest{})
	rt.bare("GET", "/auth/password-reset", h.resetPage)
	rt.bare("POST", "/auth/password-reset/confirm", h.reset).json(tokenPost{}).form()
}

// signUpRequest is the body of POST /auth/signup.
type signUpRequest struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

func (h *authHandlers) signUp(w http.ResponseWriter, r *http.Request) {
	var in signUpRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	err := h.svc.SignUp(r.Context(), auth.SignUpInput{
		Email: in.Email, Name: in.Name, Password: in.Password, Client: h.client(r),
		LinkPrefix: h.shops.TokenLink("", VerifyLinkPath),
	})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusAccepted, map[string]string{"status": signUpAccepted})
}

// verifyPage answers GET /auth/verify?token=…, the link sign-ups mailed
// before VerifyLinkPath: 303 to that page on the platform's own host (the
// page is served there only), with the same query.
func (h *authHandlers) verifyPage(w http.ResponseWriter, r *http.Request) {
	if h.shops.IsPublicHost(r.Host) {
		toLinkPage(w, r, VerifyLinkPath)
		return
	}
	toLinkPage(w, r, h.shops.PublicURL(VerifyLinkPath))
}

// resetPage answers GET /auth/password-reset?token=…, the link reset
// requests mailed before ResetLinkPath: 303 to that page (served on any
// host), with the same query.
func (h *authHandlers) resetPage(w http.ResponseWriter, r *http.Request) {
	toLinkPage(w, r, ResetLinkPath)
}

func (h *authHandlers) verify(w http.ResponseWriter, r *http.Request) {
	in, form, ok := readTokenPost(w, r)
	if !ok {
		return
	}
	u, err := h.svc.ConfirmSignUp(r.Context(), in.Token, h.client(r))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	if form {
		writeDone(w, http.StatusOK, "Your address is confirmed and your account is ready. Sign in on your shop's page.")
		return
	}
	writeJSON(w, "application/json", http.StatusCreated, map[string]string{"user_id": u.ID.String(), "email": u.Email, "name": u.Name})
}

func (h *authHandlers) requestReset(w http.ResponseWriter, r *http.Request) {
	var in emailRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	err := h.svc.RequestPasswordReset(r.Context(), auth.ResetRequest{
		Email: in.Email, Client: h.client(r),
		LinkPrefix: h.shops.TokenLink("", ResetLinkPath),
	})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusAccepted, map[string]string{"status": resetAccepted})
}

func (h *authHandlers) reset(w http.ResponseWriter, r *http.Request) {
	in, form, ok := readTokenPost(w, r)
	if !ok {
		return
	}
	if err := h.svc.ResetPassword(r.Context(), in.Token, in.Password, h.client(r)); err != nil {
		WriteProblem(w, r, err)
		return
	}
	if form {
		writeDone(w, http.StatusOK, "Your password is set, and the account is signed out everywhere. Sign in with the new password.")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// tokenPost is the body of a posted mailed link: its token and, for a
// reset, the new password.
type tokenPost struct {
	Token    string `json:"token"`
	Password string `json:"password,omitempty"`
}

// readTokenPost reads a tokenPost from a form (the page of a mailed link)
// or JSON. It answers the problem itself and returns ok false on a
// malformed body.
func readTokenPost(w http.ResponseWriter, r *http.Request) (in tokenPost, form, ok bool) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		if err := decodeJSON(w, r, &in); err != nil {
			WriteProblem(w, r, err)
			return in, false, false
		}
		return in, false, true
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8192)
	if err := r.ParseForm(); err != nil {
		WriteProblem(w, r, ports.Invalid("body", "is not a form"))
		return in, true, false
	}
	return tokenPost{Token: r.PostForm.Get("token"), Password: r.PostForm.Get("password")}, true, true
}

// donePage is writeDone's page.
var donePage = template.Must(template.New("done").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer"><title>{{.}}</title></head>
<body><p>{{.}}</p></body></html>
`))

// writeDone answers a form post to POST /auth/verify or POST
// /auth/password-reset/confirm (a client's own form; Stockade's pages
// post to theirs) with a short page saying msg.
func writeDone(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = donePage.Execute(w, msg)
}
