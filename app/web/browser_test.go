package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/web"
)

// TestBrowserSignInAndSignOutAnotherSession: a member signed in through
// the API signs in through the page, lands on account security, sees both
// sessions, and signs the API one out; its cookie then gets 401.
func TestBrowserSignInAndSignOutAnotherSession(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.member(t, "Ada Lovelace")
	apiCookie := s.apiSignIn(t, email, password)
	require.Equal(t, http.StatusOK, s.do(t, http.MethodGet, "/auth/me", "", "", apiCookie, nil).StatusCode)

	ctx := browser(t)
	require.NoError(t, chromedp.Do(ctx, s.signInThroughPage(email, password)))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, s.url(web.SecurityPath), loc, "sign-in lands on account security")
	require.Equal(t, 2, eval[int](t, ctx, `document.querySelectorAll("li.st-session").length`), "the page's session and the API's")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`li.st-session:not(.st-current) form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-notice")),
	))
	require.Equal(t, "That session has been signed out.", text(t, ctx, ".st-notice"))
	require.Equal(t, 1, eval[int](t, ctx, `document.querySelectorAll("li.st-session").length`))
	require.Equal(t, http.StatusUnauthorized, s.do(t, http.MethodGet, "/auth/me", "", "", apiCookie, nil).StatusCode,
		"the session signed out from the page no longer works")
}

// TestBrowserDisplayNameIsInert: a display name carrying a script and an
// <img onerror> is shown as text; neither runs.
func TestBrowserDisplayNameIsInert(t *testing.T) {
	s := newSite(t, web.Options{})
	name := `<script>window.stockadePwned=1</script><img src=x onerror="window.stockadePwned=2">`
	email, password := s.member(t, name)

	ctx := browser(t)
	require.NoError(t, chromedp.Do(ctx, s.signInThroughPage(email, password)))
	require.Equal(t, "undefined", eval[string](t, ctx, `typeof window.stockadePwned`), "no injected script ran")
	require.Equal(t, name, eval[string](t, ctx, `document.querySelector(".st-user-name").textContent`), "the name is shown as text")
	// The page's one script is Stockade's own passkey script.
	require.Zero(t, eval[int](t, ctx, `document.querySelectorAll("main script:not([src='/stockade/passkey.js']), main img").length`), "the name made no element")
}

// TestBrowserCSPBlocksInlineScript: even a template that carries an
// inline script and an inline event handler (here an app's overlay)
// cannot run them: the page's CSP refuses inline script. The overlay's
// stylesheet replaces Stockade's.
func TestBrowserCSPBlocksInlineScript(t *testing.T) {
	overlay := fstest.MapFS{
		"templates/signin.html": {Data: []byte(`{{define "title"}}Sign in{{end}}{{define "content"}}<h1>Welcome</h1>` +
			`<script>window.stockadeInline=1</script><p id="inline" onclick="window.stockadeInline=2">x</p>{{end}}`)},
		"static/stockade.css": {Data: []byte(`h1 { color: rgb(1, 2, 3); }`)},
	}
	s := newSite(t, web.Options{Overlay: overlay})

	ctx := browser(t)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(s.url("/signin")),
		chromedp.WaitVisible(chromedp.CSS("#inline")),
		chromedp.Click(chromedp.CSS("#inline")),
	))
	require.Equal(t, 1, eval[int](t, ctx, `document.querySelectorAll("main script").length`), "the inline script is in the page")
	require.Equal(t, "undefined", eval[string](t, ctx, `typeof window.stockadeInline`), "the CSP kept the inline script and handler from running")
	require.Equal(t, "rgb(1, 2, 3)", eval[string](t, ctx, `getComputedStyle(document.querySelector("h1")).color`), "the overlay's stylesheet is served")
}

// TestBrowserCrossSiteFormPostRefused: a page on another origin whose
// form posts to "sign out everywhere else" is refused by the
// cross-origin protection, and the other session lives on.
func TestBrowserCrossSiteFormPostRefused(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.member(t, "Grace Hopper")
	apiCookie := s.apiSignIn(t, email, password)

	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>evil</title><form method="post" action="%s"><button id="go" type="submit">Win a prize</button></form>`,
			s.url(web.SecurityPath+"/sessions/revoke-others"))
	}))
	t.Cleanup(evil.Close)

	ctx := browser(t)
	require.NoError(t, chromedp.Do(ctx,
		s.signInThroughPage(email, password),
		chromedp.Navigate(evil.URL),
		chromedp.Click(chromedp.CSS("#go")),
		chromedp.WaitVisible(chromedp.CSS(".st-error")),
	))
	require.Equal(t, "Forbidden", text(t, ctx, "h1"))
	require.Contains(t, text(t, ctx, ".st-error"), "cross-origin request refused")
	require.Equal(t, http.StatusOK, s.do(t, http.MethodGet, "/auth/me", "", "", apiCookie, nil).StatusCode,
		"the other session was not signed out")
}

// TestBrowserNarrowScreen: at 320 px wide neither page scrolls sideways,
// and every visible input has a label.
func TestBrowserNarrowScreen(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.member(t, "A rather long display name that must wrap on a narrow phone screen")
	s.apiSignIn(t, email, password) // a second session, so the list has a revoke form

	ctx := browser(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(320, 640), chromedp.Navigate(s.url("/signin")), chromedp.WaitVisible(chromedp.CSS("#pw-email"))))
	const unlabelled = `[...document.querySelectorAll("input:not([type=hidden])")].filter(i => !i.labels || i.labels.length === 0).length`
	require.LessOrEqual(t, eval[int](t, ctx, `document.documentElement.scrollWidth`), 320, "the sign-in page fits")
	require.Zero(t, eval[int](t, ctx, unlabelled))
	require.NoError(t, chromedp.Do(ctx, s.signInThroughPage(email, password)))
	require.LessOrEqual(t, eval[int](t, ctx, `document.documentElement.scrollWidth`), 320, "the account security page fits")
	require.Zero(t, eval[int](t, ctx, unlabelled))
}
