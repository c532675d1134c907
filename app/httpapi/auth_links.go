package httpapi

import (
	"errors"
	"fmt"
	"mime"
	"net/http"

	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// emailRequest is a body naming an address: a magic link's or a
// password reset's.
type emailRequest struct {
	Email string `json:"email"`
}

// tokenRequest is a body presenting a mailed token: a magic link's, or an
// org invitation's.
type tokenRequest struct {
	Token string `json:"token"`
}

func (h *authHandlers) requestMagicLink(w http.ResponseWriter, r *http.Request) {
	var in emailRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	shop, _ := ShopFrom(r.Context())
	err := h.svc.RequestMagicLink(r.Context(), auth.MagicLinkRequest{
		Shop: shop.ID, ShopName: shop.Name, Email: in.Email, Client: h.client(r),
		LinkPrefix: h.shops.TokenLink(shop.Slug, SignInLinkPath),
	})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusAccepted, map[string]string{
		"status": "If this address belongs to a member of this shop, a sign-in link is on its way.",
	})
}

// magicLinkPage answers the GET of a magic link mailed before the links
// landed on app/web's page: 303 to SignInLinkPath (see toLinkPage). Like
// the page, it spends nothing: mail scanners that prefetch links cannot
// burn the token.
func (h *authHandlers) magicLinkPage(w http.ResponseWriter, r *http.Request) {
	toLinkPage(w, r, SignInLinkPath)
}

// toLinkPage answers the GET of a link the API mailed before its links
// landed on app/web's pages with 303 to page (a path on the request's
// host) and the same query, token and all. A missing or malformed token
// is the page's to refuse, as an HTML error page. The answer has no body
// (http.Redirect would add a small HTML page), is not cached and sends no
// referrer.
func toLinkPage(w http.ResponseWriter, r *http.Request, page string) {
	if q := r.URL.RawQuery; q != "" {
		page += "?" + q
	}
	w.Header().Set("Location", page)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusSeeOther)
}

func (h *authHandlers) consumeMagicLink(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	form := mt == "application/x-www-form-urlencoded"
	var token string
	if form {
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		if err := r.ParseForm(); err != nil {
			WriteProblem(w, r, ports.Invalid("body", "is not a form"))
			return
		}
		token = r.PostForm.Get("token")
	} else {
		var in tokenRequest
		if err := decodeJSON(w, r, &in); err != nil {
			WriteProblem(w, r, err)
			return
		}
		token = in.Token
	}
	shop, _ := ShopFrom(r.Context())
	is, err := h.svc.ConsumeMagicLink(r.Context(), shop.ID, token, h.client(r), presented(r))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	setSessionCookie(w, is)
	if form {
		http.Redirect(w, r, h.afterSignIn, http.StatusSeeOther)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, bodyOf(is.Principal))
}

func (h *authHandlers) oidcStart(w http.ResponseWriter, r *http.Request) {
	shop, _ := ShopFrom(r.Context())
	name := r.PathValue("provider")
	authURL, state, err := h.svc.StartOIDC(r.Context(), shop.ID, name, h.shops.URL(shop.Slug, "/auth/oidc/"+name+"/callback"))
	if errors.Is(err, ports.ErrNotFound) {
		WriteProblem(w, r, errNoProvider(name))
		return
	} else if err != nil {
		WriteProblem(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: auth.OIDCStateCookieName, Value: state, Path: "/", MaxAge: 600, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, authURL, http.StatusFound)
}

func (h *authHandlers) oidcCallback(w http.ResponseWriter, r *http.Request) {
	shop, _ := ShopFrom(r.Context())
	name := r.PathValue("provider")
	clearCookie(w, auth.OIDCStateCookieName)
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		WriteProblem(w, r, fmt.Errorf("the provider refused the sign-in: %w", ports.ErrUnauthenticated))
		return
	}
	var stateCookie string
	if c, err := r.Cookie(auth.OIDCStateCookieName); err == nil {
		stateCookie = c.Value
	}
	is, err := h.svc.FinishOIDC(r.Context(), auth.OIDCCallback{
		Shop: shop.ID, Provider: name, Code: q.Get("code"), State: q.Get("state"), StateCookie: stateCookie,
		RedirectURL: h.shops.URL(shop.Slug, "/auth/oidc/"+name+"/callback"), Client: h.client(r), Replace: presented(r),
	})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	setSessionCookie(w, is)
	http.Redirect(w, r, h.afterSignIn, http.StatusSeeOther)
}
