package web_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// startImpersonation creates an operator with a TOTP factor (as
// `stockade operator create --totp`), signs them in at AAL2 on the
// platform's host and starts an impersonation of the member with e-mail
// address member (POST /operator/impersonations). It returns the
// operator's e-mail address and the one-time hand-off code.
func (s *site) startImpersonation(t *testing.T, member string) (operator, code string) {
	t.Helper()
	operator = "op-" + strings.ToLower(rand.Text()) + "@ops.example.com"
	password := rand.Text() + "-Aa1!"
	_, err := s.e.Auth.CreateOperator(t.Context(), operator, "Olga Ops", password)
	require.NoError(t, err)
	en, err := s.e.Auth.EnrolOperatorTOTPByEmail(t.Context(), operator)
	require.NoError(t, err)
	totp, err := auth.TOTPCode(en.Secret, time.Now())
	require.NoError(t, err)

	platform := fmt.Sprintf("localhost:%d", s.port)
	b, _ := json.Marshal(map[string]string{"email": operator, "password": password, "code": totp})
	res := s.doAt(t, platform, http.MethodPost, "/operator/signin", "application/json", string(b), "")
	require.Equal(t, http.StatusOK, res.StatusCode, body(t, res))
	opCookie := cookieOf(t, res, auth.OperatorCookieName)

	b, _ = json.Marshal(map[string]string{"shop": s.shop.Slug, "user": member, "reason": "Ticket #22: the banner"})
	res = s.doAt(t, platform, http.MethodPost, "/operator/impersonations", "application/json", string(b), opCookie)
	raw := body(t, res)
	require.Equal(t, http.StatusCreated, res.StatusCode, raw)
	var started struct {
		Code string `json:"code"`
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &started))
	require.NotEmpty(t, started.Code)
	return operator, started.Code
}

