package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

const formType = "application/x-www-form-urlencoded"

// sessionCookie returns the session cookie res sets, as a Cookie header
// value.
func sessionCookie(t *testing.T, res *http.Response) string {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == "__Host-stockade_session" && c.Value != "" {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatal("no session cookie set")
	return ""
}

// enrolTOTPThroughAPI gives the member signed in with cookie a confirmed
// TOTP factor through the JSON API and returns its secret.
func (s *site) enrolTOTPThroughAPI(t *testing.T, cookie string) string {
	t.Helper()
	res := s.do(t, http.MethodPost, "/auth/2fa/totp/enrol", "", "", cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	var en struct {
		Secret string `json:"secret"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&en))
	code, err := auth.TOTPCode(en.Secret, time.Now())
	require.NoError(t, err)
	b, _ := json.Marshal(map[string]string{"code": code})
	res = s.do(t, http.MethodPost, "/auth/2fa/totp/confirm", "application/json", string(b), cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	return en.Secret
}

// me returns the session part of GET /auth/me for cookie.
func (s *site) me(t *testing.T, cookie string) (aal int, pending string) {
	t.Helper()
	res := s.do(t, http.MethodGet, "/auth/me", "", "", cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	var m map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&m))
	sess, ok := m["session"].(map[string]any)
	if !ok {
		sess = m
	}
	a, _ := sess["aal"].(float64)
	p, _ := sess["second_factor"].(string)
	return int(a), p
}

// TestSecondFactorChallengeWrongCode: a password sign-in of a member with
// a factor lands on the challenge; a wrong code (or recovery code) shows
// the form again with the error tied to its field, and the session is not
// stepped up: account security still sends it back to the challenge.
func TestSecondFactorChallengeWrongCode(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.member(t, "Wrong Code")
	s.enrolTOTPThroughAPI(t, s.apiSignIn(t, email, password))

	res := s.do(t, http.MethodPost, web.SignInPath, formType, url.Values{"email": {email}, "password": {password}}.Encode(), "", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, web.SecondFactorPath, res.Header.Get("Location"))
	cookie := sessionCookie(t, res)

	res = s.do(t, http.MethodGet, web.SecondFactorPath, "", "", cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body(t, res), `<label for="sf-code">`)

	res = s.do(t, http.MethodPost, web.SecondFactorPath, formType, url.Values{"code": {"000000"}}.Encode(), cookie, nil)
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	b := body(t, res)
	require.Contains(t, b, `aria-invalid="true" aria-describedby="sf-code-error"`)
	require.Contains(t, b, `id="sf-code-error" role="alert">is wrong, expired or used already<`)
	require.NotContains(t, b, `aria-describedby="sf-recovery-error"`)
	require.NotContains(t, b, `id="form-error"`, "the message is on the field, not repeated above the form")

	res = s.do(t, http.MethodPost, web.SecondFactorPath, formType, url.Values{"code": {"000000"}, "recovery_code": {"aaaa-bbbb-cccc-dddd"}}.Encode(), cookie, nil)
	require.Equal(t, http.StatusBadRequest, res.StatusCode, "one proof at a time")
	require.Contains(t, body(t, res), `aria-describedby="sf-code-error"`)

	res = s.do(t, http.MethodPost, web.SecondFactorPath, formType, url.Values{"recovery_code": {"aaaa-bbbb-cccc-dddd"}}.Encode(), cookie, nil)
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	require.Contains(t, body(t, res), `aria-invalid="true" aria-describedby="sf-recovery-error"`)

	aal, pending := s.me(t, cookie)
	require.Equal(t, 1, aal, "the session was not stepped up")
	require.Equal(t, auth.PendingStepUp, pending)
	res = s.do(t, http.MethodGet, web.SecurityPath, "", "", cookie, nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, web.SecondFactorPath, res.Header.Get("Location"), "account security is not served before the step-up")
}

// TestBrowserEnrolTOTPAndStepUp: a member signs in on the page, sets up
// an authenticator app (the secret read from the page), sees the recovery
// codes once, signs out, signs in again with the password, is asked for
// the code and then served account security.
func TestBrowserEnrolTOTPAndStepUp(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.member(t, "Katherine Johnson")

	ctx := browser(t)
	require.NoError(t, chromedp.Do(ctx,
		s.signInThroughPage(email, password),
		chromedp.Click(chromedp.CSS(`form[action="/account/security/totp"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#totp-secret")),
	))
	require.True(t, strings.HasPrefix(eval[string](t, ctx, `document.querySelector("img.st-qr").src`), "data:image/png;base64,"), "the QR code is a data: URL")
	require.Greater(t, eval[int](t, ctx, `document.querySelector("img.st-qr").naturalWidth`), 0, "the CSP let the QR code load")
	secret := text(t, ctx, "#totp-secret")
	require.NotEmpty(t, secret)
	now := time.Now()
	code, err := auth.TOTPCode(secret, now)
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#totp-code"), code),
		chromedp.Click(chromedp.CSS(`form[action="/account/security/totp/confirm"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-recovery-codes")),
	))
	require.Equal(t, 10, eval[int](t, ctx, `document.querySelectorAll(".st-recovery-codes li").length`), "ten recovery codes shown")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[href="/account/security"]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-totp-on")),
		chromedp.Click(chromedp.CSS(`form.st-signout button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#pw-email")),
		chromedp.SendKeys(chromedp.CSS("#pw-email"), email),
		chromedp.SendKeys(chromedp.CSS("#pw-password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#sf-code")),
	))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, s.url(web.SecondFactorPath), loc, "the password sign-in lands on the challenge")

	// The confirming code spent its step; the next step's code is
	// accepted (one step of drift either side).
	code, err = auth.TOTPCode(secret, now.Add(30*time.Second))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#sf-code"), code),
		chromedp.Click(chromedp.CSS(`form[action="/signin/second-factor"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-sessions")),
	))
	loc, err = chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	require.Equal(t, s.url(web.SecurityPath), loc, "the code lands on account security")
	require.Equal(t, "Katherine Johnson", text(t, ctx, ".st-user-name"))
}

// TestEnrolmentRequiredByShop: a member whose shop requires a second
// factor lands on the enrolment after the password; the QR code is a
// data: URL; a wrong first code is tied to the field; the right one shows
// the recovery codes, and account security is then served without the
// remove button (the shop requires the factor).
func TestEnrolmentRequiredByShop(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.member(t, "Required Member")
	require.NoError(t, s.e.Store.InShop(t.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.TwoFactorPolicy().Set(ctx, ports.TwoFactorPolicy{AllMembers: true})
		return err
	}))

	res := s.do(t, http.MethodPost, web.SignInPath, formType, url.Values{"email": {email}, "password": {password}}.Encode(), "", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, web.TOTPPath, res.Header.Get("Location"))
	cookie := sessionCookie(t, res)

	for _, path := range []string{web.SecurityPath, web.SecondFactorPath} {
		res = s.do(t, http.MethodGet, path, "", "", cookie, nil)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, path)
		require.Equal(t, web.TOTPPath, res.Header.Get("Location"), path)
	}
	res = s.do(t, http.MethodGet, web.TOTPPath, "", "", cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	b := body(t, res)
	require.Contains(t, b, "This shop requires a second factor")
	require.Contains(t, b, `<form method="post" action="/account/security/totp">`)

	res = s.do(t, http.MethodPost, web.TOTPPath, formType, "", cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	b = body(t, res)
	require.Contains(t, b, `src="data:image/png;base64,`)
	m := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(b)
	require.Len(t, m, 2, "the secret is on the page")

	res = s.do(t, http.MethodPost, web.TOTPPath+"/confirm", formType, url.Values{"code": {"000000"}}.Encode(), cookie, nil)
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	require.Contains(t, body(t, res), `aria-invalid="true" aria-describedby="totp-code-error"`)

	code, err := auth.TOTPCode(m[1], time.Now())
	require.NoError(t, err)
	res = s.do(t, http.MethodPost, web.TOTPPath+"/confirm", formType, url.Values{"code": {code}}.Encode(), cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	require.Equal(t, 10, strings.Count(body(t, res), "<li><code>"), "ten recovery codes, shown once")

	res = s.do(t, http.MethodGet, web.SecurityPath, "", "", cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	b = body(t, res)
	require.Contains(t, b, "An authenticator app is set up")
	require.NotContains(t, b, `action="/account/security/totp/disable"`, "the shop requires the factor")
}

// TestRemoveTOTP: removing the factor needs a session that used it (a
// password-only session of a factor holder is refused with the HTML
// error page); a stepped-up, recent session removes it.
func TestRemoveTOTP(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.member(t, "Remover")
	cookie := s.apiSignIn(t, email, password)
	s.enrolTOTPThroughAPI(t, cookie) // this session is now AAL2, authenticated now

	aal1 := s.apiSignIn(t, email, password)
	res := s.do(t, http.MethodPost, web.TOTPPath+"/disable", formType, "", aal1, nil)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	require.Contains(t, body(t, res), "second factor required")

	res = s.do(t, http.MethodGet, web.SecurityPath, "", "", cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body(t, res), `action="/account/security/totp/disable"`)
	res = s.do(t, http.MethodPost, web.TOTPPath+"/disable", formType, "", cookie, nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, web.SecurityPath+"?done=totp-off", res.Header.Get("Location"))
	res = s.do(t, http.MethodGet, web.SecurityPath, "", "", cookie, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body(t, res), `<form method="post" action="/account/security/totp">`, "set up is offered again")
}
