package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"html/template"
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
	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/stockadetest"
)

// renderSite is Stockade (SQLite, in a temporary data directory) with one
// shop, asked in process through its handler: no network, so a benchmark
// measures the server's work.
type renderSite struct {
	e       *app.Embedded
	shop    stockadetest.Shop
	signIns renderSignIns
	crewed  bool
	// crewEmail is a member the console finds.
	crewEmail string
	// public serves renderPublicPath: an app's capability page through
	// web.NewPublicShell, as an app's link route would.
	public http.Handler
}

// renderPublicPath is the app's public capability page of the benchmark.
const renderPublicPath = "/p/quotes/"

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
	s := &renderSite{e: e, shop: stockadetest.NewShop(tb, e.Store)}
	shell, err := web.NewPublicShell(web.Options{})
	require.NoError(tb, err)
	shops, err := httpapi.NewHostShops(e.Store, "http://localhost:8080", ports.SystemClock{})
	require.NoError(tb, err)
	var body strings.Builder
	require.NoError(tb, publicBody.Execute(&body, map[string]string{"Customer": "Ada Lovelace"}))
	page := web.PublicPage{Title: "Quote #7: two wheels trued", Body: template.HTML(body.String())}
	s.public = httpapi.OnShopHost(shops)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		shell.Render(w, r, http.StatusOK, page)
	}))
	return s
}

// request serves method path on host (the shop's when "") with cookie and
// returns the recorded answer.
func (s *renderSite) request(tb testing.TB, host, method, path, contentType, body, cookie string) *httptest.ResponseRecorder {
	return s.requestFrom(tb, "", host, method, path, contentType, body, cookie)
}

// requestFrom is request from the client address remote ("" for
// httptest's): each sign-in of the benchmark comes from an address of its
// own, so that the table's many visitors stay under the per-address
// sign-in limit.
func (s *renderSite) requestFrom(tb testing.TB, remote, host, method, path, contentType, body, cookie string) *httptest.ResponseRecorder {
	req := httptest.NewRequestWithContext(tb.Context(), method, path, strings.NewReader(body))
	if remote != "" {
		req.RemoteAddr = remote + ":4711"
	}
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
	h := s.e.Handler
	if s.public != nil && strings.HasPrefix(path, renderPublicPath) {
		h = s.public
	}
	h.ServeHTTP(rec, req)
	return rec
}

// renderSignIns counts the benchmark's sign-ins, to give each a client
// address of its own (see requestFrom).
type renderSignIns struct{ n int }

// remote is the next client address.
func (c *renderSignIns) remote() string {
	c.n++
	return fmt.Sprintf("10.22.%d.%d", c.n/250, 1+c.n%250)
}

// member creates a member of the shop with role and returns them with
// their password.
func (s *renderSite) member(tb testing.TB, role ports.Role) (ports.User, string) {
	tb.Helper()
	email := "m-" + strings.ToLower(rand.Text()) + "@example.com"
	password := rand.Text() + "-Aa1!"
	u, err := s.e.Auth.CreateUser(tb.Context(), email, "Render Bench", password)
	require.NoError(tb, err)
	require.NoError(tb, s.e.Store.InShop(tb.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Memberships().Add(ctx, u.ID, role)
		return err
	}))
	return u, password
}

// cookieOf is the cookie name rec sets, as a Cookie header value.
func renderCookieOf(tb testing.TB, rec *httptest.ResponseRecorder, name string) string {
	tb.Helper()
	for _, c := range rec.Result().Cookies() {
		if c.Name == name && c.Value != "" {
			return c.Name + "=" + c.Value
		}
	}
	tb.Fatalf("no %s cookie: %d %s", name, rec.Code, rec.Body)
	return ""
}

// signIn creates a Viewer and signs them in with the sign-in page's form;
// with totp they first get a confirmed authenticator app, so the session
// returned waits for its second factor.
func (s *renderSite) signIn(tb testing.TB, totp bool) string {
	tb.Helper()
	u, password := s.member(tb, ports.RoleViewer)
	cookie := s.signInAs(tb, u.Email, password)
	if !totp {
		return cookie
	}
	s.enrolTOTP(tb, cookie)
	rec := s.requestFrom(tb, s.signIns.remote(), "", http.MethodPost, web.SignInPath, formType, url.Values{"email": {u.Email}, "password": {password}}.Encode(), "")
	require.Equal(tb, web.SecondFactorPath, rec.Header().Get("Location"))
	return renderCookieOf(tb, rec, auth.SessionCookieName)
}

// signInAs signs email in with the sign-in page's form and returns the
// session cookie.
func (s *renderSite) signInAs(tb testing.TB, email, password string) string {
	tb.Helper()
	form := url.Values{"email": {email}, "password": {password}}.Encode()
	return renderCookieOf(tb, s.requestFrom(tb, s.signIns.remote(), "", http.MethodPost, web.SignInPath, formType, form, ""), auth.SessionCookieName)
}