// impersonate is startImpersonation, then the hand-off on the shop's
// host (POST /auth/impersonation/enter); it returns the operator's e-mail
// address and the impersonation session's Cookie header value.
func (s *site) impersonate(t *testing.T, member string) (operator, cookie string) {
	t.Helper()
	operator, code := s.startImpersonation(t, member)
	b, _ := json.Marshal(map[string]string{"code": code})
	res := s.do(t, http.MethodPost, "/auth/impersonation/enter", "application/json", string(b), "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, body(t, res))
	return operator, cookieOf(t, res, auth.SessionCookieName)
}

// doAt is do on another host (e.g. the platform's).
func (s *site) doAt(t *testing.T, host, method, path, contentType, body, cookie string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, fmt.Sprintf("http://127.0.0.1:%d%s", s.port, path), strings.NewReader(body))
	require.NoError(t, err)
	req.Host = host
	req.Header.Set("Content-Type", contentType)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// cookieOf returns the cookie name that res sets, as a Cookie header value.
func cookieOf(t *testing.T, res *http.Response, name string) string {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == name && c.Value != "" {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatalf("no %s cookie set", name)
	return ""
}

// TestImpersonationBannerOnPages: an impersonation session's account
// security page carries the banner (operator, member, shop, time left,
// Exit), with no inline style; a member's own session's page does not.
func TestImpersonationBannerOnPages(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.member(t, "Ada Member")
	html := map[string]string{"Accept": "text/html"}

	own := s.apiSignIn(t, email, password)
	res := s.do(t, http.MethodGet, web.SecurityPath, "", "", own, html)
	require.Equal(t, http.StatusOK, res.StatusCode)
	b := body(t, res)
	require.Contains(t, b, "Ada Member", "the page itself is served")
	require.NotContains(t, b, "st-impersonation")
	require.NotContains(t, b, web.ImpersonationExitPath)

	operator, cookie := s.impersonate(t, email)
	res = s.do(t, http.MethodGet, web.SecurityPath, "", "", cookie, html)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.NotEmpty(t, res.Header.Get("Stockade-Impersonation"))
	require.Equal(t, web.CSP, res.Header.Get("Content-Security-Policy"))
	b = body(t, res)
	require.Contains(t, b, `<div class="st-impersonation" role="alert"`)
	require.Contains(t, b, `<strong class="st-imp-operator">`+operator+`</strong>`)
	require.Contains(t, b, `<strong class="st-imp-member">Ada Member (`+email+`)</strong>`)
	shop := regexp.MustCompile(`<p class="st-brand">([^<]+)</p>`).FindStringSubmatch(b)
	require.Len(t, shop, 2, "the page names the shop")
	require.Contains(t, b, `<strong class="st-imp-shop">`+shop[1]+`</strong>`)
	require.Regexp(t, `<span class="st-imp-left">\d+ (minutes|h)[^<]* left</span>`, b)
	require.Contains(t, b, `<form method="post" action="`+web.ImpersonationExitPath+`"`)
	require.Contains(t, b, `>Exit</button>`)
	require.Less(t, strings.Index(b, "st-impersonation"), strings.Index(b, `<main`), "the banner is at the top")
	require.NotContains(t, b, "style=")
	require.NotContains(t, b, "<script")
	// The core refuses an operator's change of the member's credentials;
	// the page offers none.
	for _, action := range []string{"/account/security/password", "/account/security/totp", "/account/security/recovery-codes", "/account/security/passkeys/"} {
		require.NotContains(t, b, `action="`+action, "no form to change the member's credentials")
	}
	require.Contains(t, b, "cannot be changed")
}

// TestImpersonationExitFromPage: Exit on the banner ends the
// impersonation: the page form lands on /signin and the session's cookie
// then gets 401 from the API.
func TestImpersonationExitFromPage(t *testing.T) {
	s := newSite(t, web.Options{})
	email, _ := s.member(t, "Exit Member")
	_, cookie := s.impersonate(t, email)
	require.Equal(t, http.StatusOK, s.do(t, http.MethodGet, "/auth/me", "", "", cookie, nil).StatusCode)

	res := s.do(t, http.MethodPost, web.ImpersonationExitPath, "application/x-www-form-urlencoded", "", cookie,
		map[string]string{"Sec-Fetch-Site": "same-origin", "Accept": "text/html"})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body(t, res))
	require.Equal(t, web.SignInPath, res.Header.Get("Location"))
	cleared := false
	for _, c := range res.Cookies() {
		cleared = cleared || (c.Name == auth.SessionCookieName && c.MaxAge < 0)
	}
	require.True(t, cleared, "the session cookie is cleared")
	require.Equal(t, http.StatusUnauthorized, s.do(t, http.MethodGet, "/auth/me", "", "", cookie, nil).StatusCode,
		"the impersonation session no longer works")
}

// TestBrowserImpersonationExit: the operator's browser enters the
// impersonation through a hand-off form (as the operator console's page
// does), account security shows the banner at the top; clicking Exit
// lands on /signin and the session no longer works.
func TestBrowserImpersonationExit(t *testing.T) {
	s := newSite(t, web.Options{})
	email, _ := s.member(t, "Browser Member")
	operator, code := s.startImpersonation(t, email)
	console := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>console</title><form method="post" action="%s">`+
			`<input type="hidden" name="code" value="%s"><button id="go" type="submit">Continue</button></form>`,
			s.url("/auth/impersonation/enter"), code)
	}))
	t.Cleanup(console.Close)

	ctx := browser(t)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(console.URL),
		chromedp.Click(chromedp.CSS("#go")),
		chromedp.WaitVisible(chromedp.CSS(".st-impersonation")), // the hand-off lands on account security (app.Landing.AfterSignIn)
	))
	if loc, err := chromedp.Run(ctx, chromedp.Location()); assert.NoError(t, err) {
		assert.Equal(t, s.url(web.SecurityPath), loc, "the hand-off lands on Stockade's account security page")
	}
	require.Equal(t, operator, text(t, ctx, ".st-imp-operator"))
	require.Equal(t, "sticky", eval[string](t, ctx, `getComputedStyle(document.querySelector(".st-impersonation")).position`))
	require.Equal(t, 0, eval[int](t, ctx, `Math.round(document.querySelector(".st-impersonation").getBoundingClientRect().top)`))

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`.st-impersonation form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#pw-email")),
	))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, s.url(web.SignInPath), loc)
	require.Zero(t, eval[int](t, ctx, `document.querySelectorAll(".st-impersonation").length`))
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(s.url(web.SecurityPath)),
		chromedp.WaitVisible(chromedp.CSS("#pw-email")),
	))
	loc, err = chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, s.url(web.SignInPath), loc, "the browser's session no longer works")
}

