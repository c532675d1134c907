package web_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/internal/oidctest"
	"github.com/stockadehq/stockade/ports"
)

// ssoDomain is the e-mail domain the shop's org has verified.
const ssoDomain = "acme.test"

// ssoSite is a site whose shop's org signs in through iss: an enabled
// connection (default role viewer) and ssoDomain verified. The public
// URL is on the server's own port, so the redirect URI the IdP sends the
// browser back to is the shop's host as Chromium reaches it. The IdP is
// on plain HTTP on 127.0.0.1, which issuers allow for loopback, so both
// the server's default OIDC client and Chromium reach it.
func ssoSite(t *testing.T) (*site, *oidctest.Issuer) {
	t.Helper()
	iss := oidctest.NewHTTP(t)
	s := startSite(t, siteOptions{OwnPort: true})
	ctx := t.Context()
	// The domain is proven in the store: the embedded server looks TXT
	// records up with the system resolver, and DNS proof has its own
	// tests (app/httpapi).
	require.NoError(t, s.e.Store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		if _, err := tx.OrgDomains().Add(ctx, ports.OrgDomain{OrgID: s.shop.Org, Domain: ssoDomain, Token: "test", CreatedAt: time.Now()}); err != nil {
			return err
		}
		_, err := tx.OrgDomains().MarkVerified(ctx, s.shop.Org, ssoDomain, time.Now())
		return err
	}))
	_, err := s.e.Auth.PutSSOConnection(access.System(ctx, s.shop.ID, s.shop.Org, "test"), auth.SSOConnectionInput{
		Issuer: iss.URL(), ClientID: iss.ClientID(), ClientSecret: iss.ClientSecret(), DefaultRole: ports.RoleViewer, Enabled: true,
	}, auth.Client{})
	require.NoError(t, err)
	return s, iss
}

// ssoToIdP starts an SSO sign-in for email on the shop's sign-in page,
// follows the page's link to the IdP and waits for its login page.
func (s *site) ssoToIdP(t *testing.T, ctx context.Context, iss *oidctest.Issuer, email string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(s.url(web.SignInPath)),
		chromedp.WaitVisible(chromedp.CSS("#sso-email")),
		chromedp.SendKeys(chromedp.CSS("#sso-email"), email),
		chromedp.Click(chromedp.CSS(`form[action="/signin/sso"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#sso-continue")),
	))
	href := eval[string](t, ctx, `document.querySelector("#sso-continue").href`)
	require.True(t, strings.HasPrefix(href, iss.URL()+"/authorize?"), "the link leads to the org's IdP: %s", href)
	u, err := url.Parse(href)
	require.NoError(t, err)
	require.Equal(t, s.url("/auth/sso/callback"), u.Query().Get("redirect_uri"), "the IdP sends the browser back to this shop")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#sso-continue")),
		chromedp.WaitVisible(chromedp.CSS("#login_hint")),
	))
}

// leftIdP selects the body of the first page after the IdP's login page,
// whatever it is, so a wrong page fails an assertion rather than a wait.
const leftIdP = `body:not(:has(#login_hint))`

// me answers GET /auth/me from the page: its status and, for 200, the
// session.
func me(t *testing.T, ctx context.Context) (int, map[string]any) {
	t.Helper()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](
		`fetch("/auth/me", {credentials: "same-origin"}).then(async r => ({status: r.status, body: r.ok ? await r.json() : null}))`,
		chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	body, _ := out["body"].(map[string]any)
	if sess, ok := body["session"].(map[string]any); ok {
		body = sess
	}
	return int(out["status"].(float64)), body
}

// TestBrowserSSOSignIn: a new user of the org's verified domain signs in
// with SSO from the shop's sign-in page: the SSO form, the page's link to
// the IdP, the IdP's login page, and back on the shop signed in on
// account security as a just-in-time viewer, with the SSO session in the
// shop's audit log.
func TestBrowserSSOSignIn(t *testing.T) {
	s, iss := ssoSite(t)
	iss.AddUser(oidctest.User{Subject: "sam-idp", Email: "sam@" + ssoDomain, EmailVerified: true, Name: "Sam Single", AMR: []string{"pwd"}})

	ctx := browser(t)
	s.ssoToIdP(t, ctx, iss, "sam@"+ssoDomain)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#login_hint"), "sam-idp"),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS(leftIdP)),
	))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, s.url(web.SecurityPath), loc, "the callback lands on account security on the shop's host: %s", text(t, ctx, "body"))
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(".st-sessions"))))
	require.Equal(t, "Sam Single", text(t, ctx, ".st-user-name"), "signed in as the IdP's user")

	status, sess := me(t, ctx)
	require.Equal(t, 200, status, "the session cookie works on the shop's host")
	require.Equal(t, auth.MethodSSO, sess["method"])
	require.Equal(t, string(ports.RoleViewer), sess["role"], "a just-in-time member with the connection's default role")
	require.EqualValues(t, 1, sess["aal"], "pwd alone at the IdP is AAL1")

	var created []ports.AuditEvent
	require.NoError(t, s.e.Store.InShop(t.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		events, err := tx.Audit().List(ctx, ports.AuditQuery{Limit: 1000})
		for _, e := range events {
			if e.Action == "auth.session.created" {
				created = append(created, e)
			}
		}
		return err
	}, ports.ReadOnly()))
	require.Len(t, created, 1, "one sign-in")
	var after map[string]string
	require.NoError(t, json.Unmarshal(created[0].After, &after))
	require.Equal(t, auth.MethodSSO, after["method"])
	require.Equal(t, "session:"+sess["session_id"].(string), created[0].Target, "the event names the browser's session")
}

// TestBrowserSSOTamperedState: the IdP sends the browser back with a
// state that is not the one the shop started (here changed in the IdP's
// login form): the callback answers the HTML error page with a link to
// sign in — not a problem document, no internals — and no session.
func TestBrowserSSOTamperedState(t *testing.T) {
	s, iss := ssoSite(t)
	iss.AddUser(oidctest.User{Subject: "tam-idp", Email: "tam@" + ssoDomain, EmailVerified: true})

	ctx := browser(t)
	s.ssoToIdP(t, ctx, iss, "tam@"+ssoDomain)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`document.querySelector("input[name=state]").value += "x"`),
		chromedp.SendKeys(chromedp.CSS("#login_hint"), "tam-idp"),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS(leftIdP)),
	))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(loc, s.url("/auth/sso/callback?")), "the browser is back on the shop's callback: %s", loc)
	require.Equal(t, "text/html", eval[string](t, ctx, `document.contentType`), "an HTML page, not a problem document: %s", text(t, ctx, "body"))
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(".st-error"))))
	require.Equal(t, "Unauthorized", text(t, ctx, "h1"))
	body := text(t, ctx, "body")
	require.Contains(t, body, "start again", "the page says what to do")
	for _, internal := range []string{"{", "application/problem", "ssoState", "MAC", ".go"} {
		require.NotContains(t, body, internal, "no internals on the page")
	}
	require.Equal(t, 1, eval[int](t, ctx, `document.querySelectorAll("main a[href='/signin']").length`), "a link to sign in again")

	status, _ := me(t, ctx)
	require.Equal(t, 401, status, "no session")
}
