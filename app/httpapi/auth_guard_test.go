package httpapi_test

// CSRF (AUTH-9), brute-force limits (AUTH-10), transparent re-hashing
// (AUTH-1) and input validation (OPS-5) on the authentication routes.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/stockadehq/stockade/adapters/passhash"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// Guards auth.go authRoutes' csrf.Handler around every route: a
// state-changing request the browser marks cross-site, or whose Origin is
// not the host, is refused before the handler (so before any store call),
// even with the right password.
func TestCrossOriginRequestsAreRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cookie, s := h.signIn("acme.example.test", "ann@example.test", annPassword)
	signin := credentials("ann@example.test", annPassword)

	crossSite := http.Header{"Sec-Fetch-Site": {"cross-site"}}
	evil := http.Header{"Origin": {"https://evil.example"}}
	// Sign-in rows present no session: a sign-in presenting one would end
	// it (rotation on sign-in) and spoil the rows after it.
	refused := []struct {
		name string
		give call
	}{
		{"sign-in, Sec-Fetch-Site cross-site", call{method: http.MethodPost, path: "/auth/signin", body: signin, header: crossSite}},
		{"sign-in, Sec-Fetch-Site same-site", call{method: http.MethodPost, path: "/auth/signin", body: signin, header: http.Header{"Sec-Fetch-Site": {"same-site"}}}},
		{"sign-in, foreign Origin", call{method: http.MethodPost, path: "/auth/signin", body: signin, header: evil}},
		{"sign-in, sibling shop's Origin", call{method: http.MethodPost, path: "/auth/signin", body: signin, header: http.Header{"Origin": {"https://bolt.example.test"}}}},
		{"revoke, cross-site", call{method: http.MethodDelete, path: "/auth/sessions/" + s.SessionID, cookie: cookie, header: crossSite}},
		{"revoke others, foreign Origin", call{method: http.MethodPost, path: "/auth/sessions/revoke-others", cookie: cookie, header: evil}},
		{"sign-out, cross-site", call{method: http.MethodPost, path: "/auth/signout", cookie: cookie, header: crossSite}},
		{"password change, cross-site", call{method: http.MethodPost, path: "/auth/password", cookie: cookie, header: crossSite,
			body: `{"current_password":"` + annPassword + `","new_password":"attacker-Chosen-pw-1"}`}},
		{"magic link, cross-site", call{method: http.MethodPost, path: "/auth/magic-link", body: `{"email":"ann@example.test"}`, header: crossSite}},
		{"sign-up, cross-site", call{method: http.MethodPost, path: "/auth/signup", body: `{"email":"x@example.test","password":"long-Enough-pass-99"}`, header: crossSite}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			before := h.store.snapshot()
			res := h.serve(tt.give)
			problemOf(t, res, http.StatusForbidden)
			assert.Equal(t, before, h.store.snapshot(), "refused before the handler ran")
			assert.Empty(t, res.Header.Values("Set-Cookie"))
		})
	}
	allowed := []struct {
		name string
		give call
	}{
		{"sign-in, Sec-Fetch-Site same-origin", call{method: http.MethodPost, path: "/auth/signin", body: signin, header: http.Header{"Sec-Fetch-Site": {"same-origin"}}}},
		{"sign-in, own Origin", call{method: http.MethodPost, path: "/auth/signin", body: signin, header: http.Header{"Origin": {"https://acme.example.test"}}}},
		{"sign-in, no browser headers", call{method: http.MethodPost, path: "/auth/signin", body: signin}},
		{"GET me, cross-site", call{method: http.MethodGet, path: "/auth/me", cookie: cookie, header: crossSite}},
		{"GET sessions, foreign Origin", call{method: http.MethodGet, path: "/auth/sessions", cookie: cookie, header: evil}},
	}
	for _, tt := range allowed {
		t.Run(tt.name, func(t *testing.T) {
			res := h.serve(tt.give)
			assert.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))
		})
	}
	assert.Equal(t, http.StatusOK, h.me("acme.example.test", cookie), "the cross-site revokes did nothing")
	h.signIn("acme.example.test", "ann@example.test", annPassword) // the password was not changed
}

// OPS-5 / problem.go: "the body of every error answer" is a problem. The
// CSRF refusal is an error answer too.
func TestCrossOriginRefusalIsAProblem(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := h.serve(call{method: http.MethodPost, path: "/auth/signin", body: credentials("ann@example.test", annPassword),
		header: http.Header{"Sec-Fetch-Site": {"cross-site"}}})
	problemOf(t, res, http.StatusForbidden)
}

