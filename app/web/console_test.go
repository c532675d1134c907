package web_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/stockadetest"
)

// consoleSite is a site with the public URL on the server's own port, so
// the hand-off form's action — the shop's host under the public URL — is
// reachable by a browser.
func consoleSite(t *testing.T) *site {
	t.Helper()
	return startSite(t, siteOptions{OwnPort: true})
}

// consoleOperator creates an operator; with a factor (as `stockade
// operator create --totp`) it returns the TOTP secret, else "".
func consoleOperator(t *testing.T, s *site, withFactor bool) (email, password, secret string) {
	t.Helper()
	email = "op-" + strings.ToLower(rand.Text()) + "@ops.example.com"
	password = rand.Text() + "-Aa1!"
	_, err := s.e.Auth.CreateOperator(t.Context(), email, "Olga Ops", password)
	require.NoError(t, err)
	if withFactor {
		en, err := s.e.Auth.EnrolOperatorTOTPByEmail(t.Context(), email)
		require.NoError(t, err)
		secret = en.Secret
	}
	return email, password, secret
}

// consoleCode is secret's current TOTP code.
func consoleCode(t *testing.T, secret string) string {
	t.Helper()
	c, err := auth.TOTPCode(secret, time.Now())
	require.NoError(t, err)
	return c
}

// consolePlatform is the platform's host with the server's port.
func (s *site) consolePlatform() string { return fmt.Sprintf("localhost:%d", s.port) }

