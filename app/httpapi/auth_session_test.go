package httpapi_test

// Attacks on session cookies: forgery, tampering, expiry, revocation,
// cross-shop replay, rotation, and the session-management routes
// (AUTH-6, AUTH-7, AUTH-8, TEN-7).

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func TestSignInThenMe(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cookie, s := h.signIn("acme.example.test", "ann@example.test", annPassword)
	assert.Equal(t, h.ann.ID.String(), s.UserID)
	assert.Equal(t, h.acme.ID.String(), s.ShopID)
	assert.Equal(t, "owner", s.Role)
	assert.Equal(t, auth.MethodPassword, s.Method)

	res := h.serve(call{method: http.MethodGet, path: "/auth/me", cookie: cookie})
	require.Equal(t, http.StatusOK, res.StatusCode)
	var me struct {
		User    map[string]string `json:"user"`
		Shop    map[string]string `json:"shop"`
		Role    string            `json:"role"`
		Session sessionJSON       `json:"session"`
	}
	decodeBody(t, res, &me)
	assert.Equal(t, "ann@example.test", me.User["email"])
	assert.Equal(t, "acme", me.Shop["slug"])
	assert.Equal(t, "owner", me.Role)
	assert.Equal(t, s.SessionID, me.Session.SessionID)
}

// The test's MAC helper must produce byte for byte what the server signs,
// or the tests below that sign cookies with the test's key prove nothing.
func TestHarnessSignsLikeTheServer(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cookie, _ := h.signIn("acme.example.test", "ann@example.test", annPassword)
	p := splitCookie(t, cookie)
	assert.Equal(t, cookie, h.signSession(h.acme.ID, p.id, p.token))
}

// Guards core/auth cookie.go decodeSessionCookie (the length, version,
// shape and keys.verify checks, and the nil-UUID check) and session.go
// Authenticate's first statement: a cookie that the server did not sign
// is refused with no round trip to the store.
func TestForgedCookiesAreRefusedWithoutAnyStoreCall(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	real, _ := h.signIn("acme.example.test", "ann@example.test", annPassword)
	p := splitCookie(t, real)

	flipMAC := p
	flipMAC.mac = append([]byte(nil), p.mac...)
	flipMAC.mac[7] ^= 0x01
	unknownKey := p
	unknownKey.kid = "k9"
	otherKey := p
	otherKey.mac = testMAC(randomBytes(32), "stockade/session-cookie/v1", h.acme.ID.UUID[:], p.id, p.token)
	otherDomain := p
	otherDomain.mac = testMAC(h.secret, "stockade/oidc-state/v1", h.acme.ID.UUID[:], p.id, p.token)
	v2 := p
	v2.version = "v2"
	shortToken := p
	shortToken.token = p.token[:31]
	nilID := h.signSession(h.acme.ID, uuid.Nil[:], p.token)

	tests := []struct {
		name string
		give string
	}{
		{"random bytes in the right shape", cookieParts{version: "v1", kid: "k1", id: randomBytes(16), token: randomBytes(32), mac: randomBytes(32)}.join()},
		{"real session, random MAC", cookieParts{version: "v1", kid: "k1", id: p.id, token: p.token, mac: randomBytes(32)}.join()},
		{"one MAC bit flipped", flipMAC.join()},
		{"unknown key id", unknownKey.join()},
		{"MAC under another key", otherKey.join()},
		{"MAC from another domain (OIDC state)", otherDomain.join()},
		{"version v2", v2.join()},
		{"truncated by one character", real[:len(real)-1]},
		{"truncated to four fields", real[:strings.LastIndex(real, ".")]},
		{"31-byte token", shortToken.join()},
		{"nil session ID, validly signed", nilID},
		{"extra field", real + ".AAAA"},
		{"over 256 bytes", real + strings.Repeat("A", 256)},
		{"not base64", "v1.k1.!!!!.????.@@@@"},
		{"garbage", "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.store.snapshot()
			res := h.serve(call{method: http.MethodGet, path: "/auth/me", cookie: tt.give})
			problemOf(t, res, http.StatusUnauthorized)
			assert.Equal(t, before, h.store.snapshot(), "a forged cookie reached the store")
			cleared := setCookie(t, res, auth.SessionCookieName)
			assert.Equal(t, -1, cleared.MaxAge, "a refused cookie is cleared")
		})
	}
	// The real cookie still works: the refusals above were about the
	// forgeries, not a broken harness.
	assert.Equal(t, http.StatusOK, h.me("acme.example.test", real))
}