// TestImpersonationMiddlewareForAppPages: an embedding app's own page,
// behind httpapi.RequireSession and web.Impersonation, renders the same
// banner with web.Banner for an impersonation session, and nothing for
// the member's own session.
func TestImpersonationMiddlewareForAppPages(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.member(t, "App Member")
	shops := mustShops(t, s)
	banner, err := web.Impersonation(s.e.Auth, web.Options{})
	require.NoError(t, err)
	page := template.Must(template.New("app").Parse(`<body>{{.Banner}}<main>{{.Who}}</main></body>`))
	app := httpapi.OnShopHost(shops)(httpapi.RequireSession(s.e.Auth, false)(banner(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := web.ImpersonationFrom(r.Context())
		who := "member"
		if ok {
			who = "impersonated by " + v.OperatorEmail
		}
		require.NoError(t, page.Execute(w, map[string]any{"Banner": web.Banner(r), "Who": who}))
	}))))
	get := func(cookie string) string {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/app/orders", nil)
		req.Host = s.host()
		req.Header.Set("Cookie", cookie)
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		return rec.Body.String()
	}

	b := get(s.apiSignIn(t, email, password))
	require.Equal(t, "<body><main>member</main></body>", b)

	operator, cookie := s.impersonate(t, email)
	b = get(cookie)
	require.Contains(t, b, `<body><div class="st-impersonation" role="alert"`)
	require.Contains(t, b, `<strong class="st-imp-operator">`+operator+`</strong>`)
	require.Contains(t, b, `<strong class="st-imp-member">App Member (`+email+`)</strong>`)
	require.Contains(t, b, `action="`+web.ImpersonationExitPath+`"`)
	require.Contains(t, b, "<main>impersonated by "+operator+"</main>")
}

// TestLayoutOverlayMustShowBanner: a replaced layout that does not
// execute the "banner" template is refused, since its pages would hide
// an impersonation; one that does is accepted.
func TestLayoutOverlayMustShowBanner(t *testing.T) {
	s := newSite(t, web.Options{})
	deps := web.Deps{Auth: s.e.Auth, Shops: mustShops(t, s)}
	without := fstest.MapFS{"templates/layout.html": {Data: []byte(`<body>{{template "content" .}}</body>`)}}
	_, err := web.New(deps, web.Options{Overlay: without})
	require.ErrorContains(t, err, "impersonation banner")
	with := fstest.MapFS{"templates/layout.html": {Data: []byte(`<body>{{if .Shop.Name}}{{with .Banner}}{{template "banner" .}}{{end}}{{end}}{{template "content" .}}</body>`)}}
	_, err = web.New(deps, web.Options{Overlay: with})
	require.NoError(t, err)
}

func mustShops(t *testing.T, s *site) *httpapi.HostShops {
	t.Helper()
	shops, err := httpapi.NewHostShops(s.e.Store, "http://localhost:8080", ports.SystemClock{})
	require.NoError(t, err)
	return shops
}

// TestTimeLeftText: the banner's time left, rounded up to the minute.
func TestTimeLeftText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "ending now", -time.Second: "ending now", time.Second: "1 minute left", time.Minute: "1 minute left",
		time.Minute + time.Second: "2 minutes left", 59 * time.Minute: "59 minutes left", time.Hour: "1 h left",
		time.Hour + 5*time.Minute: "1 h 5 min left",
	} {
		require.Equal(t, want, web.TimeLeft(d), "%s", d)
	}
}
