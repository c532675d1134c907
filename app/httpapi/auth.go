package httpapi

import (
	"fmt"
	"github.com/stockadehq/stockade/core/access"
	"net/http"
	"time"

	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// authRoutes registers the authentication API on mux. Every route runs on
// a shop's host (OnShopHost) except sign-up; routes that need a session
// pass RequireSession. The whole set sits behind CSRF protection (AUTH-9):
// a state-changing request a browser marks as cross-origin (Sec-Fetch-Site,
// or an Origin that is not the Host) is refused with 403; SameSite=Lax
// cookies are the second layer.
//
//	POST   /auth/signup                       ask for an account (always 202; see mailproofRoutes)
//	POST   /auth/signin                       e-mail and password → session cookie
//	POST   /auth/signout                      end this session
//	POST   /auth/magic-link                   e-mail a sign-in link (always 202)
//	GET    /auth/magic-link?token=…           303 to SignInLinkPath, the page that posts the token (links mailed before it)
//	POST   /auth/magic-link/consume           token (JSON or form) → session cookie
//	GET    /auth/oidc/{provider}/start        redirect to the provider
//	GET    /auth/oidc/{provider}/callback     back from the provider → session cookie
//	GET    /auth/me                           who am I
//	GET    /auth/sessions                     my sessions in this shop
//	DELETE /auth/sessions/{session}              end one of my sessions
//	POST   /auth/sessions/revoke-others       end my other sessions
//	DELETE /auth/members/{user}/sessions      owner/admin: end a member's sessions
//	POST   /auth/password                     change my password (sensitive: a recent authentication)
//	/auth/2fa/..., /shop/2fa-policy           second factors (see secondFactorRoutes)
//	/auth/passkeys/...                        passkeys (see passkeyRoutes)
//	/auth/sso/..., /org/sso, /org/domains/... per-org single sign-on (see ssoRoutes)
//
// A session that must still step up or enrol a second factor (AUTH-13) is
// served only the routes registered with beforeSecondFactor (sign-out,
// "who am I", the step-up and enrolment); sensitive routes (Route.Sensitive)
// also need a recent authentication.
func authRoutes(rt *router, d AuthDeps) {
	h := &authHandlers{svc: d.Service, shops: d.Shops, trustXFF: d.TrustForwardedFor, afterSignIn: landing(d.AfterSignIn)}
	mailproofRoutes(rt, h)
	rt.public("POST", "/auth/signin", h.signIn).json(signInRequest{})
	rt.beforeSecondFactor("POST", "/auth/signout", access.AccountSelf, h.signOut)
	rt.public("POST", "/auth/magic-link", h.requestMagicLink).json(emailRequest{})
	rt.public("GET", "/auth/magic-link", h.magicLinkPage)
	rt.public("POST", "/auth/magic-link/consume", h.consumeMagicLink).json(tokenRequest{}).form()
	rt.public("GET", "/auth/oidc/{provider}/start", h.oidcStart)
	rt.public("GET", "/auth/oidc/{provider}/callback", h.oidcCallback)
	rt.beforeSecondFactor("GET", "/auth/me", access.AccountSelf, h.me)
	rt.member("GET", "/auth/sessions", access.AccountSelf, false, h.listSessions)
	rt.member("DELETE", "/auth/sessions/{session}", access.AccountSelf, false, h.revokeSession)
	rt.member("POST", "/auth/sessions/revoke-others", access.AccountSelf, false, h.revokeOthers)
	rt.member("DELETE", "/auth/members/{user}/sessions", access.MembersSessions, false, h.revokeMember)
	rt.member("POST", "/auth/password", access.AccountSelf, false, h.changePassword).json(changePasswordRequest{})
	secondFactorRoutes(rt, h)
	passkeyRoutes(rt, h)
	ssoRoutes(rt, h)
}

type authHandlers struct {
	svc      *auth.Service
	shops    *HostShops
	trustXFF bool
	// afterSignIn is where form and OIDC sign-ins redirect (AuthDeps.AfterSignIn).
	afterSignIn string
}

func (h *authHandlers) client(r *http.Request) auth.Client { return clientOf(r, h.trustXFF) }

// sessionBody is the JSON answer to a sign-in.
type sessionBody struct {
	UserID    string    `json:"user_id"`
	ShopID    string    `json:"shop_id"`
	Role      string    `json:"role"`
	SessionID string    `json:"session_id"`
	Method    string    `json:"method"`
	ExpiresAt time.Time `json:"expires_at"`
	// AAL is the session's assurance level (1 or 2) and
	// ReauthenticatedAt its last authentication (AUTH-13).
	AAL               int       `json:"aal"`
	ReauthenticatedAt time.Time `json:"reauthenticated_at"`
	// SecondFactor is what the session must do before it is served:
	// "step_up", "enrol", or absent.
	SecondFactor string `json:"second_factor,omitempty"`
}

func bodyOf(p auth.Principal) sessionBody {
	return sessionBody{UserID: p.User.String(), ShopID: p.Shop.String(), Role: string(p.Role), SessionID: p.Session.String(), Method: p.Method, ExpiresAt: p.ExpiresAt,
		AAL: p.AAL, ReauthenticatedAt: p.ReauthenticatedAt, SecondFactor: p.Pending}
}

// signInRequest is the body of POST /auth/signin.
type signInRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (h *authHandlers) signIn(w http.ResponseWriter, r *http.Request) {
	var in signInRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	shop, _ := ShopFrom(r.Context())
	is, err := h.svc.SignIn(r.Context(), auth.SignInInput{Shop: shop.ID, Email: in.Email, Password: in.Password, Client: h.client(r), Replace: presented(r)})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	setSessionCookie(w, is)
	writeJSON(w, "application/json", http.StatusOK, bodyOf(is.Principal))
}

func (h *authHandlers) signOut(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	if err := h.svc.SignOut(r.Context(), p, h.client(r)); err != nil {
		WriteProblem(w, r, err)
		return
	}
	clearCookie(w, auth.SessionCookieName)
	w.WriteHeader(http.StatusNoContent)
}

func (h *authHandlers) me(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	shop, _ := ShopFrom(r.Context())
	user, err := h.svc.User(r.Context(), p)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{
		"user":    map[string]string{"id": user.ID.String(), "email": user.Email, "name": user.Name},
		"shop":    map[string]string{"id": shop.ID.String(), "slug": shop.Slug, "name": shop.Name},
		"role":    p.Role,
		"session": bodyOf(p),
	})
}

