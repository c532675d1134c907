package web_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"

	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/stockadetest"
)

func TestMain(m *testing.M) { os.Exit(testinfra.Main(m)) }

// site is a running Stockade (SQLite, in a temporary data directory)
// serving on a loopback port, with one shop.
type site struct {
	e    *app.Embedded
	port int
	shop stockadetest.Shop
}

// siteOptions say how startSite starts Stockade.
type siteOptions struct {
	// Web are the pages' options.
	Web web.Options
	// OwnPort puts the public URL on the server's own port
	// (http://localhost:<port>), for what a browser must reach under it:
	// a mailed link, the console's hand-off form, a passkey's relying
	// party. The port is bound first and handed to the server
	// (Server.UseListener), so nothing can take it in between.
	OwnPort bool
	// Edit changes the configuration before the start.
	Edit func(*app.Config)
	// Logs receives the server's log; nil discards it.
	Logs io.Writer
	// Landing is where form sign-ins land (app.Embedding.Landing).
	Landing app.Landing
}

// startSite starts Stockade (SQLite, in a temporary data directory) on a
// loopback port as o says, with one shop.
func startSite(t *testing.T, o siteOptions) *site {
	t.Helper()
	cfg := app.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.HTTP.Addr = "127.0.0.1:0"
	// With OwnPort the port is bound here, to be in the public URL, and
	// held until the server serves it (Server.UseListener): released in
	// between, another process could take it.
	var held net.Listener
	if o.OwnPort {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { _ = l.Close() }) // if the server never took it
		held = l
		port := l.Addr().(*net.TCPAddr).Port
		cfg.HTTP.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		cfg.HTTP.PublicURL = fmt.Sprintf("http://localhost:%d", port)
	}
	cfg.Log.Format = "json"
	if o.Edit != nil {
		o.Edit(&cfg)
	}
	if o.Logs == nil {
		o.Logs = io.Discard
	}
	require.NoError(t, app.PrepareDataDir(cfg))
	e, err := app.Embed(cfg, app.Embedding{LogOutput: o.Logs, Web: o.Web, Landing: o.Landing})
	require.NoError(t, err)
	if held != nil {
		e.Server.UseListener(held)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, e.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = e.Stop(ctx)
	})
	s := &site{e: e, port: e.Server.Addr().(*net.TCPAddr).Port}
	s.shop = stockadetest.NewShop(t, e.Store)
	return s
}

// newSite starts Stockade with opts as the pages' options.
func newSite(t *testing.T, opts web.Options) *site {
	t.Helper()
	return startSite(t, siteOptions{Web: opts})
}

// host is the shop's host with the server's port.
func (s *site) host() string { return fmt.Sprintf("%s.localhost:%d", s.shop.Slug, s.port) }

// url is path on the shop's host, as a browser reaches it.
func (s *site) url(path string) string { return "http://" + s.host() + path }

// member creates a member of the shop named name with a random password
// and returns their e-mail address and password.
func (s *site) member(t *testing.T, name string) (email, password string) {
	t.Helper()
	email = "m-" + strings.ToLower(rand.Text()) + "@example.com"
	password = rand.Text() + "-Aa1!"
	u, err := s.e.Auth.CreateUser(t.Context(), email, name, password)
	require.NoError(t, err)
	err = s.e.Store.InShop(t.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Memberships().Add(ctx, u.ID, ports.RoleViewer)
		return err
	})
	require.NoError(t, err)
	return email, password
}

// do sends method path to the shop's host over the loopback connection,
// as a same-origin request with the session cookie when not empty.
func (s *site) do(t *testing.T, method, path, contentType, body, cookie string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, fmt.Sprintf("http://127.0.0.1:%d%s", s.port, path), strings.NewReader(body))
	require.NoError(t, err)
	req.Host = s.host()
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// apiSignIn signs in through the JSON API and returns the session cookie
// as a Cookie header value.
func (s *site) apiSignIn(t *testing.T, email, password string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	res := s.do(t, http.MethodPost, "/auth/signin", "application/json", string(body), "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	for _, c := range res.Cookies() {
		if c.Name == "__Host-stockade_session" && c.Value != "" {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatal("the API sign-in set no session cookie")
	return ""
}

// browser starts a headless Chromium that resolves every *.localhost
// host to loopback and returns a chromedp context for one tab, bounded
// by 90 seconds.
func browser(t *testing.T) context.Context {
	t.Helper()
	ch := testinfra.StartChromium(t, "MAP *.localhost 127.0.0.1")
	alloc, cancelAlloc := remote.NewAllocator(context.Background(), ch.WebSocketURL)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	require.NoError(t, chromedp.Do(tab), "attach to chromium")
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// signInThroughPage signs email in with the sign-in page's password form
// and waits for the account security page.
func (s *site) signInThroughPage(email, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(s.url("/signin")),
		chromedp.WaitVisible(chromedp.CSS("#pw-email")),
		chromedp.SendKeys(chromedp.CSS("#pw-email"), email),
		chromedp.SendKeys(chromedp.CSS("#pw-password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-sessions")),
	)
}

// eval evaluates expr in the page and returns its value.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, "evaluate %s", expr)
	return v
}

// text returns the text of the first element css selects.
func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	require.NoError(t, err, "text of %s", css)
	return strings.TrimSpace(v)
}