// Password spraying from one address. Guards signin.go SignIn's charge
// before the credentials are read, limiter.go's per-IP counter and its
// front (lockedInFront: no store call once locked), and charge's
// "auth.lockout" audit event, appended once per lock-out.
func TestPasswordSprayingIsLockedOutPerAddress(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withConfig(auth.Config{Limits: auth.Limits{PerIP: 5, PerAccount: 3, Window: 15 * time.Minute}}))
	const sprayer = "198.51.100.7:40000"
	attempt := func(email, remote string) *http.Response {
		return h.serve(call{method: http.MethodPost, path: "/auth/signin", remote: remote, body: credentials(email, "Summer2026!spray")})
	}
	for i := range 5 {
		problemOf(t, attempt(fmt.Sprintf("user%d@example.test", i), sprayer), http.StatusUnauthorized)
	}
	p := problemOf(t, attempt("user5@example.test", sprayer), http.StatusTooManyRequests)
	assert.Contains(t, p.Detail, "this address")

	lockouts := h.events(h.acme, "auth.lockout")
	require.Len(t, lockouts, 1)
	assert.Equal(t, "signin:ip:198.51.100.7", lockouts[0].Target)
	assert.Equal(t, "anonymous", lockouts[0].Actor)
	assert.Equal(t, "198.51.100.7", lockouts[0].IP)
	assert.JSONEq(t, `{"purpose":"signin","limit":5,"window_seconds":900}`, string(lockouts[0].After))

	before := h.store.snapshot()
	problemOf(t, attempt("ann@example.test", sprayer), http.StatusTooManyRequests)
	assert.Equal(t, before, h.store.snapshot(), "a locked address is refused by the in-process front, with no store call")
	assert.Len(t, h.events(h.acme, "auth.lockout"), 1, "one event per lock-out, not per refused attempt")

	h.signIn("acme.example.test", "ann@example.test", annPassword, func(c *call) { c.remote = "203.0.113.9:1" })

	h.clock.Advance(15 * time.Minute)
	h.signIn("acme.example.test", "ann@example.test", annPassword, func(c *call) { c.remote = sprayer })
}

// Guessing one account's password from many addresses. Guards the
// per-account counter (accountLimit in SignIn's charge): once locked, even
// the right password is refused.
func TestGuessingOneAccountIsLockedOut(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withConfig(auth.Config{Limits: auth.Limits{PerIP: 100, PerAccount: 3, Window: 15 * time.Minute}}))
	for i := range 3 {
		res := h.serve(call{method: http.MethodPost, path: "/auth/signin", remote: fmt.Sprintf("203.0.113.%d:1", i+1),
			body: credentials("tom@example.test", fmt.Sprintf("guess-number-%d", i))})
		problemOf(t, res, http.StatusUnauthorized)
	}
	res := h.serve(call{method: http.MethodPost, path: "/auth/signin", remote: "203.0.113.99:1", body: credentials("TOM@example.test ", tomPassword)})
	p := problemOf(t, res, http.StatusTooManyRequests)
	assert.Contains(t, p.Detail, "this account")
	lockouts := h.events(h.acme, "auth.lockout")
	require.Len(t, lockouts, 1)
	assert.True(t, strings.HasPrefix(lockouts[0].Target, "signin:acct:"), lockouts[0].Target)
	assert.NotContains(t, lockouts[0].Target, "tom", "the e-mail is not in the key in clear")
	// Another account is unaffected.
	h.signIn("acme.example.test", "ann@example.test", annPassword, func(c *call) { c.remote = "203.0.113.99:1" })
}

// The magic-link request is limited too, with the same 202-or-429 answers.
func TestMagicLinkRequestsAreLimited(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withConfig(auth.Config{Limits: auth.Limits{MagicPerEmail: 2, MagicPerIP: 100}}))
	for range 2 {
		require.Equal(t, http.StatusAccepted, h.requestLink("acme.example.test", "ann@example.test").StatusCode)
	}
	problemOf(t, h.requestLink("acme.example.test", "ann@example.test"), http.StatusTooManyRequests)
	assert.Len(t, h.mailer.messages(), 2)
	assert.Len(t, h.events(h.acme, "auth.lockout"), 1)
}

