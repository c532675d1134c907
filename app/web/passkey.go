package web

import (
	"bytes"
	"io/fs"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// Paths of the passkey forms on account security, the recovery-code and
// single sign-on posts, and the passkey script (any host).
const (
	// PasskeysPath is the prefix of the passkey forms: POST
	// PasskeysPath+"/rename" {passkey, name} and PasskeysPath+"/remove"
	// {passkey}.
	PasskeysPath = SecurityPath + "/passkeys"
	// RecoveryCodesPath replaces the recovery codes (POST).
	RecoveryCodesPath = SecurityPath + "/recovery-codes"
	// SSOPath starts a single sign-on from the sign-in page (POST {email}).
	SSOPath = SignInPath + "/sso"
	// SSOCallbackPath is the API's route the org's IdP sends the browser
	// back to (GET); the pages serve its refusals as HTML (see Handler).
	SSOCallbackPath = "/auth/sso/callback"
	// OIDCCallbackPattern is the API's route a platform-wide OpenID
	// Connect provider sends the browser back to (GET, one per provider);
	// its refusals are HTML too.
	OIDCCallbackPattern = "/auth/oidc/{provider}/callback"
	// PasskeyScriptPath is the one script of the pages: it shows the
	// passkey buttons in a browser that has WebAuthn and runs their
	// ceremonies against the API (/auth/passkeys/...). Without it every
	// other form works.
	PasskeyScriptPath = "/stockade/passkey.js"
)

// passkeyScript serves the embedded passkey script.
func (p *Pages) passkeyScript(w http.ResponseWriter, r *http.Request) {
	js, err := fs.ReadFile(embedded, "static/passkey.js")
	if err != nil {
		p.d.Logger.Error("web: passkey script", zap.Error(err))
		http.Error(w, "the script could not be read", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=300")
	http.ServeContent(w, r, "passkey.js", time.Time{}, bytes.NewReader(js))
}

// passkeyRoutes registers the passkey forms and script, the recovery
// codes' regeneration, single sign-on's start and the re-authentication
// page.
func (p *Pages) passkeyRoutes(mux *http.ServeMux, g guards) {
	mux.Handle("GET "+PasskeyScriptPath, http.HandlerFunc(p.passkeyScript))
	mux.Handle("POST "+PasskeysPath+"/rename", p.chain(p.renamePasskey, g.csrf, g.onShop, g.sess, g.banner))
	mux.Handle("POST "+PasskeysPath+"/remove", p.chain(p.removePasskey, g.csrf, g.onShop, g.sess, g.banner, g.recent))
	mux.Handle("POST "+RecoveryCodesPath, p.chain(p.regenerateRecoveryCodes, g.csrf, g.onShop, g.sess, g.banner, g.recent))
	mux.Handle("POST "+SSOPath, p.chain(p.startSSO, g.csrf, g.onShop))
	mux.Handle("GET "+ReauthPath, p.chain(p.reauthShow, g.onShop, g.sess, g.banner))
	mux.Handle("POST "+ReauthPath, p.chain(p.reauth, g.csrf, g.onShop, g.sess, g.banner))
}

// passkeyForm is the form value naming a passkey in security.html's
// rename form, for tying an error to that passkey's field.
func passkeyForm(id ports.PasskeyID) string { return "passkey:" + id.String() }

// renamePasskey renames one of the member's passkeys on this shop
// (auth.Service.RenamePasskey, as PATCH /auth/passkeys/{passkey}); a
// refused name is shown on that passkey's field.
func (p *Pages) renamePasskey(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pr, _ := httpapi.PrincipalFrom(r.Context())
	id, err := ports.ParsePasskeyID(f.Get("passkey"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if _, err := p.d.Auth.RenamePasskey(r.Context(), pr, id, f.Get("name"), p.client(r)); err != nil {
		msg, fields := formErrors(err, nil)
		if httpapi.StatusOf(err) != http.StatusBadRequest {
			p.fail(w, r, err)
			return
		}
		p.securityPage(w, r, http.StatusBadRequest, view{Form: passkeyForm(id), Error: msg, FieldErrors: map[string]string{"name": firstOr(fields, msg)}})
		return
	}
	http.Redirect(w, r, SecurityPath+"?done=passkey-renamed", http.StatusSeeOther)
}

// firstOr is a field error of fields, or msg when there is none.
func firstOr(fields map[string]string, msg string) string {
	for _, v := range fields {
		return v
	}
	return msg
}

// removePasskey removes one of the member's passkeys
// (auth.Service.RemovePasskey, as DELETE /auth/passkeys/{passkey}): a
// sensitive action, behind the recent-authentication guard.
func (p *Pages) removePasskey(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pr, _ := httpapi.PrincipalFrom(r.Context())
	id, err := ports.ParsePasskeyID(f.Get("passkey"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err := p.d.Auth.RemovePasskey(r.Context(), pr, id, p.client(r)); err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, SecurityPath+"?done=passkey-removed", http.StatusSeeOther)
}

// regenerateRecoveryCodes replaces the member's recovery codes
// (auth.Service.RegenerateRecoveryCodes, as POST /auth/2fa/recovery-codes:
// a sensitive action needing a recent authentication with the factor) and
// shows the ten new ones, once (the page is no-store).
func (p *Pages) regenerateRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	pr, _ := httpapi.PrincipalFrom(r.Context())
	codes, err := p.d.Auth.RegenerateRecoveryCodes(r.Context(), pr, p.client(r))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "totp", view{Title: "Your new recovery codes", Data: totpData{RecoveryCodes: codes, Regenerated: true}})
}

// signInData is the sign-in page's data.
type signInData struct {
	// SSOURL is the identity provider's sign-in page a single sign-on
	// start leads to.
	SSOURL string
}

// startSSO starts a single sign-on for the posted address
// (auth.Service.StartSSO, as POST /auth/sso/start): it sets the same
// state cookie and shows a link to the org's identity provider. (A 303
// straight to the IdP would be refused by the browser: the CSP's
// form-action 'self' also covers a form post's redirects.) The form is on
// every shop's sign-in page whether or not its org has SSO, so the page
// does not say which do; an address SSO is not offered for gets the API's
// answer ("not offered for this address here") on the field.
func (p *Pages) startSSO(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	shop, _ := httpapi.ShopFrom(r.Context())
	email := f.Get("email")
	authURL, state, err := p.d.Auth.StartSSO(r.Context(), auth.SSOStart{
		Shop: shop.ID, Email: email, RedirectURL: p.d.Shops.URL(shop.Slug, SSOCallbackPath), Client: p.client(r),
	})
	if err != nil {
		msg, fields := formErrors(err, nil)
		if fields["email"] == "" {
			fields["email"] = msg
		}
		p.render(w, r, httpapi.StatusOf(err), "signin", view{Title: "Sign in", Form: "sso", Error: msg, FieldErrors: fields, Email: email})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: auth.SSOStateCookieName, Value: state, Path: "/", MaxAge: 600, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	p.render(w, r, http.StatusOK, "signin", view{Title: "Sign in", Form: "sso", Email: email, Data: signInData{SSOURL: authURL}})
}
