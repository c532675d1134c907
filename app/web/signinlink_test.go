package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/web"
)

// TestMagicLinkPage: the link mailed by the sign-in page's "E-mail me a
// sign-in link" opens web.SignInLinkPath on the shop's host: a page in the
// layout, under the pages' CSP, with no inline style or script, whose form
// posts the token to POST /auth/magic-link/consume. Opening it (twice, as
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
		require.Regexp(t, regexp.MustCompile(`<form method="post" action="/auth/magic-link/consume"[^>]*>\s*<input type="hidden" name="token" value="`+regexp.QuoteMeta(token)+`">\s*<button type="submit" class="st-button">Sign in</button>`), page)
	}

	// A link mailed before the upgrade: 303 to the page, token and all.
	res = s.doOn(t, host, http.MethodGet, "/auth/magic-link?"+link.RawQuery, nil, "")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, link.RequestURI(), res.Header.Get("Location"))

	// The button: the same-origin form post spends the token.
	res = s.doOn(t, host, http.MethodPost, web.MagicLinkConsumePath, url.Values{"token": {token}}, "")
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