// Guards two layers: the MAC (a token byte changed without re-signing
// fails decodeSessionCookie, no store call), and session.go Authenticate's
// subtle.ConstantTimeCompare of the token hash (a validly signed cookie
// whose token is not the session's gets exactly one lookup, then 401).
func TestTamperedTokens(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, store harnessOption) {
		h := newHarness(t, store)
		real, _ := h.signIn("acme.example.test", "ann@example.test", annPassword)
		p := splitCookie(t, real)

		t.Run("one token byte changed, MAC kept", func(t *testing.T) {
			q := p
			q.token = append([]byte(nil), p.token...)
			q.token[0] ^= 0x80
			before := h.store.snapshot()
			problemOf(t, h.serve(call{method: http.MethodGet, path: "/auth/me", cookie: q.join()}), http.StatusUnauthorized)
			assert.Equal(t, before, h.store.snapshot())
		})
		t.Run("validly signed wrong token for a real session", func(t *testing.T) {
			forged := h.signSession(h.acme.ID, p.id, randomBytes(32))
			before := h.store.snapshot()
			problemOf(t, h.serve(call{method: http.MethodGet, path: "/auth/me", cookie: forged}), http.StatusUnauthorized)
			assert.Equal(t, counts{Resolve: 1}, diff(h.store.snapshot(), before), "one lookup, no touch, nothing else")
		})
		t.Run("the stored hash as the token (database leak)", func(t *testing.T) {
			// A leaked sessions table yields SHA-256(token); presenting the
			// hash itself as the token, even validly signed, fails the compare.
			var hash []byte
			require.NoError(t, h.raw.InShop(context.Background(), h.acme.ID, func(ctx context.Context, tx ports.ShopTx) error {
				id, _ := uuid.FromBytes(p.id)
				s, err := tx.Sessions().Get(ctx, ports.SessionID{UUID: id})
				hash = s.TokenHash
				return err
			}))
			problemOf(t, h.serve(call{method: http.MethodGet, path: "/auth/me", cookie: h.signSession(h.acme.ID, p.id, hash)}), http.StatusUnauthorized)
		})
		assert.Equal(t, http.StatusOK, h.me("acme.example.test", real))
	})
}

func diff(after, before counts) counts {
	return counts{
		InShop: after.InShop - before.InShop, Global: after.Global - before.Global,
		Resolve: after.Resolve - before.Resolve, Touch: after.Touch - before.Touch,
	}
}