// consoleDo sends method path to host as a same-origin browser request
// (Sec-Fetch-Site: same-origin, Accept: text/html) with cookie, and
// header on top; redirects are not followed.
func (s *site) consoleDo(t *testing.T, host, method, path string, form url.Values, cookie string, header map[string]string) *http.Response {
	t.Helper()
	h := map[string]string{"Sec-Fetch-Site": "same-origin", "Accept": "text/html"}
	for k, v := range header {
		h[k] = v
	}
	var bodyText, ct string
	if form != nil {
		bodyText, ct = form.Encode(), "application/x-www-form-urlencoded"
	}
	req, err := http.NewRequestWithContext(t.Context(), method, fmt.Sprintf("http://127.0.0.1:%d%s", s.port, path), strings.NewReader(bodyText))
	require.NoError(t, err)
	req.Host = host
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// consoleSignIn signs an operator with a factor in through the console's
// form and returns the operator cookie as a Cookie header value. The
// first sign-in of an operator enrolled by the CLI confirms the factor
// and shows the recovery codes; a later one lands on the console.
func (s *site) consoleSignIn(t *testing.T, email, password, secret string) string {
	t.Helper()
	res := s.consoleDo(t, s.consolePlatform(), http.MethodPost, web.ConsoleSignInPath,
		url.Values{"email": {email}, "password": {password}, "code": {consoleCode(t, secret)}}, "", nil)
	b := body(t, res)
	if res.StatusCode == http.StatusOK {
		require.Contains(t, b, `<ul class="st-recovery-codes">`)
	} else {
		require.Equal(t, http.StatusSeeOther, res.StatusCode, b)
		require.Equal(t, web.ConsolePath, res.Header.Get("Location"))
	}
	return cookieOf(t, res, auth.OperatorCookieName)
}

// TestConsoleNeedsOperatorSession: every console page and post without an
// operator session — none, a forged one, a member's session cookie —
// redirects to the console's sign-in page and runs nothing.
func TestConsoleNeedsOperatorSession(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.member(t, "Mia Member")
	member := s.apiSignIn(t, email, password)
	platform := s.consolePlatform()
	for name, cookie := range map[string]string{
		"none":               "",
		"forged":             auth.OperatorCookieName + "=v1.k.AAAA.BBBB.CCCC",
		"member":             member,
		"member as operator": auth.OperatorCookieName + "=" + strings.TrimPrefix(member, auth.SessionCookieName+"="),
	} {
		for _, rq := range []struct {
			method, path string
			form         url.Values
		}{
			{http.MethodGet, web.ConsolePath, nil},
			{http.MethodGet, web.ConsolePath + "?shop=" + s.shop.Slug + "&email=" + url.QueryEscape(email), nil},
			{http.MethodGet, web.ConsolePath + "?shop=" + s.shop.Slug + "&members=1", nil},
			{http.MethodGet, web.ConsoleTOTPPath, nil},
			{http.MethodPost, web.ConsoleTOTPPath, url.Values{}},
			{http.MethodPost, web.ConsoleImpersonatePath, url.Values{"shop": {s.shop.Slug}, "user": {email}, "reason": {"attack"}}},
		} {
			res := s.consoleDo(t, platform, rq.method, rq.path, rq.form, cookie, nil)
			b := body(t, res)
			require.Equal(t, http.StatusSeeOther, res.StatusCode, "%s %s with %s cookie: %s", rq.method, rq.path, name, b)
			require.Equal(t, web.ConsoleSignInPath, res.Header.Get("Location"), "%s %s with %s cookie", rq.method, rq.path, name)
			require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
			require.NotContains(t, b, "Olga")
		}
	}

	res := s.consoleDo(t, platform, http.MethodGet, web.ConsoleSignInPath, nil, "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, web.CSP, res.Header.Get("Content-Security-Policy"))
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	require.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"))
	require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	b := body(t, res)
	for _, id := range []string{"op-email", "op-password", "op-code"} {
		require.Contains(t, b, `<label for="`+id+`">`)
	}
}

// TestConsoleNotOnShopHost: the console's pages and posts are not served
// on a shop's host (404), with or without an operator cookie.
func TestConsoleNotOnShopHost(t *testing.T) {
	s := newSite(t, web.Options{})
	op, password, secret := consoleOperator(t, s, true)
	cookie := s.consoleSignIn(t, op, password, secret)
	for _, rq := range []struct {
		method, path string
		form         url.Values
	}{
		{http.MethodGet, web.ConsoleSignInPath, nil},
		{http.MethodPost, web.ConsoleSignInPath, url.Values{"email": {op}, "password": {password}}},
		{http.MethodGet, web.ConsolePath, nil},
		{http.MethodGet, web.ConsoleTOTPPath, nil},
		{http.MethodPost, web.ConsoleImpersonatePath, url.Values{"shop": {s.shop.Slug}, "user": {"x@example.com"}, "reason": {"x"}}},
		{http.MethodPost, web.ConsoleSignOutPath, url.Values{}},
	} {
		res := s.consoleDo(t, s.host(), rq.method, rq.path, rq.form, cookie, nil)
		b := body(t, res)
		require.Equal(t, http.StatusNotFound, res.StatusCode, "%s %s: %s", rq.method, rq.path, b)
		require.Contains(t, res.Header.Get("Content-Type"), "text/html")
		require.NotContains(t, b, "Operator")
		for _, c := range res.Cookies() {
			require.NotEqual(t, auth.OperatorCookieName, c.Name, "no operator cookie is set or cleared on a shop's host")
		}
	}
	res := s.consoleDo(t, s.consolePlatform(), http.MethodGet, web.ConsolePath, nil, cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "the operator session still works on the platform's host")
}

// TestConsoleSignInRefusals: a wrong password, a wrong authenticator
// code and a missing code (the operator has a factor) are refused with
// the form shown again, its message tied to the fields, and no cookie.
func TestConsoleSignInRefusals(t *testing.T) {
	s := newSite(t, web.Options{})
	op, password, secret := consoleOperator(t, s, true)
	// Confirm the factor with a first sign-in, so the later ones must give a code.
	s.consoleSignIn(t, op, password, secret)
	good := consoleCode(t, secret)
	wrong := fmt.Sprintf("%06d", (atoi(t, good)+1)%1000000)
	for name, f := range map[string]url.Values{
		"wrong code":     {"email": {op}, "password": {password}, "code": {wrong}},
		"no code":        {"email": {op}, "password": {password}},
		"wrong password": {"email": {op}, "password": {"not-" + password}, "code": {good}},
	} {
		res := s.consoleDo(t, s.consolePlatform(), http.MethodPost, web.ConsoleSignInPath, f, "", nil)
		b := body(t, res)
		require.Equal(t, http.StatusUnauthorized, res.StatusCode, "%s: %s", name, b)
		require.Contains(t, b, `<p class="st-error" id="op-error" role="alert">`, name)
		require.Contains(t, b, `id="op-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" aria-invalid="true" aria-describedby="op-error"`, name)
		require.Contains(t, b, `value="`+html.EscapeString(op)+`"`, "%s: the e-mail address is kept", name)
		for _, c := range res.Cookies() {
			require.NotEqual(t, auth.OperatorCookieName, c.Name, "%s: no operator cookie", name)
		}
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	_, err := fmt.Sscanf(s, "%d", &n)
	require.NoError(t, err)
	return n
}

// TestConsoleImpersonate: an operator signs in with the code (the cookie
// is the API's: __Host-, Secure, HttpOnly, SameSite=Strict), finds the
// shop and the member, is refused without a reason (tied to the field)
// and for a user who is not a member, then starts the impersonation: the
// hand-off page's form posts the one-time code to the shop's enter URL
// (and the page's CSP lets it), and that code gives an impersonation
// session whose pages show the banner. Signing out ends the operator
// session.
func TestConsoleImpersonate(t *testing.T) {
	s := newSite(t, web.Options{})
	email, _ := s.member(t, "Ida Impersonated")
	outsider := "out-" + strings.ToLower(rand.Text()) + "@example.com"
	_, err := s.e.Auth.CreateUser(t.Context(), outsider, "Otto Outsider", rand.Text()+"-Aa1!")
	require.NoError(t, err)
	op, password, secret := consoleOperator(t, s, true)
	platform := s.consolePlatform()

	res := s.consoleDo(t, platform, http.MethodPost, web.ConsoleSignInPath,
		url.Values{"email": {op}, "password": {password}, "code": {consoleCode(t, secret)}}, "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "the first sign-in confirms the CLI's factor: recovery codes")
	b := body(t, res)
	require.Contains(t, b, `<ul class="st-recovery-codes">`)
	require.Contains(t, b, `href="/console"`)
	var cookie string
	for _, c := range res.Cookies() {
		if c.Name == auth.OperatorCookieName {
			require.True(t, c.Secure && c.HttpOnly, "Secure and HttpOnly")
			require.Equal(t, http.SameSiteStrictMode, c.SameSite)
			require.Equal(t, "/", c.Path)
			require.Empty(t, c.Domain, "host-only")
			cookie = c.Name + "=" + c.Value
		}
	}
	require.NotEmpty(t, cookie)

	res = s.consoleDo(t, platform, http.MethodGet, web.ConsolePath, nil, cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	require.Contains(t, body(t, res), op)

	res = s.consoleDo(t, platform, http.MethodGet, web.ConsolePath+"?shop=no-such-shop-x", nil, cookie, nil)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	require.Contains(t, body(t, res), `aria-invalid="true" aria-describedby="c-shop-error"`)

	res = s.consoleDo(t, platform, http.MethodGet, web.ConsolePath+"?shop="+s.shop.Slug+"&email=nobody-"+strings.ToLower(rand.Text())+"%40example.com", nil, cookie, nil)
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	b = body(t, res)
	require.Contains(t, b, `aria-invalid="true" aria-describedby="c-email-error"`)
	require.NotContains(t, b, `action="/console/impersonate"`)

	res = s.consoleDo(t, platform, http.MethodGet, web.ConsolePath+"?shop="+s.shop.Slug+"&email="+url.QueryEscape(email), nil, cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	b = body(t, res)
	require.Contains(t, b, "Act as Ida Impersonated")
	require.Contains(t, b, `<label for="c-reason">`)
	require.Contains(t, b, `action="/console/impersonate"`)

	start := url.Values{"shop": {s.shop.Slug}, "user": {email}, "reason": {"   "}}
	res = s.consoleDo(t, platform, http.MethodPost, web.ConsoleImpersonatePath, start, cookie, nil)
	b = body(t, res)
	require.Equal(t, http.StatusBadRequest, res.StatusCode, b)
	require.Regexp(t, `<textarea id="c-reason" name="reason" rows="3" required maxlength="500" aria-invalid="true" aria-describedby="c-reason-error">`, b)
	require.Regexp(t, `<p class="st-field-error" id="c-reason-error" role="alert">[^<]*required`, b)
	require.NotContains(t, b, "/auth/impersonation/enter")

	res = s.consoleDo(t, platform, http.MethodPost, web.ConsoleImpersonatePath,
		url.Values{"shop": {s.shop.Slug}, "user": {outsider}, "reason": {"Ticket 7"}}, cookie, nil)
	b = body(t, res)
	require.Equal(t, http.StatusNotFound, res.StatusCode, b)
	require.Contains(t, b, `aria-describedby="c-email-error"`)
	require.NotContains(t, b, "/auth/impersonation/enter")

	start.Set("reason", "Ticket #22: the member cannot see their invoices")
	res = s.consoleDo(t, platform, http.MethodPost, web.ConsoleImpersonatePath, start, cookie, nil)
	b = body(t, res)
	require.Equal(t, http.StatusCreated, res.StatusCode, b)
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	enter := "http://" + s.shop.Slug + ".localhost:8080/auth/impersonation/enter"
	require.Equal(t, strings.Replace(web.CSP, "form-action 'self'", "form-action 'self' http://"+s.shop.Slug+".localhost:8080", 1),
		res.Header.Get("Content-Security-Policy"), "the hand-off form may post to the shop's host only")
	require.Contains(t, b, `<form method="post" action="`+enter+`"`)
	require.NotContains(t, b, "<script")
	code := regexp.MustCompile(`<input type="hidden" name="code" value="([^"]+)">`).FindStringSubmatch(b)
	require.Len(t, code, 2, b)
	require.Contains(t, b, ">Continue to ")

	res = s.do(t, http.MethodPost, "/auth/impersonation/enter", "application/x-www-form-urlencoded", "code="+url.QueryEscape(code[1]), "",
		map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://" + platform})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body(t, res))
	session := cookieOf(t, res, auth.SessionCookieName)
	res = s.do(t, http.MethodGet, web.SecurityPath, "", "", session, map[string]string{"Accept": "text/html"})
	require.Equal(t, http.StatusOK, res.StatusCode)
	b = body(t, res)
	require.Contains(t, b, `<strong class="st-imp-operator">`+op+`</strong>`)
	require.Contains(t, b, "Ida Impersonated")

	res = s.consoleDo(t, platform, http.MethodPost, web.ConsoleSignOutPath, url.Values{}, cookie, nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, web.ConsoleSignInPath, res.Header.Get("Location"))
	res = s.consoleDo(t, platform, http.MethodGet, web.ConsolePath, nil, cookie, nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "the operator session has ended")
	require.Equal(t, web.ConsoleSignInPath, res.Header.Get("Location"))
}

// TestConsoleCrossOriginPostsRefused: a cross-site post to the console's
// sign-in, impersonation and sign-out is refused with 403 before it runs.
func TestConsoleCrossOriginPostsRefused(t *testing.T) {
	s := newSite(t, web.Options{})
	email, _ := s.member(t, "Csrf Member")
	op, password, secret := consoleOperator(t, s, true)
	cookie := s.consoleSignIn(t, op, password, secret)
	cross := map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}
	platform := s.consolePlatform()

	res := s.consoleDo(t, platform, http.MethodPost, web.ConsoleImpersonatePath,
		url.Values{"shop": {s.shop.Slug}, "user": {email}, "reason": {"forged"}}, cookie, cross)
	b := body(t, res)
	require.Equal(t, http.StatusForbidden, res.StatusCode, b)
	require.Contains(t, b, "cross-origin request refused")
	require.NotContains(t, b, "/auth/impersonation/enter")

	res = s.consoleDo(t, platform, http.MethodPost, web.ConsoleSignOutPath, url.Values{}, cookie, cross)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	res = s.consoleDo(t, platform, http.MethodGet, web.ConsolePath, nil, cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "the operator session was not signed out")

	res = s.consoleDo(t, platform, http.MethodPost, web.ConsoleSignInPath, url.Values{"email": {op}, "password": {password}}, "", cross)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	for _, c := range res.Cookies() {
		require.NotEqual(t, auth.OperatorCookieName, c.Name)
	}
}

// TestConsoleEnrolment: an operator without a factor signs in with no
// code and is led to the enrolment page; the console itself refuses the
// AAL1 session (redirect to the enrolment); a wrong code is refused, tied
// to the field; the right one shows the recovery codes once and opens the
// console.
func TestConsoleEnrolment(t *testing.T) {
	s := newSite(t, web.Options{})
	op, password, _ := consoleOperator(t, s, false)
	platform := s.consolePlatform()

	res := s.consoleDo(t, platform, http.MethodPost, web.ConsoleSignInPath, url.Values{"email": {op}, "password": {password}}, "", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body(t, res))
	require.Equal(t, web.ConsoleTOTPPath, res.Header.Get("Location"))
	cookie := cookieOf(t, res, auth.OperatorCookieName)

	for _, rq := range []struct {
		method, path string
		form         url.Values
	}{
		{http.MethodGet, web.ConsolePath, nil},
		{http.MethodPost, web.ConsoleImpersonatePath, url.Values{"shop": {s.shop.Slug}, "user": {"x@example.com"}, "reason": {"x"}}},
	} {
		res = s.consoleDo(t, platform, rq.method, rq.path, rq.form, cookie, nil)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, "%s %s", rq.method, rq.path)
		require.Equal(t, web.ConsoleTOTPPath, res.Header.Get("Location"))
	}

	res = s.consoleDo(t, platform, http.MethodGet, web.ConsoleTOTPPath, nil, cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body(t, res), `<form method="post" action="/console/totp">`)

	res = s.consoleDo(t, platform, http.MethodPost, web.ConsoleTOTPPath, url.Values{}, cookie, nil)
	b := body(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, b)
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	require.Contains(t, b, `src="data:image/png;base64,`)
	secret := regexp.MustCompile(`<code class="st-secret" id="op-totp-secret">([^<]+)</code>`).FindStringSubmatch(b)
	require.Len(t, secret, 2)

	good := consoleCode(t, secret[1])
	res = s.consoleDo(t, platform, http.MethodPost, web.ConsoleTOTPPath+"/confirm",
		url.Values{"code": {fmt.Sprintf("%06d", (atoi(t, good)+1)%1000000)}}, cookie, nil)
	b = body(t, res)
	require.GreaterOrEqual(t, res.StatusCode, 400, b)
	require.Contains(t, b, `aria-invalid="true" aria-describedby="op-totp-code-error"`)
	require.NotContains(t, b, "st-recovery-codes")

	res = s.consoleDo(t, platform, http.MethodPost, web.ConsoleTOTPPath+"/confirm", url.Values{"code": {good}}, cookie, nil)
	b = body(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, b)
	require.Equal(t, 10, strings.Count(b, "<li><code>"), "the recovery codes, shown once")
	res = s.consoleDo(t, platform, http.MethodGet, web.ConsolePath, nil, cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "the session is AAL2 now")
}

// TestBrowserConsoleImpersonation: in Chromium an operator signs in to
// the console on the platform's host, finds the shop and the member,
// starts an impersonation with a reason and continues to the shop's host
// with the hand-off form (no script), at 320 px wide without sideways
// scrolling and with every input labelled; account security shows the banner;
// Exit ends the impersonation (the session then gets 401) and the
// console still works.
func TestBrowserConsoleImpersonation(t *testing.T) {
	s := consoleSite(t)
	email, _ := s.member(t, "Browser Impersonated")
	op, password, secret := consoleOperator(t, s, true)
	platform := "http://" + s.consolePlatform()

	ctx := browser(t)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.EmulateViewport(320, 640),
		chromedp.Navigate(platform+web.ConsolePath),
		chromedp.WaitVisible(chromedp.CSS("#op-email")),
		chromedp.SendKeys(chromedp.CSS("#op-email"), op),
		chromedp.SendKeys(chromedp.CSS("#op-password"), password),
		chromedp.SendKeys(chromedp.CSS("#op-code"), consoleCode(t, secret)),
		chromedp.Click(chromedp.CSS(`form[action="/console/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-recovery-codes")),
		chromedp.Click(chromedp.CSS(`a[href="/console"]`)),
		chromedp.WaitVisible(chromedp.CSS("#c-shop")),
		chromedp.SendKeys(chromedp.CSS("#c-shop"), s.shop.Slug),
		chromedp.Click(chromedp.CSS(`form[method=get] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#c-email")),
		chromedp.SendKeys(chromedp.CSS("#c-email"), email),
		chromedp.Click(chromedp.CSS(`.st-console-shop form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#c-reason")),
	))
	const unlabelled = `[...document.querySelectorAll("input:not([type=hidden]), textarea")].filter(i => !i.labels || i.labels.length === 0).length`
	require.LessOrEqual(t, eval[int](t, ctx, `document.documentElement.scrollWidth`), 320, "the console fits 320 px")
	require.Zero(t, eval[int](t, ctx, unlabelled))
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#c-reason"), "Ticket #22: checking the banner"),
		chromedp.Click(chromedp.CSS(`form[action="/console/impersonate"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-handoff")),
	))
	require.Contains(t, text(t, ctx, ".st-handoff button"), "Continue to ")
	require.LessOrEqual(t, eval[int](t, ctx, `document.documentElement.scrollWidth`), 320, "the hand-off page fits 320 px")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(".st-handoff button")),
		chromedp.WaitVisible(chromedp.CSS(".st-impersonation")), // the hand-off lands on account security (app.Landing.AfterSignIn)
	))
	if loc, err := chromedp.Run(ctx, chromedp.Location()); assert.NoError(t, err) {
		assert.Equal(t, s.url(web.SecurityPath), loc, "the hand-off lands on Stockade's account security page")
	}
	require.Equal(t, op, text(t, ctx, ".st-imp-operator"))
	require.Contains(t, text(t, ctx, ".st-imp-member"), email)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`.st-impersonation form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#pw-email")),
		chromedp.Navigate(s.url(web.SecurityPath)),
		chromedp.WaitVisible(chromedp.CSS("#pw-email")),
	))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, s.url(web.SignInPath), loc, "the impersonation session no longer works")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(platform+web.ConsolePath),
		chromedp.WaitVisible(chromedp.CSS("#c-shop")),
	), "the console session lives on")
}

// consoleAudit returns the events of shop's log with action.
func (s *site) consoleAudit(t *testing.T, shop ports.ShopID, action string) []ports.AuditEvent {
	t.Helper()
	var out []ports.AuditEvent
	require.NoError(t, s.e.Store.InShop(t.Context(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		events, err := tx.Audit().List(ctx, ports.AuditQuery{Limit: 1000})
		for _, e := range events {
			if e.Action == action {
				out = append(out, e)
			}
		}
		return err
	}, ports.ReadOnly()))
	return out
}

// TestConsoleMembersList: an operator lists a shop's members — that
// shop's only, never another's — and the listing is audited first in the
// shop's log with the operator as actor; each row's "Impersonate…" opens
// the existing impersonation form with that member filled in. Finding
// the shop alone reads no member and writes nothing to its log.
func TestConsoleMembersList(t *testing.T) {
	s := newSite(t, web.Options{})
	ida, _ := s.member(t, "Ida Impersonated")
	mark, _ := s.member(t, "Mark Member")
	other := stockadetest.NewShop(t, s.e.Store)
	otto := "otto-" + strings.ToLower(rand.Text()) + "@example.com"
	u, err := s.e.Auth.CreateUser(t.Context(), otto, "Otto Otherwhere", rand.Text()+"-Aa1!")
	require.NoError(t, err)
	require.NoError(t, s.e.Store.InShop(t.Context(), other.ID, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Memberships().Add(ctx, u.ID, ports.RoleAdmin)
		return err
	}))
	op, password, secret := consoleOperator(t, s, true)
	cookie := s.consoleSignIn(t, op, password, secret)
	platform := s.consolePlatform()

	res := s.consoleDo(t, platform, http.MethodGet, web.ConsolePath+"?shop="+s.shop.Slug, nil, cookie, nil)
	b := body(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, b)
	require.Contains(t, b, ">List members</button>")
	require.NotContains(t, b, ida)
	require.Empty(t, s.consoleAudit(t, s.shop.ID, auth.ActionOperatorMembersRead), "finding the shop reads no member")

	res = s.consoleDo(t, platform, http.MethodGet, web.ConsolePath+"?shop="+s.shop.Slug+"&members=1", nil, cookie, nil)
	b = body(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, b)
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	require.Contains(t, b, `<table class="st-table st-console-member-list">`)
	require.Contains(t, b, `<caption class="st-visually-hidden">Members of `)
	require.Contains(t, b, `<th scope="row">Ida Impersonated</th>`)
	require.Contains(t, b, `<th scope="row">Mark Member</th>`)
	require.Contains(t, b, "<td>"+ida+"</td>")
	require.Contains(t, b, "<td>"+mark+"</td>")
	require.Contains(t, b, "<td>viewer</td>")
	require.NotContains(t, b, otto, "another shop's member never appears")
	require.NotContains(t, b, "Otto Otherwhere")
	require.NotContains(t, b, "more not shown")
	require.NotContains(t, b, "<script")
	require.NotContains(t, b, "style=")

	events := s.consoleAudit(t, s.shop.ID, auth.ActionOperatorMembersRead)
	require.Len(t, events, 2, "attempted, then the outcome")
	require.Equal(t, ports.OutcomeAttempted, events[0].Outcome)
	require.Equal(t, ports.OutcomeSuccess, events[1].Outcome)
	for _, e := range events {
		require.True(t, strings.HasPrefix(e.Actor, "operator:"), e.Actor)
		require.Equal(t, "shop:"+s.shop.ID.String(), e.Target)
	}
	require.Empty(t, s.consoleAudit(t, other.ID, auth.ActionOperatorMembersRead), "the other shop's log is untouched")

	link := regexp.MustCompile(`<a href="([^"]+)">Impersonate…<span class="st-visually-hidden"> Ida Impersonated</span></a>`).FindStringSubmatch(b)
	require.Len(t, link, 2, b)
	res = s.consoleDo(t, platform, http.MethodGet, html.UnescapeString(link[1]), nil, cookie, nil)
	b = body(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, b)
	require.Contains(t, b, "Act as Ida Impersonated")
	require.Contains(t, b, `<form method="post" action="/console/impersonate" class="st-form">`)
	require.Contains(t, b, `<input type="hidden" name="user" value="`+ida+`">`)
	require.Contains(t, b, `<input type="hidden" name="shop" value="`+s.shop.Slug+`">`)
	require.Contains(t, b, `<label for="c-reason">`)
	require.Len(t, s.consoleAudit(t, s.shop.ID, auth.ActionOperatorMembersRead), 2, "the form alone lists no one")

	// The cap: the first members by joining, and the total.
	value := strings.TrimPrefix(cookie, auth.OperatorCookieName+"=")
	ms, err := s.e.Auth.ShopMembersForOperator(t.Context(), value, s.shop.Slug, 1, auth.Client{})
	require.NoError(t, err)
	require.Equal(t, 3, ms.Total, "the Owner, Ida and Mark")
	require.Len(t, ms.Members, 1)

	res = s.consoleDo(t, platform, http.MethodGet, web.ConsolePath+"?shop=no-such-shop-x&members=1", nil, cookie, nil)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	require.NotContains(t, body(t, res), "<table")

	// The use case's own guard: an operator session, with its second factor.
	_, err = s.e.Auth.ShopMembersForOperator(t.Context(), "", s.shop.Slug, 10, auth.Client{})
	require.ErrorIs(t, err, ports.ErrUnauthenticated)
	noFactor, noFactorPassword, _ := consoleOperator(t, s, false)
	res = s.consoleDo(t, platform, http.MethodPost, web.ConsoleSignInPath,
		url.Values{"email": {noFactor}, "password": {noFactorPassword}}, "", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body(t, res))
	aal1 := cookieOf(t, res, auth.OperatorCookieName)
	res = s.consoleDo(t, platform, http.MethodGet, web.ConsolePath+"?shop="+s.shop.Slug+"&members=1", nil, aal1, nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, web.ConsoleTOTPPath, res.Header.Get("Location"))
	_, err = s.e.Auth.ShopMembersForOperator(t.Context(), strings.TrimPrefix(aal1, auth.OperatorCookieName+"="), s.shop.Slug, 10, auth.Client{})
	require.ErrorIs(t, err, ports.ErrForbidden)
	require.Len(t, s.consoleAudit(t, s.shop.ID, auth.ActionOperatorMembersRead), 4, "the refusals wrote nothing; the capped read above did")
}

// TestTOTPEnrolPartialOverlay: the QR enrolment both the member's and the
// operator's pages show is one partial, templates/totp-enrol.html; an
// overlay that replaces it changes both pages, each with its own ids and
// confirm action, and an overlay that replaces a page whole need not use
// it.
func TestTOTPEnrolPartialOverlay(t *testing.T) {
	overlay := fstest.MapFS{
		"templates/totp-enrol.html": {Data: []byte(`{{define "totp-enrol"}}<p class="brand-enrol" data-id="{{.ID}}" data-action="{{.Action}}">{{if .Secret}}with a secret{{end}}</p>{{end}}`)},
	}
	s := newSite(t, web.Options{Overlay: overlay})
	email, password := s.member(t, "Tess Totp")
	cookie := s.apiSignIn(t, email, password)
	res := s.do(t, http.MethodPost, web.TOTPPath, formType, "", cookie, nil)
	b := body(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, b)
	require.Contains(t, b, `<p class="brand-enrol" data-id="totp" data-action="/account/security/totp/confirm">with a secret</p>`)
	require.NotContains(t, b, `id="totp-secret"`)

	op, password, _ := consoleOperator(t, s, false)
	platform := s.consolePlatform()
	res = s.consoleDo(t, platform, http.MethodPost, web.ConsoleSignInPath, url.Values{"email": {op}, "password": {password}}, "", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body(t, res))
	opCookie := cookieOf(t, res, auth.OperatorCookieName)
	res = s.consoleDo(t, platform, http.MethodPost, web.ConsoleTOTPPath, url.Values{}, opCookie, nil)
	b = body(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, b)
	require.Contains(t, b, `<p class="brand-enrol" data-id="op-totp" data-action="/console/totp/confirm">with a secret</p>`)

	page := fstest.MapFS{
		"templates/totp.html": {Data: []byte(`{{define "title"}}Set up{{end}}{{define "content"}}<h1>Our own enrolment page</h1>{{end}}`)},
	}
	_, err := web.New(web.Deps{Auth: s.e.Auth, Shops: mustShops(t, s)}, web.Options{Overlay: page})
	require.NoError(t, err, "a page replaced whole need not execute the partial")
}
