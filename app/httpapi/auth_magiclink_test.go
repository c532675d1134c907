package httpapi_test

// Magic links (AUTH-4): no enumeration, single use, short TTL, bound to the
// shop, and a GET (the old path, now a redirect to app/web's page) that
// does not burn the token.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/auth"
)

func (h *harness) requestLink(host, email string) *http.Response {
	h.t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email})
	return h.serve(call{method: http.MethodPost, path: "/auth/magic-link", host: host, body: string(b)})
}

func (h *harness) consumeLink(host, token string) *http.Response {
	h.t.Helper()
	b, _ := json.Marshal(map[string]string{"token": token})
	return h.serve(call{method: http.MethodPost, path: "/auth/magic-link/consume", host: host, body: string(b)})
}

// Guards magiclink.go RequestMagicLink answering nil for an unknown e-mail
// and for a non-member, and the handler's fixed 202 body: the three
// answers are byte for byte the same, and only the member gets mail.
func TestMagicLinkRequestRevealsNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	type answer struct {
		status int
		ctype  string
		body   []byte
	}
	ask := func(email string) answer {
		res := h.requestLink("acme.example.test", email)
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return answer{res.StatusCode, res.Header.Get("Content-Type"), b}
	}
	member := ask("ann@example.test")
	nonMember := ask("nora@example.test")
	unknown := ask("nobody@example.test")
	assert.Equal(t, http.StatusAccepted, member.status)
	assert.Equal(t, member, nonMember, "non-member answer differs")
	assert.Equal(t, member, unknown, "unknown e-mail answer differs")
	assert.True(t, bytes.Equal(member.body, unknown.body))

	msgs := h.mailer.messages()
	require.Len(t, msgs, 1, "only the member is mailed")
	assert.Equal(t, "ann@example.test", msgs[0].To)
	link, token := h.mailer.lastLink(t)
	assert.Equal(t, "acme.example.test", link.Host, "the link is built from configuration for acme")
	assert.Equal(t, httpapi.SignInLinkPath, link.Path, "the link opens app/web's page")
	raw, err := b64url.DecodeString(token)
	require.NoError(t, err)
	assert.Len(t, raw, 32, "256-bit token")
}

// Guards sqlite MagicLinks().Consume's single use and expiry, and
// magiclink.go ConsumeMagicLink's InShop(shop) binding; the old GET
// (auth_links.go magicLinkPage, a redirect to app/web's page) must not
// consume (app/web's TestMagicLinkPage covers the page itself).
func TestMagicLinkConsume(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	t.Run("page does not consume, consume works once", func(t *testing.T) {
		require.Equal(t, http.StatusAccepted, h.requestLink("acme.example.test", "ann@example.test").StatusCode)
		link, token := h.mailer.lastLink(t)
		for range 3 { // a mail scanner prefetching a link mailed before the upgrade
			res := h.serve(call{method: http.MethodGet, path: "/auth/magic-link?" + link.RawQuery})
			require.Equal(t, http.StatusSeeOther, res.StatusCode)
			assert.Equal(t, link.RequestURI(), res.Header.Get("Location"))
		}
		res := h.consumeLink("acme.example.test", token)
		require.Equal(t, http.StatusOK, res.StatusCode)
		cookie := sessionCookie(t, res)
		var s sessionJSON
		decodeBody(t, res, &s)
		assert.Equal(t, auth.MethodMagicLink, s.Method)
		assert.Equal(t, h.ann.ID.String(), s.UserID)
		assert.Equal(t, http.StatusOK, h.me("acme.example.test", cookie))

		problemOf(t, h.consumeLink("acme.example.test", token), http.StatusUnauthorized)
	})
	t.Run("form post redirects with a session", func(t *testing.T) {
		require.Equal(t, http.StatusAccepted, h.requestLink("acme.example.test", "tom@example.test").StatusCode)
		_, token := h.mailer.lastLink(t)
		res := h.serve(call{method: http.MethodPost, path: "/auth/magic-link/consume", body: url.Values{"token": {token}}.Encode(),
			contentType: "application/x-www-form-urlencoded"})
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		assert.Equal(t, "/", res.Header.Get("Location"))
		assert.Equal(t, http.StatusOK, h.me("acme.example.test", sessionCookie(t, res)))
	})
	t.Run("expires after 15 minutes", func(t *testing.T) {
		require.Equal(t, http.StatusAccepted, h.requestLink("acme.example.test", "ann@example.test").StatusCode)
		_, late := h.mailer.lastLink(t)
		h.clock.Advance(time.Minute)
		require.Equal(t, http.StatusAccepted, h.requestLink("acme.example.test", "ann@example.test").StatusCode)
		_, onTime := h.mailer.lastLink(t)
		h.clock.Advance(14 * time.Minute) // late is now exactly 15 minutes old, onTime 14
		problemOf(t, h.consumeLink("acme.example.test", late), http.StatusUnauthorized)
		assert.Equal(t, http.StatusOK, h.consumeLink("acme.example.test", onTime).StatusCode)
	})
	t.Run("bound to the shop", func(t *testing.T) {
		require.Equal(t, http.StatusAccepted, h.requestLink("acme.example.test", "ann@example.test").StatusCode)
		_, token := h.mailer.lastLink(t)
		// ann is an owner of bolt too, yet acme's link is unknown there.
		problemOf(t, h.consumeLink("bolt.example.test", token), http.StatusUnauthorized)
		assert.Equal(t, http.StatusOK, h.consumeLink("acme.example.test", token).StatusCode, "the refused attempt did not burn it")
	})
	t.Run("malformed and unknown tokens", func(t *testing.T) {
		for _, give := range []string{"", "short", strings.Repeat("A", 43), b64url.EncodeToString(randomBytes(32)), b64url.EncodeToString(randomBytes(31))} {
			problemOf(t, h.consumeLink("acme.example.test", give), http.StatusUnauthorized)
		}
	})
}