// Guards session.go Authenticate's timeout switch: the absolute
// (!now.Before(ExpiresAt)) and idle (now-LastSeenAt ≥ SessionIdleTimeout)
// cases, and the touch rule (≥ LastSeenInterval) that keeps a used session
// alive while writing at most once per interval.
func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, store harnessOption) {
		cfg := auth.Config{SessionIdleTimeout: time.Hour, SessionLifetime: 4 * time.Hour, LastSeenInterval: 5 * time.Minute}

		t.Run("idle", func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withConfig(cfg), store)
			cookie, _ := h.signIn("acme.example.test", "ann@example.test", annPassword)
			h.clock.Advance(59 * time.Minute)
			require.Equal(t, http.StatusOK, h.me("acme.example.test", cookie), "used within the idle window")
			h.clock.Advance(59 * time.Minute)
			require.Equal(t, http.StatusOK, h.me("acme.example.test", cookie), "the use above restarted the idle window")
			h.clock.Advance(time.Hour)
			assert.Equal(t, http.StatusUnauthorized, h.me("acme.example.test", cookie), "idle for a full hour")
		})
		t.Run("absolute", func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withConfig(cfg), store)
			cookie, s := h.signIn("acme.example.test", "ann@example.test", annPassword)
			assert.Equal(t, h.clock.Now().Add(4*time.Hour), s.ExpiresAt)
			for range 4 { // +50m, +100m, +150m, +200m: busy, never idle
				h.clock.Advance(50 * time.Minute)
				require.Equal(t, http.StatusOK, h.me("acme.example.test", cookie))
			}
			h.clock.Advance(39*time.Minute + 59*time.Second)
			require.Equal(t, http.StatusOK, h.me("acme.example.test", cookie), "one second before the end")
			h.clock.Advance(time.Second)
			assert.Equal(t, http.StatusUnauthorized, h.me("acme.example.test", cookie), "at the absolute end, however busy")
		})
		t.Run("last seen is written at most once per interval", func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withConfig(cfg), store)
			cookie, _ := h.signIn("acme.example.test", "ann@example.test", annPassword)
			before := h.store.snapshot()
			// 100 requests 10 s apart: 1000 s, so touches at 300, 600 and 900 s.
			for range 100 {
				h.clock.Advance(10 * time.Second)
				require.Equal(t, http.StatusOK, h.me("acme.example.test", cookie))
			}
			got := diff(h.store.snapshot(), before)
			assert.Equal(t, int64(100), got.Resolve, "one session lookup per request")
			assert.Equal(t, int64(3), got.Touch, "one last-seen write per 5 minutes")
			assert.Equal(t, int64(3), got.InShop, "no unit of work besides the touches")
			assert.Equal(t, int64(100), got.Global, "GET /auth/me reads the user (service.User), once per request")
		})
	})
}

// Guards manage.go RevokeSession/SignOut (the row is deleted) and
// session.go Authenticate's not-found answer: a revoked cookie is dead
// even though its MAC is still valid (AUTH-6: a stolen cookie cannot
// outlive revocation).
func TestRevokedSessions(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, store harnessOption) {
		h := newHarness(t, store)
		a, sa := h.signIn("acme.example.test", "ann@example.test", annPassword)
		b, _ := h.signIn("acme.example.test", "ann@example.test", annPassword)
		tomCookie, sTom := h.signIn("acme.example.test", "tom@example.test", tomPassword)

		// One user cannot end another's session by ID: 404, and it lives on.
		res := h.serve(call{method: http.MethodDelete, path: "/auth/sessions/" + sTom.SessionID, cookie: b})
		problemOf(t, res, http.StatusNotFound)
		require.Equal(t, http.StatusOK, h.me("acme.example.test", tomCookie))

		res = h.serve(call{method: http.MethodDelete, path: "/auth/sessions/" + sa.SessionID, cookie: b})
		require.Equal(t, http.StatusNoContent, res.StatusCode)
		assert.Equal(t, http.StatusUnauthorized, h.me("acme.example.test", a), "revoked from another session")
		assert.Equal(t, http.StatusOK, h.me("acme.example.test", b))

		res = h.serve(call{method: http.MethodPost, path: "/auth/signout", cookie: b})
		require.Equal(t, http.StatusNoContent, res.StatusCode)
		assert.Equal(t, -1, setCookie(t, res, auth.SessionCookieName).MaxAge, "sign-out clears the cookie")
		assert.Equal(t, http.StatusUnauthorized, h.me("acme.example.test", b), "signed out")
		assert.Len(t, h.events(h.acme, "auth.session.revoked"), 2)
	})
}

