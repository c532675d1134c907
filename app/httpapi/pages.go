package httpapi

import (
	"net/http"

	"github.com/stockadehq/stockade/core/auth"
)

// The functions below let a package of server-rendered pages (app/web)
// sign browsers in and out exactly as the API does, and describe an error
// as a problem would, without reimplementing either.

// SetSessionCookie hands the browser an issued session with the same
// attributes as the API's sign-in: __Host- prefixed, Secure, HttpOnly,
// SameSite=Lax, host-only, path "/" (AUTH-7).
func SetSessionCookie(w http.ResponseWriter, is auth.Issued) { setSessionCookie(w, is) }

// ClearSessionCookie tells the browser to forget its session cookie.
func ClearSessionCookie(w http.ResponseWriter) { clearCookie(w, auth.SessionCookieName) }

// PresentedSession returns the value of the session cookie r carries, or "".
func PresentedSession(r *http.Request) string { return presented(r) }

// ClientOf describes r's origin for sessions and audit events as the API
// does; trustForwardedFor is as AuthDeps.TrustForwardedFor.
func ClientOf(r *http.Request, trustForwardedFor bool) auth.Client {
	return clientOf(r, trustForwardedFor)
}

// WantsHTML reports whether r's Accept header asks for HTML before JSON.
func WantsHTML(r *http.Request) bool { return wantsHTML(r) }

// FieldErrors returns the refused fields in err's tree, in order, as a
// problem's errors member lists them.
func FieldErrors(err error) []FieldError { return fieldErrors(err) }

// SetOperatorCookie hands the browser an operator session with the same
// attributes as POST /operator/signin: __Host- prefixed, Secure,
// HttpOnly, SameSite=Strict, host-only, path "/", expiring with the
// session.
func SetOperatorCookie(w http.ResponseWriter, is auth.OperatorIssued) { setOperatorCookie(w, is) }

func setOperatorCookie(w http.ResponseWriter, is auth.OperatorIssued) {
	http.SetCookie(w, &http.Cookie{
		Name: auth.OperatorCookieName, Value: is.Cookie, Path: "/", Expires: is.Principal.ExpiresAt,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// ClearOperatorCookie tells the browser to forget its operator cookie.
func ClearOperatorCookie(w http.ResponseWriter) { clearCookie(w, auth.OperatorCookieName) }

// OperatorCookie returns the value of the operator cookie r carries, or "".
func OperatorCookie(r *http.Request) string { return operatorCookie(r) }
