package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/stockadetest"
)

func TestMain(m *testing.M) { os.Exit(stockadetest.Main(m)) }

// TestBoardUnderStockadesGuard: the jobs board is an app route like the
// others: a member of the shop gets the page (no banner: not an
// impersonation), with the pages' CSP; another shop's member and an
// anonymous caller are refused by Stockade's guard.
func TestBoardUnderStockadesGuard(t *testing.T) {
	site, api := start(t)
	bobs, alices := stockadetest.NewShop(t, site.Store), stockadetest.NewShop(t, site.Store)
	viewer := site.SignIn(t, bobs, ports.RoleViewer)
	erin := site.SignIn(t, alices, ports.RoleViewer)

	res, b := viewer.Do(t, http.MethodGet, BoardPath, "")
	require.Equal(t, http.StatusOK, res.StatusCode, b)
	require.Equal(t, web.CSP, res.Header.Get("Content-Security-Policy"))
	require.Contains(t, b, `<h1 class="fx-board">Jobs board</h1>`)
	require.NotContains(t, b, "st-impersonation", "a member's own session shows no banner")
	require.NotContains(t, b, "style=")

	stockadetest.AttackMatrix(t, api.Routes(), erin, viewer, func(r httpapi.Route) bool { return r.Path == BoardPath })
}

// boardServe starts the app on a free loopback port with its public URL
// on that port (the console's hand-off form posts to the shop's host
// under it) and returns the port, the store and the auth service.
func boardServe(t *testing.T) (int, ports.Store, *auth.Service) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })  // if the server never took it
	port := l.Addr().(*net.TCPAddr).Port // held until the server serves it: released, another process could take it
	cfg := config(t)
	cfg.HTTP.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	cfg.HTTP.PublicURL = fmt.Sprintf("http://localhost:%d", port)
	mod, err := Module()
	require.NoError(t, err)
	var store ports.Store
	var users *auth.Service
	var srv *app.Server
	a := app.New(cfg, mod, app.WithLogOutput(io.Discard), fx.Populate(&store, &users, &srv))
	require.NoError(t, a.Err())
	srv.UseListener(l)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(t, a.Start(ctx))
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	return port, store, users
}

// TestBrowserBannerOnAppPage: in Chromium an operator signs in to the
// console on the platform's host, impersonates a member with a reason and
// continues to the shop's host; the banner shows on Stockade's account
// security page AND on the app's jobs board; Exit on the app page's banner
// ends the impersonation: the browser lands on the sign-in page and the
// session's cookie gets 401 from the app's route and the API.
func TestBrowserBannerOnAppPage(t *testing.T) {
	port, store, users := boardServe(t)
	shop := stockadetest.NewShop(t, store)
	email := "m-" + strings.ToLower(rand.Text()) + "@example.com"
	u, err := users.CreateUser(t.Context(), email, "Tess Tech", rand.Text()+"-Aa1!")
	require.NoError(t, err)
	require.NoError(t, store.InShop(t.Context(), shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Memberships().Add(ctx, u.ID, ports.RoleTech)
		return err
	}))
	op := "op-" + strings.ToLower(rand.Text()) + "@ops.example.com"
	password := rand.Text() + "-Aa1!"
	_, err = users.CreateOperator(t.Context(), op, "Olga Ops", password)
	require.NoError(t, err)
	en, err := users.EnrolOperatorTOTPByEmail(t.Context(), op)
	require.NoError(t, err)
	code, err := auth.TOTPCode(en.Secret, time.Now())
	require.NoError(t, err)

	platform := fmt.Sprintf("http://localhost:%d", port)
	shopURL := func(path string) string { return fmt.Sprintf("http://%s.localhost:%d%s", shop.Slug, port, path) }
	ch := stockadetest.StartBrowser(t, "MAP *.localhost 127.0.0.1")
	alloc, cancelAlloc := remote.NewAllocator(context.Background(), ch.WebSocketURL)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	t.Cleanup(cancel)
	textOf := func(css string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
		require.NoError(t, err, "text of %s", css)
		return strings.TrimSpace(v)
	}

	require.NoError(t, chromedp.Do(ctx,
		impersonateFromConsole(platform, op, password, code, shop.Slug, email, "Ticket #22: the jobs board is empty"),
		chromedp.WaitVisible(chromedp.CSS("h1.fx-board")), // the hand-off lands where a sign-in does: the app's board (app.Landing.AfterSignIn)
	))
	if loc, err := chromedp.Run(ctx, chromedp.Location()); assert.NoError(t, err) {
		assert.Equal(t, shopURL(BoardPath), loc, "the hand-off lands on the app's landing page")
	}
	require.Equal(t, op, textOf(".st-impersonation .st-imp-operator"), "the banner on the landing app page")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(shopURL(web.SecurityPath)),
		chromedp.WaitVisible(chromedp.CSS(".st-impersonation")),
	))
	require.Equal(t, op, textOf(".st-imp-operator"), "the banner on Stockade's page")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(shopURL(BoardPath)),
		chromedp.WaitVisible(chromedp.CSS("h1.fx-board")),
	))
	require.Equal(t, op, textOf(".st-impersonation .st-imp-operator"), "the banner on the app's page")
	require.Contains(t, textOf(".st-impersonation .st-imp-member"), email)
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{shopURL("/")}})
	require.NoError(t, err)
	var session string
	for _, c := range cookies.Cookies {
		if c.Name == auth.SessionCookieName {
			session = c.Name + "=" + c.Value
		}
	}
	require.NotEmpty(t, session, "the impersonation session's cookie")
	get := func(path string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
		require.NoError(t, err)
		req.Host = fmt.Sprintf("%s.localhost:%d", shop.Slug, port)
		req.Header.Set("Cookie", session)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	require.Equal(t, http.StatusOK, get(BoardPath), "the session works before Exit")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`.st-impersonation form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#pw-email")),
	))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, shopURL(web.SignInPath), loc, "Exit lands on the shop's sign-in page")
	require.Equal(t, http.StatusUnauthorized, get(BoardPath), "the impersonation has ended: the app's page refuses the session")
	require.Equal(t, http.StatusUnauthorized, get("/auth/me"))
}

// impersonateFromConsole is an operator's way into a member's session
// through the console's pages, as a browser does it: sign in to the
// console on platform (password and TOTP code; a first sign-in shows the
// recovery codes), find the shop and the member, start an impersonation
// with reason, and hand off to the shop. The caller waits for the page it
// expects to land on.
func impersonateFromConsole(platform, op, password, code, slug, member, reason string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(platform+web.ConsoleSignInPath),
		chromedp.WaitVisible(chromedp.CSS("#op-email")),
		chromedp.SendKeys(chromedp.CSS("#op-email"), op),
		chromedp.SendKeys(chromedp.CSS("#op-password"), password),
		chromedp.SendKeys(chromedp.CSS("#op-code"), code),
		chromedp.Click(chromedp.CSS(`form[action="/console/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-recovery-codes")),
		chromedp.Navigate(platform+web.ConsolePath+"?shop="+slug),
		chromedp.WaitVisible(chromedp.CSS("#c-email")),
		chromedp.SendKeys(chromedp.CSS("#c-email"), member),
		chromedp.Click(chromedp.CSS(`.st-console-shop form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#c-reason")),
		chromedp.SendKeys(chromedp.CSS("#c-reason"), reason),
		chromedp.Click(chromedp.CSS(`form[action="/console/impersonate"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-handoff")),
		chromedp.Click(chromedp.CSS(".st-handoff button")),
	)
}