// TEN-7. Guards the shop ID in the cookie MAC (cookie.go
// encodeSessionCookie/decodeSessionCookie pass shop.UUID into sign/verify):
// acme's cookie on bolt's host fails before any lookup. The second case
// removes that layer on purpose — the cookie is signed for bolt — and
// guards the next one: the session lookup runs inside bolt's tenant
// boundary (sqlite resolve.go binds shop_id), where acme's session does not
// exist.
func TestCookieReplayedOnAnotherShop(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, store harnessOption) {
		h := newHarness(t, store)
		acmeCookie, _ := h.signIn("acme.example.test", "ann@example.test", annPassword)
		p := splitCookie(t, acmeCookie)

		before := h.store.snapshot()
		problemOf(t, h.serve(call{method: http.MethodGet, path: "/auth/me", host: "bolt.example.test", cookie: acmeCookie}), http.StatusUnauthorized)
		assert.Equal(t, before, h.store.snapshot(), "the shop-bound MAC refuses it with no store call")

		resigned := h.signSession(h.bolt.ID, p.id, p.token)
		before = h.store.snapshot()
		problemOf(t, h.serve(call{method: http.MethodGet, path: "/auth/me", host: "bolt.example.test", cookie: resigned}), http.StatusUnauthorized)
		assert.Equal(t, counts{Resolve: 1}, diff(h.store.snapshot(), before))

		_, err := h.svc.Authenticate(context.Background(), h.bolt.ID, resigned)
		require.ErrorIs(t, err, ports.ErrUnauthenticated)
		_, err = h.svc.Authenticate(context.Background(), h.bolt.ID, acmeCookie)
		require.ErrorIs(t, err, ports.ErrUnauthenticated)
		pr, err := h.svc.Authenticate(context.Background(), h.acme.ID, acmeCookie)
		require.NoError(t, err)
		assert.Equal(t, h.acme.ID, pr.Shop)
		assert.Equal(t, http.StatusOK, h.me("acme.example.test", acmeCookie))
	})
}

// AUTH-7. Guards authmw.go setSessionCookie's attributes and
// session.go mintSession's deletion of the presented session (rotation on
// sign-in).
func TestSessionCookieAttributesAndRotationOnSignIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := h.serve(call{method: http.MethodPost, path: "/auth/signin", body: credentials("ann@example.test", annPassword)})
	require.Equal(t, http.StatusOK, res.StatusCode)
	lines := res.Header.Values("Set-Cookie")
	require.Len(t, lines, 1)
	raw := lines[0]
	c, err := http.ParseSetCookie(raw)
	require.NoError(t, err)
	assert.Equal(t, "__Host-stockade_session", c.Name)
	assert.True(t, strings.HasPrefix(c.Name, "__Host-"))
	assert.True(t, c.Secure, "Secure: %s", raw)
	assert.True(t, c.HttpOnly, "HttpOnly: %s", raw)
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite, "SameSite=Lax: %s", raw)
	assert.Equal(t, "/", c.Path)
	assert.Empty(t, c.Domain, "host-only: %s", raw)
	assert.NotContains(t, strings.ToLower(raw), "domain=")
	old := c.Value

	// Signing in again with the old cookie presented ends the old session.
	fresh, _ := h.signIn("acme.example.test", "ann@example.test", annPassword, func(c *call) { c.cookie = old })
	assert.NotEqual(t, old, fresh)
	assert.Equal(t, http.StatusUnauthorized, h.me("acme.example.test", old), "the presented session was ended")
	assert.Equal(t, http.StatusOK, h.me("acme.example.test", fresh))
	assert.Len(t, listSessions(t, h, fresh), 1)
}