// TestMagicLinkOldPathRedirects: a link mailed before the links landed on
// app/web's page (GET /auth/magic-link?token=…) answers 303 to that page
// with the same query, spending nothing; the API serves no HTML of its
// own for it.
func TestMagicLinkOldPathRedirects(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	q := url.Values{"token": {`"><script>alert(1)</script>`}}.Encode()
	res := h.serve(call{method: http.MethodGet, path: "/auth/magic-link?" + q})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, httpapi.SignInLinkPath+"?"+q, res.Header.Get("Location"))
	assert.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"), "the token does not leak in Referer")
	assert.NotContains(t, res.Header.Get("Content-Type"), "text/html")
	res = h.serve(call{method: http.MethodGet, path: "/auth/magic-link"})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, httpapi.SignInLinkPath, res.Header.Get("Location"))
}

// TestVerifyAndResetOldPathsRedirect: the verification and reset links
// the API mailed before they landed on app/web's pages (GET
// /auth/verify?token=…, GET /auth/password-reset?token=…) answer 303 to
// those pages with the same query, with no body of their own. The
// verification page is served on the platform's host only: on a shop's
// host the answer names the platform's host. The invitation paths are in
// TestInvitationFlow and TestOrgRoleNeedsTheInviteesConsent.
func TestVerifyAndResetOldPathsRedirect(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	q := url.Values{"token": {`"><script>alert(1)</script>`}}.Encode()
	for _, tc := range []struct{ host, path, want string }{
		{"example.test", "/auth/verify", httpapi.VerifyLinkPath},
		{"acme.example.test", "/auth/verify", "https://example.test" + httpapi.VerifyLinkPath},
		{"example.test", "/auth/password-reset", httpapi.ResetLinkPath},
		{"acme.example.test", "/auth/password-reset", httpapi.ResetLinkPath},
	} {
		res := h.serve(call{method: http.MethodGet, path: tc.path + "?" + q, host: tc.host})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, tc.host+tc.path)
		assert.Equal(t, tc.want+"?"+q, res.Header.Get("Location"), tc.host+tc.path)
		assert.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"))
		assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
		assert.Empty(t, readBody(t, res), "no page of the API's own")
	}
}
