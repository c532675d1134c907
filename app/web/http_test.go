package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/web"
)

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

// TestPagesHeadersAndErrors: every page carries the strict headers; a
// page that needs a session redirects to sign-in; errors are HTML pages;
// other paths still reach the API.
func TestPagesHeadersAndErrors(t *testing.T) {
	s := newSite(t, web.Options{})
	html := map[string]string{"Accept": "text/html"}

	t.Run("sign-in page headers", func(t *testing.T) {
		res := s.do(t, http.MethodGet, web.SignInPath, "", "", "", html)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, web.CSP, res.Header.Get("Content-Security-Policy"))
		require.Contains(t, web.CSP, "default-src 'none'")
		require.Contains(t, web.CSP, "frame-ancestors 'none'")
		require.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"))
		require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
		require.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
		b := body(t, res)
		require.Contains(t, b, `<label for="pw-email">`)
		// The one script is the same-origin passkey enhancement: no inline
		// script, nothing from another origin.
		require.Equal(t, 1, strings.Count(b, "<script"))
		require.Contains(t, b, `<script src="/stockade/passkey.js" defer></script>`)
		require.NotContains(t, b, "style=")
	})
	t.Run("stylesheet", func(t *testing.T) {
		res := s.do(t, http.MethodGet, web.StylesheetPath, "", "", "", nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, "text/css; charset=utf-8", res.Header.Get("Content-Type"))
	})
	t.Run("no session redirects to sign-in", func(t *testing.T) {
		res := s.do(t, http.MethodGet, web.SecurityPath, "", "", "", html)
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		require.Equal(t, web.SignInPath, res.Header.Get("Location"))
	})
	t.Run("unknown shop host is an HTML 404", func(t *testing.T) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://127.0.0.1:"+strings.Split(s.host(), ":")[1]+web.SignInPath, nil)
		require.NoError(t, err)
		req.Host = "no-such-shop.localhost"
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		require.Equal(t, http.StatusNotFound, res.StatusCode)
		require.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
		require.Equal(t, web.CSP, res.Header.Get("Content-Security-Policy"))
		require.Contains(t, body(t, res), "<h1>Not Found</h1>")
	})
	t.Run("cross-site post is an HTML 403", func(t *testing.T) {
		email, password := s.member(t, "Cross Site")
		cookie := s.apiSignIn(t, email, password)
		res := s.do(t, http.MethodPost, web.SecurityPath+"/sessions/revoke-others", "application/x-www-form-urlencoded", "", cookie,
			map[string]string{"Sec-Fetch-Site": "cross-site", "Accept": "text/html"})
		require.Equal(t, http.StatusForbidden, res.StatusCode)
		require.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
		require.Contains(t, body(t, res), "cross-origin request refused")
		require.Equal(t, http.StatusOK, s.do(t, http.MethodGet, "/auth/me", "", "", cookie, nil).StatusCode)
	})
	t.Run("wrong password re-renders the form with the error tied to the fields", func(t *testing.T) {
		email, _ := s.member(t, "Wrong Password")
		form := url.Values{"email": {email}, "password": {"not the password"}}.Encode()
		res := s.do(t, http.MethodPost, web.SignInPath, "application/x-www-form-urlencoded", form, "", html)
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
		require.Empty(t, res.Cookies())
		b := body(t, res)
		require.Contains(t, b, `id="pw-error" role="alert"`)
		require.Contains(t, b, `aria-describedby="pw-error"`)
		require.Contains(t, b, `value="`+email+`"`)
	})
	t.Run("the API is still served", func(t *testing.T) {
		res := s.do(t, http.MethodGet, "/auth/me", "", "", "", nil)
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
		require.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	})
}

// TestMagicLinkForm: the sign-in page's second form asks for a link and
// says one is on its way, whether or not the address is a member.
func TestMagicLinkForm(t *testing.T) {
	s := newSite(t, web.Options{})
	email, _ := s.member(t, "Link Person")
	for _, addr := range []string{email, "nobody@example.com"} {
		res := s.do(t, http.MethodPost, web.MagicLinkPath, "application/x-www-form-urlencoded", url.Values{"email": {addr}}.Encode(), "", nil)
		require.Equal(t, http.StatusAccepted, res.StatusCode)
		require.Contains(t, body(t, res), "a sign-in link is on its way")
	}
	res := s.do(t, http.MethodPost, web.MagicLinkPath, "application/x-www-form-urlencoded", url.Values{"email": {"not an address"}}.Encode(), "", nil)
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	require.Contains(t, body(t, res), `aria-describedby="ml-error"`)
}