// AUTH-7, AUTH-8. Guards password.go ChangePassword (EndSessions, the
// shop's DeleteByUser, the fresh session and its cookie) and session.go
// Authenticate's ValidAfter check, which ends the user's sessions in other
// shops without a cross-tenant delete.
func TestChangePasswordEndsEverySession(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, store harnessOption) {
		h := newHarness(t, store)
		current, s := h.signIn("acme.example.test", "ann@example.test", annPassword)
		other, _ := h.signIn("acme.example.test", "ann@example.test", annPassword)
		elsewhere, _ := h.signIn("bolt.example.test", "ann@example.test", annPassword)
		const next = "ann-New-harbour-2031"
		h.clock.Advance(time.Second) // the sessions above predate the change

		res := h.serve(call{method: http.MethodPost, path: "/auth/password", cookie: current,
			body: `{"current_password":"wrong-Password-000","new_password":"` + next + `"}`})
		problemOf(t, res, http.StatusUnauthorized)
		require.Equal(t, http.StatusOK, h.me("acme.example.test", other), "a refused change revokes nothing")

		res = h.serve(call{method: http.MethodPost, path: "/auth/password", cookie: current,
			body: `{"current_password":"` + annPassword + `","new_password":"` + next + `"}`})
		require.Equal(t, http.StatusOK, res.StatusCode)
		rotated := sessionCookie(t, res)
		assert.NotEqual(t, current, rotated)
		assert.NotEqual(t, s.SessionID, uuidOf(t, rotated).String(), "a fresh session replaces the current one")
		assert.Equal(t, http.StatusUnauthorized, h.me("acme.example.test", current), "the old cookie stopped working")
		assert.Equal(t, http.StatusUnauthorized, h.me("acme.example.test", other), "other sessions were revoked")
		assert.Equal(t, http.StatusUnauthorized, h.me("bolt.example.test", elsewhere), "sessions in the user's other shops ended too")
		assert.Equal(t, http.StatusOK, h.me("acme.example.test", rotated))

		problemOf(t, h.serve(call{method: http.MethodPost, path: "/auth/signin", body: credentials("ann@example.test", annPassword)}), http.StatusUnauthorized)
		h.signIn("acme.example.test", "ann@example.test", next)
	})
}

func uuidOf(t *testing.T, cookie string) uuid.UUID {
	t.Helper()
	u, err := uuid.FromBytes(splitCookie(t, cookie).id)
	require.NoError(t, err)
	return u
}

type sessionItem struct {
	ID         string    `json:"id"`
	Device     string    `json:"device"`
	IP         string    `json:"ip"`
	Method     string    `json:"method"`
	LastSeenAt time.Time `json:"last_seen_at"`
	Current    bool      `json:"current"`
}

func listSessions(t *testing.T, h *harness, cookie string) []sessionItem {
	t.Helper()
	res := h.serve(call{method: http.MethodGet, path: "/auth/sessions", cookie: cookie})
	require.Equal(t, http.StatusOK, res.StatusCode)
	var out struct {
		Sessions []sessionItem `json:"sessions"`
	}
	decodeBody(t, res, &out)
	return out.Sessions
}

