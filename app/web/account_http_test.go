package web_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// accountSession returns the session ID, user ID and AAL of the session
// cookie names, from GET /auth/me.
func (s *site) accountSession(t *testing.T, cookie string) (ports.SessionID, ports.UserID, int) {
	t.Helper()
	res := s.do(t, http.MethodGet, "/auth/me", "", "", cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	var m struct {
		UserID    string `json:"user_id"`
		SessionID string `json:"session_id"`
		AAL       int    `json:"aal"`
		Session   *struct {
			UserID    string `json:"user_id"`
			SessionID string `json:"session_id"`
			AAL       int    `json:"aal"`
		} `json:"session"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&m))
	if m.Session != nil {
		m.UserID, m.SessionID, m.AAL = m.Session.UserID, m.Session.SessionID, m.Session.AAL
	}
	id, err := ports.ParseSessionID(m.SessionID)
	require.NoError(t, err)
	user, err := ports.ParseUserID(m.UserID)
	require.NoError(t, err)
	return id, user, m.AAL
}

// accountStale makes cookie's session's last authentication an hour old
// (past the re-authentication window), keeping its AAL.
func (s *site) accountStale(t *testing.T, cookie string) {
	t.Helper()
	id, _, aal := s.accountSession(t, cookie)
	err := s.e.Store.InShop(t.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		return tx.Sessions().Reauthenticate(ctx, id, aal, time.Now().Add(-time.Hour))
	})
	require.NoError(t, err)
}

// accountPost posts form to path on the shop's host with cookie.
func (s *site) accountPost(t *testing.T, path string, form url.Values, cookie string) *http.Response {
	t.Helper()
	return s.do(t, http.MethodPost, path, formType, form.Encode(), cookie, nil)
}

// accountPasskey stores a passkey named name for the user of cookie's
// session, as a registration would, and returns its ID.
func (s *site) accountPasskey(t *testing.T, cookie, name string) ports.PasskeyID {
	t.Helper()
	_, user, _ := s.accountSession(t, cookie)
	var k ports.Passkey
	err := s.e.Store.InShop(t.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		k, err = tx.Passkeys().Create(ctx, ports.Passkey{
			ID: ports.NewPasskeyID(), UserID: user, CredentialID: []byte(rand.Text()), RPID: strings.Split(s.host(), ":")[0],
			PublicKey: []byte("not a real key"), Name: name,
		})
		return err
	})
	require.NoError(t, err)
	return k.ID
}

// TestAccountSignInPageLinksAndSSO: the sign-in page links to sign-up and
// password reset, offers SSO to everyone (an address SSO is not offered
// for gets the answer on its field), and carries the passkey section
// hidden with only the same-origin script. A cross-site SSO post is
// refused.
func TestAccountSignInPageLinksAndSSO(t *testing.T) {
	s := newSite(t, web.Options{})
	res := s.do(t, http.MethodGet, web.SignInPath, "", "", "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	b := body(t, res)
	require.Contains(t, b, `<a href="/signup">Create an account</a>`)
	require.Contains(t, b, `<a href="/password-reset">Forgot your password?</a>`)
	require.Contains(t, b, `<form method="post" action="/signin/sso"`)
	require.Contains(t, b, `<label for="sso-email">`)
	require.Regexp(t, `<section[^>]*data-passkey hidden>`, b, "the passkey section is hidden until the script shows it")
	require.Equal(t, []string{`<script src="/stockade/passkey.js" defer></script>`}, regexp.MustCompile(`<script[^>]*>[^<]*</script>`).FindAllString(b, -1))

	email, _ := s.member(t, "No SSO")
	res = s.accountPost(t, web.SSOPath, url.Values{"email": {email}}, "")
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	b = body(t, res)
	require.Contains(t, b, `aria-invalid="true" aria-describedby="sso-error"`)
	require.Regexp(t, `id="sso-error">[^<]*not available for this address here`, b)
	for _, c := range res.Cookies() {
		require.NotEqual(t, auth.SSOStateCookieName, c.Name, "no SSO state without SSO")
	}

	res = s.accountPost(t, web.SSOPath, url.Values{"email": {"not an address"}}, "")
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	require.Contains(t, body(t, res), `aria-describedby="sso-error"`)

	res = s.do(t, http.MethodPost, web.SSOPath, formType, url.Values{"email": {email}}.Encode(), "", map[string]string{"Sec-Fetch-Site": "cross-site"})
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	require.Contains(t, body(t, res), "cross-origin request refused")
}

// TestAccountPasskeyScript: the script is served with a JavaScript type,
// nosniff, and the pages' CSP lets only same-origin scripts run.
func TestAccountPasskeyScript(t *testing.T) {
	s := newSite(t, web.Options{})
	res := s.do(t, http.MethodGet, web.PasskeyScriptPath, "", "", "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/javascript; charset=utf-8", res.Header.Get("Content-Type"))
	require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	require.Contains(t, body(t, res), "/auth/passkeys/signin/begin")
	require.Contains(t, web.CSP, "script-src 'self';")
	require.NotContains(t, web.CSP, "unsafe-inline")
}

// TestAccountReauthWithPassword: a password-only member whose sign-in is
// too old is shown "Confirm it's you" instead of changing the password; a
// wrong password is refused on its field and changes nothing; the right
// one re-authenticates the session and leads back to account security,
// where the change now goes through.
func TestAccountReauthWithPassword(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.member(t, "Stale Sam")
	cookie := s.apiSignIn(t, email, password)
	s.accountStale(t, cookie)
	change := url.Values{"current_password": {password}, "new_password": {"a-new-" + rand.Text()}}

	res := s.accountPost(t, web.SecurityPath+"/password", change, cookie)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	b := body(t, res)
	require.Contains(t, b, "<h1>Confirm it's you</h1>")
	require.Contains(t, b, `<form method="post" action="/account/reauth"`)
	require.Contains(t, b, `<input type="hidden" name="next" value="/account/security">`)
	require.Contains(t, b, `<label for="ra-password">`)
	require.NotContains(t, b, `name="code"`, "no code form without a factor")

	res = s.accountPost(t, web.ReauthPath, url.Values{"next": {web.SecurityPath}, "password": {"wrong-" + rand.Text()}}, cookie)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	b = body(t, res)
	require.Contains(t, b, `aria-invalid="true" aria-describedby="ra-password-error"`)
	require.Contains(t, b, `id="ra-password-error" role="alert">That password is not right.<`)
	res = s.accountPost(t, web.SecurityPath+"/password", change, cookie)
	require.Equal(t, http.StatusForbidden, res.StatusCode, "a wrong password re-authenticates nothing")

	res = s.accountPost(t, web.ReauthPath, url.Values{"next": {web.SecurityPath}, "password": {password}}, cookie)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, web.SecurityPath, res.Header.Get("Location"))
	res = s.accountPost(t, web.SecurityPath+"/password", change, cookie)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, web.SecurityPath+"?done=password", res.Header.Get("Location"))
}

// TestAccountReauthRefusesOpenRedirect: a next that is not a page of this
// site is refused before the password is checked, on the form and on the
// GET; the session stays stale.
func TestAccountReauthRefusesOpenRedirect(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.member(t, "Redirected Rita")
	cookie := s.apiSignIn(t, email, password)
	s.accountStale(t, cookie)
	for _, next := range []string{
		"https://evil.example/", "//evil.example/x", "/\\evil.example", "http:/evil.example", "/account/security?next=//evil",
		"/%2f%2fevil.example", "javascript:alert(1)", "/account/reauth", "/no/such/page", " /account/security", "/signin\r\nLocation: x",
	} {
		res := s.accountPost(t, web.ReauthPath, url.Values{"next": {next}, "password": {password}}, cookie)
		require.Equal(t, http.StatusBadRequest, res.StatusCode, next)
		require.Empty(t, res.Header.Get("Location"), next)
		require.Contains(t, body(t, res), "is not a page of this site", next)
		res = s.do(t, http.MethodGet, web.ReauthPath+"?"+url.Values{"next": {next}}.Encode(), "", "", cookie, nil)
		require.Equal(t, http.StatusBadRequest, res.StatusCode, next)
	}
	res := s.accountPost(t, web.SecurityPath+"/password", url.Values{"current_password": {password}, "new_password": {"x-" + rand.Text()}}, cookie)
	require.Equal(t, http.StatusForbidden, res.StatusCode, "no refused attempt re-authenticated the session")

	res = s.do(t, http.MethodGet, web.ReauthPath+"?next="+url.QueryEscape(web.SecurityPath), "", "", cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body(t, res), `name="next" value="/account/security"`)

	res = s.do(t, http.MethodGet, web.ReauthPath, "", "", "", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "no session: sign in first")
	require.Equal(t, web.SignInPath, res.Header.Get("Location"))
	res = s.accountPost(t, web.ReauthPath, url.Values{"next": {web.SecurityPath}, "password": {password}}, "")
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
}

// TestAccountRecoveryCodesAndReauthWithCode: a factor holder generates
// ten new recovery codes (shown once); once stale, the page asks for the
// factor (no password form), a code re-authenticates, and a new recovery
// code does too. A member without a factor, and a post without a session,
// are refused.
func TestAccountRecoveryCodesAndReauthWithCode(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.member(t, "Factor Fran")
	cookie := s.apiSignIn(t, email, password)
	secret := s.enrolTOTPThroughAPI(t, cookie)

	res := s.do(t, http.MethodGet, web.SecurityPath, "", "", cookie, nil)
	require.Contains(t, body(t, res), `<form method="post" action="/account/security/recovery-codes">`)
	res = s.accountPost(t, web.RecoveryCodesPath, nil, cookie)
	require.Equal(t, http.StatusOK, res.StatusCode)
	b := body(t, res)
	require.Contains(t, b, "<h1>Your new recovery codes</h1>")
	codes := regexp.MustCompile(`<li><code>([^<]+)</code></li>`).FindAllStringSubmatch(b, -1)
	require.Len(t, codes, 10)
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))

	s.accountStale(t, cookie)
	res = s.accountPost(t, web.RecoveryCodesPath, nil, cookie)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	b = body(t, res)
	require.Contains(t, b, "Confirm it's you")
	require.Contains(t, b, `<label for="ra-code">`)
	require.Contains(t, b, `<label for="ra-recovery">`)
	require.NotContains(t, b, `name="password"`, "a factor holder re-authenticates with the factor")

	pending := s.apiSignIn(t, email, password)
	res = s.do(t, http.MethodGet, web.SecondFactorPath, "", "", pending, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.NotContains(t, body(t, res), "passkey", "no passkey button for a user without a passkey")

	res = s.accountPost(t, web.ReauthPath, url.Values{"next": {web.SecurityPath}, "code": {"000000"}}, cookie)
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	require.Contains(t, body(t, res), `aria-invalid="true" aria-describedby="ra-code-error"`)
	res = s.accountPost(t, web.ReauthPath, url.Values{"next": {web.SecurityPath}, "password": {password}}, cookie)
	require.Equal(t, http.StatusBadRequest, res.StatusCode, "a password does not re-authenticate a factor holder")

	code, err := auth.TOTPCode(secret, time.Now().Add(30*time.Second))
	require.NoError(t, err)
	res = s.accountPost(t, web.ReauthPath, url.Values{"next": {web.SecurityPath}, "code": {code}}, cookie)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, web.SecurityPath, res.Header.Get("Location"))
	res = s.accountPost(t, web.RecoveryCodesPath, nil, cookie)
	require.Equal(t, http.StatusOK, res.StatusCode)
	fresh := regexp.MustCompile(`<li><code>([^<]+)</code></li>`).FindAllStringSubmatch(body(t, res), -1)
	require.Len(t, fresh, 10)

	s.accountStale(t, cookie)
	res = s.accountPost(t, web.ReauthPath, url.Values{"next": {web.SecurityPath}, "recovery_code": {codes[0][1]}}, cookie)
	require.Equal(t, http.StatusBadRequest, res.StatusCode, "the replaced codes no longer work")
	require.Contains(t, body(t, res), `aria-describedby="ra-recovery-error"`)
	res = s.accountPost(t, web.ReauthPath, url.Values{"next": {web.SecurityPath}, "recovery_code": {fresh[0][1]}}, cookie)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)

	other, otherPassword := s.member(t, "No Factor")
	res = s.accountPost(t, web.RecoveryCodesPath, nil, s.apiSignIn(t, other, otherPassword))
	require.Equal(t, http.StatusConflict, res.StatusCode, "no factor, no recovery codes")
	require.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	res = s.accountPost(t, web.RecoveryCodesPath, nil, "")
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	res = s.do(t, http.MethodPost, web.RecoveryCodesPath, formType, "", cookie, map[string]string{"Sec-Fetch-Site": "cross-site"})
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	require.Contains(t, body(t, res), "cross-origin request refused")
}

// TestAccountPasskeyRenameAndRemove: account security lists the member's
// passkeys with rename and remove forms; a bad name is tied to that
// passkey's field; another member cannot rename or remove it; removing
// needs a recent authentication.
func TestAccountPasskeyRenameAndRemove(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.member(t, "Key Keeper")
	cookie := s.apiSignIn(t, email, password)
	id := s.accountPasskey(t, cookie, "Laptop")
	// The passkey is a second factor: this password session (AAL1) would
	// now have to step up; make it what a passkey sign-in makes (AAL2).
	sid, _, _ := s.accountSession(t, cookie)
	setAuth := func(at time.Time) {
		require.NoError(t, s.e.Store.InShop(t.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
			return tx.Sessions().Reauthenticate(ctx, sid, ports.AAL2, at)
		}))
	}
	setAuth(time.Now())

	res := s.do(t, http.MethodGet, web.SecurityPath, "", "", cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	b := body(t, res)
	require.Contains(t, b, `<strong class="st-passkey-name">Laptop</strong>`)
	require.Contains(t, b, `<label for="pk-name-`+id.String()+`">Name</label>`)
	require.Regexp(t, `<div class="st-form" data-passkey hidden>`, b)

	res = s.accountPost(t, web.PasskeysPath+"/rename", url.Values{"passkey": {id.String()}, "name": {"  "}}, cookie)
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	require.Contains(t, body(t, res), `aria-invalid="true" aria-describedby="pk-name-passkey:`+id.String()+`-error"`)

	intruder, intruderPassword := s.member(t, "Intruder")
	other := s.apiSignIn(t, intruder, intruderPassword)
	res = s.accountPost(t, web.PasskeysPath+"/rename", url.Values{"passkey": {id.String()}, "name": {"Mine now"}}, other)
	require.Equal(t, http.StatusNotFound, res.StatusCode, "another member's passkey is not found")
	res = s.accountPost(t, web.PasskeysPath+"/remove", url.Values{"passkey": {id.String()}}, other)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	res = s.accountPost(t, web.PasskeysPath+"/remove", url.Values{"passkey": {id.String()}}, "")
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)

	res = s.accountPost(t, web.PasskeysPath+"/rename", url.Values{"passkey": {id.String()}, "name": {"Work laptop"}}, cookie)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, web.SecurityPath+"?done=passkey-renamed", res.Header.Get("Location"))

	setAuth(time.Now().Add(-time.Hour))
	res = s.accountPost(t, web.PasskeysPath+"/remove", url.Values{"passkey": {id.String()}}, cookie)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	b = body(t, res)
	require.Contains(t, b, "Confirm it's you")
	require.Contains(t, b, `id="passkey-stepup"`, "a passkey holder is offered the passkey")
	require.Contains(t, b, `data-next="/account/security"`)

	setAuth(time.Now())
	res = s.accountPost(t, web.PasskeysPath+"/remove", url.Values{"passkey": {id.String()}}, cookie)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, web.SecurityPath+"?done=passkey-removed", res.Header.Get("Location"))
	res = s.do(t, http.MethodGet, web.SecurityPath+"?done=passkey-removed", "", "", cookie, nil)
	b = body(t, res)
	require.Contains(t, b, "Your passkey has been removed.")
	require.NotContains(t, b, "st-passkey-name")
}