// oldArgon2id is a PHC string at parameters below today's floor, as an
// older deployment would have stored.
func oldArgon2id(password string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, 1, 4096, 1, 32)
	return fmt.Sprintf("$argon2id$v=19$m=4096,t=1,p=1$%s$%s", base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Acceptance 3 (AUTH-1). Guards signin.go SignIn's `if rehash {
// s.upgradeHash(...) }`: a bcrypt hash and an old-parameter Argon2id hash
// verify, and are replaced by hashes at the current parameters.
func TestTransparentRehash(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	bc, err := bcrypt.GenerateFromPassword([]byte(tomPassword), passhash.MinBcryptCost)
	require.NoError(t, err)
	tests := []struct {
		name string
		user ports.User
		pw   string
		give string
	}{
		{name: "bcrypt", user: h.tom, pw: tomPassword, give: string(bc)},
		{name: "argon2id m=4096,t=1", user: h.ann, pw: annPassword, give: oldArgon2id(annPassword)},
	}
	current := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$", cheapParams.Memory, cheapParams.Time, cheapParams.Threads)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.user
			h.setHash(u, tt.give)
			h.signIn("acme.example.test", u.Email, tt.pw)
			got := h.storedHash(u)
			assert.True(t, strings.HasPrefix(got, current), "stored %q, want prefix %q", got, current)
			ok, rehash, err := h.hasher.Verify(context.Background(), tt.pw, got)
			require.NoError(t, err)
			assert.True(t, ok)
			assert.False(t, rehash, "at current parameters")
			h.signIn("acme.example.test", u.Email, tt.pw)
			assert.Equal(t, got, h.storedHash(u), "a current hash is not rewritten")
		})
	}
}

// A wrong password against an old hash does not upgrade it.
func TestNoRehashOnWrongPassword(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	old := oldArgon2id(annPassword)
	h.setHash(h.ann, old)
	problemOf(t, h.serve(call{method: http.MethodPost, path: "/auth/signin", body: credentials("ann@example.test", "not-Her-password-1")}), http.StatusUnauthorized)
	assert.Equal(t, old, h.storedHash(h.ann))
}

// OPS-5. Guards decode.go decodeJSON (content type, unknown fields, one
// object) and signup.go's policy check before anything is written.
func TestBadInputIsRefusedAndWritesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		name        string
		path        string
		body        string
		contentType string
		field       string
	}{
		{"malformed JSON", "/auth/signin", `{"email":`, "", "body"},
		{"unknown field", "/auth/signin", `{"email":"ann@example.test","password":"x","admin":true}`, "", "body"},
		{"two objects", "/auth/signin", `{"email":"ann@example.test","password":"x"}{}`, "", "body"},
		{"array", "/auth/signin", `[]`, "", "body"},
		{"text/plain", "/auth/signin", credentials("ann@example.test", annPassword), "text/plain", "content-type"},
		{"form to a JSON route", "/auth/signin", "email=ann%40example.test", "application/x-www-form-urlencoded", "content-type"},
		{"oversized", "/auth/signin", `{"email":"` + strings.Repeat("a", 70<<10) + `"}`, "", "body"},
		{"sign-up, unknown field", "/auth/signup", `{"email":"new@example.test","password":"long-Enough-pass-99","role":"owner"}`, "", "body"},
		{"sign-up, common password", "/auth/signup", `{"email":"new@example.test","name":"New","password":"password123"}`, "", "password"},
		{"sign-up, short password", "/auth/signup", `{"email":"new@example.test","name":"New","password":"short"}`, "", "password"},
		{"sign-up, password is the e-mail", "/auth/signup", `{"email":"new@example.test","name":"New","password":"new@example.test"}`, "", "password"},
		{"sign-up, bad e-mail", "/auth/signup", `{"email":"not-an-address","name":"New","password":"long-Enough-pass-99"}`, "", "email"},
		{"magic link, bad e-mail", "/auth/magic-link", `{"email":"not-an-address"}`, "", "email"},
		{"magic link, wrong type", "/auth/magic-link/consume", `{"token":"x"}`, "text/plain", "content-type"},
	}
	users, sessions := h.countRows("users"), h.countRows("sessions")
	passwords := h.countRows("passwords")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := h.serve(call{method: http.MethodPost, path: tt.path, body: tt.body, contentType: tt.contentType})
			p := problemOf(t, res, http.StatusBadRequest)
			require.NotEmpty(t, p.Errors)
			assert.Equal(t, tt.field, p.Errors[0].Field)
			assert.NotContains(t, p.Detail, annPassword)
		})
	}
	assert.Equal(t, users, h.countRows("users"))
	assert.Equal(t, passwords, h.countRows("passwords"))
	assert.Equal(t, sessions, h.countRows("sessions"))

	assert.Equal(t, 0, h.countRows("mail_tokens"))

	// A well-formed sign-up creates no account before the mailbox is
	// proven (AUTH-16): it stores one pending verification and mails it.
	res := h.serve(call{method: http.MethodPost, path: "/auth/signup", body: `{"email":"New@Example.test","name":"New","password":"long-Enough-pass-99"}`})
	require.Equal(t, http.StatusAccepted, res.StatusCode)
	assert.Equal(t, users, h.countRows("users"))
	assert.Equal(t, 1, h.countRows("mail_tokens"))
}
