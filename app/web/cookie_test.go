package web_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/stockadetest"
)

// cookieSeen is what cookieRecorder noted of one request.
type cookieSeen struct {
	host, path string
	session    bool // it carried a __Host-stockade_session cookie
}

// cookieRecorder serves Stockade's handler and notes, for every request,
// its host and whether it carried the session cookie: the server side of
// what the browser sent.
type cookieRecorder struct {
	next http.Handler
	mu   sync.Mutex
	seen []cookieSeen
}

func (c *cookieRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, err := r.Cookie(auth.SessionCookieName)
	c.mu.Lock()
	c.seen = append(c.seen, cookieSeen{host: r.Host, path: r.URL.Path, session: err == nil})
	c.mu.Unlock()
	c.next.ServeHTTP(w, r)
}

// on returns the requests noted on host.
func (c *cookieRecorder) on(host string) []cookieSeen {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []cookieSeen
	for _, s := range c.seen {
		if s.host == host {
			out = append(out, s)
		}
	}
	return out
}

// browserCookies returns the names of the cookies the browser would send
// to u (Network.getCookies).
func browserCookies(t *testing.T, ctx context.Context, u string) []string {
	t.Helper()
	var names []string
	for _, c := range mustCookies(t, ctx, u) {
		names = append(names, c.Name)
	}
	return names
}

// TestCookieBrowserShopIsolation (acceptance 2): a member of shop A signs
// in through the page in Chromium; the __Host- session cookie is
// host-only, so on shop B's host (both *.localhost, resolved to loopback)
// the browser holds and sends none — the server sees no session cookie on
// B's requests, and B's account security sends the browser to B's
// sign-in page. The cookie copied by hand into B's host is refused: the
// page redirects to sign-in and the API answers 401.
func TestCookieBrowserShopIsolation(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.member(t, "Shop A Member")
	shopB := stockadetest.NewShop(t, s.e.Store)

	rec := &cookieRecorder{next: s.e.Handler}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	hostA := fmt.Sprintf("%s.localhost:%d", s.shop.Slug, port)
	hostB := fmt.Sprintf("%s.localhost:%d", shopB.Slug, port)
	urlA := func(path string) string { return "http://" + hostA + path }
	urlB := func(path string) string { return "http://" + hostB + path }

	ctx := browser(t)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(urlA(web.SignInPath)),
		chromedp.WaitVisible(chromedp.CSS("#pw-email")),
		chromedp.SendKeys(chromedp.CSS("#pw-email"), email),
		chromedp.SendKeys(chromedp.CSS("#pw-password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-sessions")),
	))
	require.Contains(t, browserCookies(t, ctx, urlA("/")), auth.SessionCookieName, "signed in on A")
	seenA := rec.on(hostA)
	require.True(t, seenA[len(seenA)-1].session, "A's account security was asked for with the cookie: %v", seenA)

	// Shop B: no cookie in the browser for its host, none sent, and its
	// account security sends the browser to sign in.
	require.NotContains(t, browserCookies(t, ctx, urlB("/")), auth.SessionCookieName, "the browser holds no session for B")
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(urlB(web.SecurityPath)), chromedp.WaitVisible(chromedp.CSS("#pw-email"))))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, urlB(web.SignInPath), loc, "B's account security redirects to B's sign-in")
	seenB := rec.on(hostB)
	require.NotEmpty(t, seenB)
	for _, r := range seenB {
		require.False(t, r.session, "the browser sent A's session cookie to B: %s %s", r.host, r.path)
	}

	// The cookie copied by hand to B's host: refused, page and API.
	var copied string
	for _, c := range mustCookies(t, ctx, urlA("/")) {
		if c.Name == auth.SessionCookieName {
			copied = c.Name + "=" + c.Value
		}
	}
	require.NotEmpty(t, copied)
	require.NoError(t, chromedp.Do(ctx, setCookie(urlB("/"), copied)))
	require.Contains(t, browserCookies(t, ctx, urlB("/")), auth.SessionCookieName, "the copy is in the browser for B")
	n := len(rec.on(hostB))
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(urlB(web.SecurityPath)), chromedp.WaitVisible(chromedp.CSS("#pw-email"))))
	loc, err = chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, urlB(web.SignInPath), loc, "B refuses A's session: back to sign-in")
	require.Greater(t, len(rec.on(hostB)), n, "B's account security was asked for again")
	require.True(t, rec.on(hostB)[n].session, "this time the browser did send the copied cookie to B")

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/auth/me", nil)
	require.NoError(t, err)
	req.Host = hostB
	req.Header.Set("Cookie", copied)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusUnauthorized, res.StatusCode, "the API on B refuses A's session")
	req.Host = hostA
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, "A's session still works on A")
}

// mustCookies returns the cookies the browser holds for u.
func mustCookies(t *testing.T, ctx context.Context, u string) []*network.Cookie {
	t.Helper()
	res, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{u}})
	})
	require.NoError(t, err, "cookies of %s", u)
	return res.Cookies
}