// enrolTOTP gives the user of cookie a confirmed authenticator app
// through the API and returns its secret.
func (s *renderSite) enrolTOTP(tb testing.TB, cookie string) string {
	tb.Helper()
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
	return en.Secret
}

// as signs in a new member with role and returns their session cookie.
func (s *renderSite) as(tb testing.TB, role ports.Role) string {
	tb.Helper()
	u, password := s.member(tb, role)
	return s.signInAs(tb, u.Email, password)
}

// crew gives the shop, once, four more members, a pending invitation and
// a few audit events, so that the members page, the invitations and the
// audit log show rows.
func (s *renderSite) crew(tb testing.TB) {
	tb.Helper()
	if s.crewed {
		return
	}
	s.crewed = true
	for _, role := range []ports.Role{ports.RoleAdmin, ports.RoleTech, ports.RoleSales, ports.RoleViewer} {
		s.member(tb, role)
	}
	owner := s.as(tb, ports.RoleOwner)
	rec := s.request(tb, "", http.MethodPost, web.InvitationsPath, formType, url.Values{"email": {"lin@acme-bikes.example"}, "role": {"tech"}}.Encode(), owner)
	require.Equal(tb, http.StatusSeeOther, rec.Code, rec.Body.String())
	require.NoError(tb, s.e.Store.InShop(tb.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		for i := range 20 {
			if _, err := tx.Audit().Append(ctx, ports.AuditEvent{ID: ports.NewEventID(), Time: time.Now(), Actor: "operator:olga@ops.example.com",
				Action: "impersonation.started", Target: fmt.Sprintf("user:%d", i), Outcome: ports.OutcomeSuccess, IP: "203.0.113.5",
				After: []byte(`{"reason":"Ticket #22"}`)}); err != nil {
				return err
			}
		}
		return nil
	}))
}

// operator creates an operator (with an authenticator app when
// withFactor), signs them in through the console's form and returns the
// operator cookie.
func (s *renderSite) operator(tb testing.TB, withFactor bool) string {
	tb.Helper()
	email := "op-" + strings.ToLower(rand.Text()) + "@ops.example.com"
	password := rand.Text() + "-Aa1!"
	_, err := s.e.Auth.CreateOperator(tb.Context(), email, "Olga Ops", password)
	require.NoError(tb, err)
	form := url.Values{"email": {email}, "password": {password}}
	if withFactor {
		en, err := s.e.Auth.EnrolOperatorTOTPByEmail(tb.Context(), email)
		require.NoError(tb, err)
		code, err := auth.TOTPCode(en.Secret, time.Now())
		require.NoError(tb, err)
		form.Set("code", code)
	}
	rec := s.requestFrom(tb, s.signIns.remote(), "localhost", http.MethodPost, web.ConsoleSignInPath, formType, form.Encode(), "")
	return renderCookieOf(tb, rec, auth.OperatorCookieName)
}

// renderPage is one page the render benchmark asks for.
type renderPage struct {
	name   string
	method string
	path   string
	// form, when set, makes the body of the request (a form post) for s.
	form func(s *renderSite) string
	// host replaces the shop's host when set ("localhost" is the
	// platform's).
	host string
	// as is "" (signed out), "member", "second-factor", "totp-member" (an
	// authenticator app and a passkey), "owner", "admin" (of a shop with
	// a crew, see renderSite.crew), "operator" or "new-operator" (one
	// without a factor yet).
	as     string
	status int
}