const (
	firefoxLinux   = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	chromeWindows  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	safariIPhoneUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

// AUTH-8: list, revoke others, and an admin ending a member's sessions,
// refused (and audited as denied) for a tech. Guards manage.go
// ListSessions's Current flag, RevokeOtherSessions' keep argument and
// RevokeMemberSessions' role check.
func TestSessionManagement(t *testing.T) {
	t.Parallel()
	onBothStores(t, func(t *testing.T, store harnessOption) {
		h := newHarness(t, store)
		ua := func(agent, ip string) func(*call) {
			return func(c *call) { c.header = http.Header{"User-Agent": {agent}}; c.remote = ip + ":443" }
		}
		first, s1 := h.signIn("acme.example.test", "ann@example.test", annPassword, ua(firefoxLinux, "203.0.113.5"))
		h.clock.Advance(time.Minute)
		second, s2 := h.signIn("acme.example.test", "ann@example.test", annPassword, ua(chromeWindows, "198.51.100.77"))
		h.clock.Advance(time.Minute)
		third, _ := h.signIn("acme.example.test", "ann@example.test", annPassword, ua(safariIPhoneUA, "192.0.2.200"))
		// A session in bolt is not listed in acme.
		h.signIn("bolt.example.test", "ann@example.test", annPassword)

		list := listSessions(t, h, first)
		require.Len(t, list, 3)
		assert.Equal(t, []string{"Safari on iOS", "Chrome on Windows", "Firefox on Linux"}, []string{list[0].Device, list[1].Device, list[2].Device}, "newest first")
		assert.Equal(t, []bool{false, false, true}, []bool{list[0].Current, list[1].Current, list[2].Current})
		assert.Equal(t, s1.SessionID, list[2].ID)
		assert.Equal(t, "203.0.113.5", list[2].IP)
		assert.Equal(t, s2.SessionID, list[1].ID)

		res := h.serve(call{method: http.MethodPost, path: "/auth/sessions/revoke-others", cookie: first})
		require.Equal(t, http.StatusOK, res.StatusCode)
		var revoked map[string]int
		decodeBody(t, res, &revoked)
		assert.Equal(t, map[string]int{"revoked": 2}, revoked)
		assert.Equal(t, http.StatusOK, h.me("acme.example.test", first))
		assert.Equal(t, http.StatusUnauthorized, h.me("acme.example.test", second))
		assert.Equal(t, http.StatusUnauthorized, h.me("acme.example.test", third))

		tomCookie, _ := h.signIn("acme.example.test", "tom@example.test", tomPassword)

		t.Run("a tech may not end the owner's sessions", func(t *testing.T) {
			res := h.serve(call{method: http.MethodDelete, path: "/auth/members/" + h.ann.ID.String() + "/sessions", cookie: tomCookie})
			problemOf(t, res, http.StatusForbidden)
			assert.Equal(t, http.StatusOK, h.me("acme.example.test", first))
			denied := h.events(h.acme, "auth.member_sessions.revoked")
			require.Len(t, denied, 1)
			assert.Equal(t, ports.OutcomeDenied, denied[0].Outcome)
			assert.Equal(t, "user:"+h.tom.ID.String(), denied[0].Actor)
			assert.Equal(t, "user:"+h.ann.ID.String(), denied[0].Target)
		})
		t.Run("the owner may end a tech's sessions", func(t *testing.T) {
			res := h.serve(call{method: http.MethodDelete, path: "/auth/members/" + h.tom.ID.String() + "/sessions", cookie: first})
			require.Equal(t, http.StatusOK, res.StatusCode)
			var n map[string]int
			require.NoError(t, json.NewDecoder(res.Body).Decode(&n))
			assert.Equal(t, map[string]int{"revoked": 1}, n)
			assert.Equal(t, http.StatusUnauthorized, h.me("acme.example.test", tomCookie))
			ok := h.events(h.acme, "auth.member_sessions.revoked")
			require.Len(t, ok, 2)
			assert.Equal(t, ports.OutcomeSuccess, ok[1].Outcome)
		})
		t.Run("a non-member is not found", func(t *testing.T) {
			res := h.serve(call{method: http.MethodDelete, path: "/auth/members/" + h.nora.ID.String() + "/sessions", cookie: first})
			problemOf(t, res, http.StatusNotFound)
		})
	})
}

// AUTH-7 rotation on privilege change, at the service (no route calls
// Service.Rotate yet). Guards session.go Rotate's Sessions().Rotate: the
// old token stops working, the session and its ID stay.
func TestRotateRetiresTheOldToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	old, s := h.signIn("acme.example.test", "tom@example.test", tomPassword)
	p, err := h.svc.Authenticate(ctx, h.acme.ID, old)
	require.NoError(t, err)
	is, err := h.svc.Rotate(ctx, p, auth.Client{IP: "192.0.2.9"})
	require.NoError(t, err)
	assert.NotEqual(t, old, is.Cookie)
	assert.Equal(t, s.SessionID, is.Principal.Session.String())
	assert.Equal(t, ports.RoleTech, is.Principal.Role)
	assert.Equal(t, http.StatusUnauthorized, h.me("acme.example.test", old))
	assert.Equal(t, http.StatusOK, h.me("acme.example.test", is.Cookie))
	require.Len(t, h.events(h.acme, "auth.session.rotated"), 1)
}
