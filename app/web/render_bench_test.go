package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/stockadetest"
)

// renderSite is Stockade (SQLite, in a temporary data directory) with one
// shop, asked in process through its handler: no network, so a benchmark
// measures the server's work.
type renderSite struct {
	e    *app.Embedded
	shop stockadetest.Shop
}

// newRenderSite embeds and starts Stockade for tb; its requests go to
// e.Handler in process, not to the server's loopback port.
func newRenderSite(tb testing.TB) *renderSite {
	tb.Helper()
	cfg := app.Default()
	cfg.DataDir = filepath.Join(tb.TempDir(), "data")
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Log.Format = "json"
	require.NoError(tb, app.PrepareDataDir(cfg))
	e, err := app.Embed(cfg, app.Embedding{LogOutput: io.Discard})
	require.NoError(tb, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(tb, e.Start(ctx))
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = e.Stop(ctx)
	})
	return &renderSite{e: e, shop: stockadetest.NewShop(tb, e.Store)}
}

// request serves method path on host (the shop's when "") with cookie and
// returns the recorded answer.
func (s *renderSite) request(tb testing.TB, host, method, path, contentType, body, cookie string) *httptest.ResponseRecorder {
	req := httptest.NewRequestWithContext(tb.Context(), method, path, strings.NewReader(body))
	req.Host = host
	if host == "" {
		req.Host = s.shop.Slug + ".localhost"
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	req.Header.Set("Accept", "text/html")
	rec := httptest.NewRecorder()
	s.e.Handler.ServeHTTP(rec, req)
	return rec
}

// signIn creates a member and signs them in with the sign-in page's form;
// with totp they first get a confirmed authenticator app, so the session
// returned waits for its second factor.
func (s *renderSite) signIn(tb testing.TB, totp bool) string {
	tb.Helper()
	email := "m-" + strings.ToLower(rand.Text()) + "@example.com"
	password := rand.Text() + "-Aa1!"
	u, err := s.e.Auth.CreateUser(tb.Context(), email, "Render Bench", password)
	require.NoError(tb, err)
	require.NoError(tb, s.e.Store.InShop(tb.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Memberships().Add(ctx, u.ID, ports.RoleViewer)
		return err
	}))
	form := url.Values{"email": {email}, "password": {password}}.Encode()
	cookieOf := func(rec *httptest.ResponseRecorder) string {
		for _, c := range rec.Result().Cookies() {
			if c.Name == auth.SessionCookieName && c.Value != "" {
				return c.Name + "=" + c.Value
			}
		}
		tb.Fatalf("no session cookie: %d %s", rec.Code, rec.Body)
		return ""
	}
	cookie := cookieOf(s.request(tb, "", http.MethodPost, web.SignInPath, formType, form, ""))
	if !totp {
		return cookie
	}
	rec := s.request(tb, "", http.MethodPost, "/auth/2fa/totp/enrol", "", "", cookie)
	require.Equal(tb, http.StatusOK, rec.Code, rec.Body.String())
	var en struct {
		Secret string `json:"secret"`
	}
	require.NoError(tb, json.Unmarshal(rec.Body.Bytes(), &en))
	code, err := auth.TOTPCode(en.Secret, time.Now())
	require.NoError(tb, err)
	rec = s.request(tb, "", http.MethodPost, "/auth/2fa/totp/confirm", "application/json", `{"code":"`+code+`"}`, cookie)
	require.Equal(tb, http.StatusOK, rec.Code, rec.Body.String())
	rec = s.request(tb, "", http.MethodPost, web.SignInPath, formType, form, "")
	require.Equal(tb, web.SecondFactorPath, rec.Header().Get("Location"))
	return cookieOf(rec)
}

// renderPage is one page the render benchmark asks for.
type renderPage struct {
	name   string
	method string
	path   string
	// host replaces the shop's host when set.
	host string
	// as is "" (signed out), "member" or "second-factor".
	as     string
	status int
}

// renderPages are the pages measured, one line each.
var renderPages = []renderPage{
	{name: "signin", method: http.MethodGet, path: web.SignInPath, status: http.StatusOK},
	{name: "security", method: http.MethodGet, path: web.SecurityPath, as: "member", status: http.StatusOK},
	{name: "second-factor", method: http.MethodGet, path: web.SecondFactorPath, as: "second-factor", status: http.StatusOK},
	// The enrolment page with its QR code (a new enrolment each time).
	{name: "totp", method: http.MethodPost, path: web.TOTPPath, as: "member", status: http.StatusOK},
	// The error page: no shop at this host.
	{name: "error", method: http.MethodGet, path: web.SignInPath, host: "nosuch.localhost", status: http.StatusNotFound},
}