// renderPages are the pages measured, one line each.
var renderPages = []renderPage{
	{name: "signin", method: http.MethodGet, path: web.SignInPath, status: http.StatusOK},
	{name: "security", method: http.MethodGet, path: web.SecurityPath, as: "member", status: http.StatusOK},
	{name: "security-passkeys", method: http.MethodGet, path: web.SecurityPath, as: "totp-member", status: http.StatusOK},
	{name: "second-factor", method: http.MethodGet, path: web.SecondFactorPath, as: "second-factor", status: http.StatusOK},
	// The enrolment page with its QR code (a new enrolment each time).
	{name: "totp", method: http.MethodPost, path: web.TOTPPath, as: "member", status: http.StatusOK},
	// Ten new recovery codes each time.
	{name: "recovery-codes", method: http.MethodPost, path: web.RecoveryCodesPath, as: "totp-member", status: http.StatusOK},
	{name: "reauth", method: http.MethodGet, path: web.ReauthPath + "?next=" + web.SecurityPath, as: "member", status: http.StatusOK},
	{name: "settings", method: http.MethodGet, path: web.SettingsPath, as: "owner", status: http.StatusOK},
	{name: "settings-members", method: http.MethodGet, path: web.MembersPath, as: "admin", status: http.StatusOK},
	{name: "settings-invitations", method: http.MethodGet, path: web.InvitationsPath, as: "owner", status: http.StatusOK},
	{name: "settings-two-factor", method: http.MethodGet, path: web.TwoFactorPolicyPath, as: "owner", status: http.StatusOK},
	// A page of the log (its chain verified) and the access review.
	{name: "audit-log", method: http.MethodGet, path: web.AuditLogPath, as: "admin", status: http.StatusOK},
	{name: "access-review", method: http.MethodGet, path: web.AccessReviewPath, as: "admin", status: http.StatusOK},
	// An app's capability page through the public shell.
	{name: "public-capability", method: http.MethodGet, path: renderPublicPath + "7?token=x", status: http.StatusOK},
	{name: "console-signin", method: http.MethodGet, path: web.ConsoleSignInPath, host: "localhost", status: http.StatusOK},
	// A new operator enrolment with its QR code each time.
	{name: "console-totp", method: http.MethodPost, path: web.ConsoleTOTPPath, host: "localhost", as: "new-operator", status: http.StatusOK},
	// The console with the shop and a member found.
	{name: "console", method: http.MethodGet, path: web.ConsolePath + "?shop=SHOP&email=EMAIL", host: "localhost", as: "operator", status: http.StatusOK},
	// A new impersonation each time (audited) and its hand-off page.
	{name: "console-handoff", method: http.MethodPost, path: web.ConsoleImpersonatePath, host: "localhost", as: "operator", status: http.StatusCreated,
		form: func(s *renderSite) string {
			return url.Values{"shop": {s.shop.Slug}, "user": {s.crewEmail}, "reason": {"Ticket #22: the invoice page"}}.Encode()
		}},
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
	case "totp-member":
		u, password := s.member(tb, ports.RoleViewer)
		cookie := s.signInAs(tb, u.Email, password)
		s.enrolTOTP(tb, cookie)
		require.NoError(tb, s.e.Store.InShop(tb.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Passkeys().Create(ctx, ports.Passkey{ID: ports.NewPasskeyID(), UserID: u.ID, CredentialID: []byte(rand.Text()),
				RPID: s.shop.Slug + ".localhost", PublicKey: []byte("not a real key"), Name: "Work laptop"})
			return err
		}))
		return cookie
	case "owner":
		s.crew(tb)
		return s.as(tb, ports.RoleOwner)
	case "admin":
		s.crew(tb)
		return s.as(tb, ports.RoleAdmin)
	case "operator":
		return s.operator(tb, true)
	case "new-operator":
		return s.operator(tb, false)
	}
	tb.Fatalf("no visitor %q", pg.as)
	return ""
}

// target is pg's path and body for s: the console's query names the
// shop and a member of it.
func (s *renderSite) target(tb testing.TB, pg renderPage) (path, body string) {
	tb.Helper()
	if s.crewEmail == "" {
		u, _ := s.member(tb, ports.RoleSales)
		s.crewEmail = u.Email
	}
	path = strings.NewReplacer("SHOP", url.QueryEscape(s.shop.Slug), "EMAIL", url.QueryEscape(s.crewEmail)).Replace(pg.path)
	if pg.form != nil {
		body = pg.form(s)
	}
	return path, body
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
			path, form := s.target(b, pg)
			var size int
			b.ReportAllocs()
			for b.Loop() {
				rec := s.request(b, pg.host, pg.method, path, formType, form, cookie)
				if rec.Code != pg.status {
					b.Fatalf("%s %s: %d, want %d: %s", pg.method, path, rec.Code, pg.status, rec.Body)
				}
				size = rec.Body.Len()
			}
			last := s.request(b, pg.host, pg.method, path, formType, form, cookie)
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
	t.Logf("%-20s %6s %6s %9s %9s", "page", "html", "gzip", "+css", "+css gz")
	for _, pg := range renderPages {
		cookie := s.cookieFor(t, pg)
		path, form := s.target(t, pg)
		rec := s.request(t, pg.host, pg.method, path, formType, form, cookie)
		require.Equal(t, pg.status, rec.Code, "%s: %s", pg.name, rec.Body)
		require.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"), pg.name)
		require.Empty(t, rec.Header().Get("Content-Encoding"), "%s is served uncompressed", pg.name)
		require.Contains(t, rec.Body.String(), `href="`+web.StylesheetPath+`"`, "%s links the stylesheet", pg.name)
		n, gz := rec.Body.Len(), gzipSize(t, rec.Body.Bytes())
		t.Logf("%-20s %6d %6d %9d %9d", pg.name, n, gz, n+cssSize, gz+cssGzip)
	}
	t.Logf("%-20s %6d %6d", "stockade.css", cssSize, cssGzip)
}