func (h *authHandlers) listSessions(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	list, err := h.svc.ListSessions(r.Context(), p)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	type item struct {
		ID         string    `json:"id"`
		Device     string    `json:"device"`
		IP         string    `json:"ip"`
		Method     string    `json:"method"`
		CreatedAt  time.Time `json:"created_at"`
		LastSeenAt time.Time `json:"last_seen_at"`
		ExpiresAt  time.Time `json:"expires_at"`
		Current    bool      `json:"current"`
	}
	out := make([]item, 0, len(list))
	for _, s := range list {
		out = append(out, item{s.ID.String(), s.Device, s.IP, s.Method, s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.Current})
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"sessions": out})
}

func (h *authHandlers) revokeSession(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	id, err := ports.ParseSessionID(r.PathValue("session"))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	if err := h.svc.RevokeSession(r.Context(), p, id, h.client(r)); err != nil {
		WriteProblem(w, r, err)
		return
	}
	if id == p.Session {
		clearCookie(w, auth.SessionCookieName)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *authHandlers) revokeOthers(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	n, err := h.svc.RevokeOtherSessions(r.Context(), p, h.client(r))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]int{"revoked": n})
}

func (h *authHandlers) revokeMember(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	user, err := ports.ParseUserID(r.PathValue("user"))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	n, err := h.svc.RevokeMemberSessions(r.Context(), p, user, h.client(r))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]int{"revoked": n})
}

// changePasswordRequest is the body of POST /auth/password.
type changePasswordRequest struct {
	Current string `json:"current_password"`
	New     string `json:"new_password"`
}

func (h *authHandlers) changePassword(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalFrom(r.Context())
	var in changePasswordRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	is, err := h.svc.ChangePassword(r.Context(), p, in.Current, in.New, h.client(r))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	setSessionCookie(w, is)
	writeJSON(w, "application/json", http.StatusOK, bodyOf(is.Principal))
}

// errNoProvider answers an unknown provider name.
func errNoProvider(name string) error {
	return fmt.Errorf("no identity provider %q is configured: %w", name, ports.ErrNotFound)
}