// cookieFor is the session for pg's visitor.
func (s *renderSite) cookieFor(tb testing.TB, pg renderPage) string {
	switch pg.as {
	case "":
		return ""
	case "member":
		return s.signIn(tb, false)
	case "second-factor":
		return s.signIn(tb, true)
	}
	tb.Fatalf("no visitor %q", pg.as)
	return ""
}

// gzipSize is the size of b compressed with gzip at the default level.
func gzipSize(tb testing.TB, b []byte) int {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(tb, err)
	require.NoError(tb, zw.Close())
	return buf.Len()
}

// BenchmarkRender measures the server's time and allocations to answer
// each page of renderPages through the pages' handler (in process, no
// network), and reports the size of its body as body-bytes (and gzip-bytes,
// what it would be compressed: Stockade itself does not compress). The
// stylesheet, fetched once per visit, is its own entry.
func BenchmarkRender(b *testing.B) {
	s := newRenderSite(b)
	for _, pg := range renderPages {
		b.Run(pg.name, func(b *testing.B) {
			cookie := s.cookieFor(b, pg)
			var size int
			b.ReportAllocs()
			for b.Loop() {
				rec := s.request(b, pg.host, pg.method, pg.path, formType, "", cookie)
				if rec.Code != pg.status {
					b.Fatalf("%s %s: %d, want %d: %s", pg.method, pg.path, rec.Code, pg.status, rec.Body)
				}
				size = rec.Body.Len()
			}
			last := s.request(b, pg.host, pg.method, pg.path, formType, "", cookie)
			b.ReportMetric(float64(size), "body-bytes")
			b.ReportMetric(float64(gzipSize(b, last.Body.Bytes())), "gzip-bytes")
		})
	}
	b.Run("stylesheet", func(b *testing.B) {
		var size int
		b.ReportAllocs()
		for b.Loop() {
			rec := s.request(b, "", http.MethodGet, web.StylesheetPath, "", "", "")
			if rec.Code != http.StatusOK {
				b.Fatalf("stylesheet: %d", rec.Code)
			}
			size = rec.Body.Len()
		}
		last := s.request(b, "", http.MethodGet, web.StylesheetPath, "", "", "")
		b.ReportMetric(float64(size), "body-bytes")
		b.ReportMetric(float64(gzipSize(b, last.Body.Bytes())), "gzip-bytes")
	})
}

// TestRenderTransferSizes: every page of renderPages answers with its
// status as an HTML page, and the test logs what a first visit transfers:
// the page, the stylesheet once, and both compressed (go test -v shows
// it; docs/performance.md has the figures).
func TestRenderTransferSizes(t *testing.T) {
	s := newRenderSite(t)
	css := s.request(t, "", http.MethodGet, web.StylesheetPath, "", "", "")
	require.Equal(t, http.StatusOK, css.Code)
	cssSize, cssGzip := css.Body.Len(), gzipSize(t, css.Body.Bytes())
	require.Empty(t, css.Header().Get("Content-Encoding"), "the stylesheet is served uncompressed")
	t.Logf("%-14s %6s %6s %9s %9s", "page", "html", "gzip", "+css", "+css gz")
	for _, pg := range renderPages {
		rec := s.request(t, pg.host, pg.method, pg.path, formType, "", s.cookieFor(t, pg))
		require.Equal(t, pg.status, rec.Code, "%s: %s", pg.name, rec.Body)
		require.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"), pg.name)
		require.Empty(t, rec.Header().Get("Content-Encoding"), "%s is served uncompressed", pg.name)
		require.Contains(t, rec.Body.String(), `href="`+web.StylesheetPath+`"`, "%s links the stylesheet", pg.name)
		n, gz := rec.Body.Len(), gzipSize(t, rec.Body.Bytes())
		t.Logf("%-14s %6d %6d %9d %9d", pg.name, n, gz, n+cssSize, gz+cssGzip)
	}
	t.Logf("%-14s %6d %6d", "stockade.css", cssSize, cssGzip)
}
