package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/internal/smtptest"
)

// TestMagicLinkPage: the link mailed by the sign-in page's "E-mail me a
// sign-in link" opens web.SignInLinkPath on the shop's host: a page in the
// layout, under the pages' CSP, with no inline style or script, whose form
// posts the token back to web.SignInLinkPath. Opening it (twice, as
// a mail scanner would) spends nothing; submitting the form signs in and
// lands on account security. The API's older GET /auth/magic-link?token=
// answers 303 to the page; a missing token is the HTML error page.
func TestMagicLinkPage(t *testing.T) {
	s := signupNewSite(t, web.Options{})
	email, _ := s.member(t, "Grace Hopper")
	host := s.host()

	res := s.doOn(t, host, http.MethodPost, web.MagicLinkPath, url.Values{"email": {email}}, "")
	require.Equal(t, http.StatusAccepted, res.StatusCode, body(t, res))
	link, token := s.signupLink(t, email, 1)
	require.Equal(t, web.SignInLinkPath, link.Path, link.String())
	require.Equal(t, host, link.Host)
	require.NotEmpty(t, token)

	for range 2 { // a mail scanner prefetches, then the person opens it
		res = s.doOn(t, host, http.MethodGet, link.RequestURI(), nil, "")
		page := body(t, res)
		require.Equal(t, http.StatusOK, res.StatusCode, page)
		require.Equal(t, web.CSP, res.Header.Get("Content-Security-Policy"))
		require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
		require.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"))
		require.Contains(t, page, `<link rel="stylesheet" href="`+web.StylesheetPath+`">`)
		require.NotRegexp(t, regexp.MustCompile(`(?i)\sstyle=|<style|<script`), page, "no inline style or script")
		require.Regexp(t, regexp.MustCompile(`<form method="post" action="/signin/link"[^>]*>\s*<input type="hidden" name="token" value="`+regexp.QuoteMeta(token)+`">\s*<button type="submit" class="st-button">Sign in</button>`), page)
	}

	// A link mailed before the upgrade: 303 to the page, token and all.
	res = s.doOn(t, host, http.MethodGet, "/auth/magic-link?"+link.RawQuery, nil, "")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, link.RequestURI(), res.Header.Get("Location"))

	// The button: the same-origin form post spends the token.
	res = s.doOn(t, host, http.MethodPost, web.SignInLinkPath, url.Values{"token": {token}}, "")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body(t, res))
	require.Equal(t, web.SecurityPath, res.Header.Get("Location"))
	cookie := signupCookie(t, res)
	res = s.doOn(t, host, http.MethodGet, web.SecurityPath, nil, cookie)
	page := body(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, page)
	require.Contains(t, page, email)

	// No token, or a malformed one: the HTML error page.
	for _, target := range []string{web.SignInLinkPath, web.SignInLinkPath + "?token=" + url.QueryEscape(string(make([]byte, 65)))} {
		res = s.doOn(t, host, http.MethodGet, target, nil, "")
		require.Equal(t, http.StatusBadRequest, res.StatusCode)
		require.Contains(t, res.Header.Get("Content-Type"), "text/html")
		require.Equal(t, web.CSP, res.Header.Get("Content-Security-Policy"))
	}
}

// TestSignInLinkSpent: a magic link that no longer signs in — submitted a
// second time, or a token that was never issued — answers the sign-in
// link page (401, HTML, under the pages' CSP) saying the link has been
// used or has expired, with a form asking for a new link, and sets no
// session; the first submission still signs in. (An expired link takes
// the same path in auth.Service.ConsumeMagicLink as a used one; the
// harness has no clock to move, so it is not driven here.) A cross-origin
// post is refused before the token is read.
func TestSignInLinkSpent(t *testing.T) {
	s := signupNewSite(t, web.Options{})
	email, _ := s.member(t, "Ada Lovelace")
	host := s.host()

	res := s.doOn(t, host, http.MethodPost, web.MagicLinkPath, url.Values{"email": {email}}, "")
	require.Equal(t, http.StatusAccepted, res.StatusCode, body(t, res))
	_, token := s.signupLink(t, email, 1)

	res = s.doOn(t, host, http.MethodPost, web.SignInLinkPath, url.Values{"token": {token}}, "")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body(t, res))
	require.Equal(t, web.SecurityPath, res.Header.Get("Location"))
	signupCookie(t, res)

	never := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" // well-formed, never issued
	for _, tok := range []string{token, never} {
		res = s.doOn(t, host, http.MethodPost, web.SignInLinkPath, url.Values{"token": {tok}}, "")
		page := body(t, res)
		require.Equal(t, http.StatusUnauthorized, res.StatusCode, page)
		require.Contains(t, res.Header.Get("Content-Type"), "text/html")
		require.Equal(t, web.CSP, res.Header.Get("Content-Security-Policy"))
		require.Contains(t, page, "This sign-in link has been used or has expired — ask for a new one.")
		require.Regexp(t, regexp.MustCompile(`<form method="post" action="`+web.MagicLinkPath+`"[^>]*>\s*<div class="st-field">\s*<label for="ml-email">`), page)
		require.NotContains(t, page, tok, "the spent token is not put back in the page")
		for _, c := range res.Cookies() {
			require.NotEqual(t, "__Host-stockade_session", c.Name, "no session is set")
		}
	}

	// Another origin's form cannot post a token here.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d%s", s.port, web.SignInLinkPath), strings.NewReader(url.Values{"token": {never}}.Encode()))
	require.NoError(t, err)
	req.Host = host
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusForbidden, res.StatusCode)
}

// TestSignInLinkLandsOnAfterSignIn: with app.Landing.AfterSignIn set, the
// magic link page's sign-in lands there (web.Deps.AfterSignIn), as the
// API's form post did.
func TestSignInLinkLandsOnAfterSignIn(t *testing.T) {
	mail := smtptest.Start(t, smtptest.Options{})
	s := &signupSite{site: startSite(t, siteOptions{OwnPort: true, Landing: app.Landing{AfterSignIn: "/app/home"}, Edit: func(cfg *app.Config) {
		cfg.Email = app.EmailConfig{Provider: "smtp", SMTPHost: "127.0.0.1", SMTPPort: mail.Port(), SMTPTLS: "none"}
	}}), smtp: mail}
	email, _ := s.member(t, "Grace Hopper")
	res := s.doOn(t, s.host(), http.MethodPost, web.MagicLinkPath, url.Values{"email": {email}}, "")
	require.Equal(t, http.StatusAccepted, res.StatusCode, body(t, res))
	_, token := s.signupLink(t, email, 1)
	res = s.doOn(t, s.host(), http.MethodPost, web.SignInLinkPath, url.Values{"token": {token}}, "")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body(t, res))
	require.Equal(t, "/app/home", res.Header.Get("Location"))
	signupCookie(t, res)
}
