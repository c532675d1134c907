package auth

// Service behaviour that must not touch the store at all: the service here
// is built over a store that fails the test on any call, so a refusal that
// passes proves it was decided in process.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/authmail"
	"github.com/stockadehq/stockade/ports"
)

// forbiddenStore is a ports.Store and ports.SessionResolver whose every
// method fails the test.
type forbiddenStore struct{ t *testing.T }

func (s forbiddenStore) InShop(context.Context, ports.ShopID, func(context.Context, ports.ShopTx) error, ...ports.TxOption) error {
	s.t.Error("InShop called")
	return ports.ErrUnavailable
}

func (s forbiddenStore) Global(context.Context, func(context.Context, ports.GlobalTx) error, ...ports.TxOption) error {
	s.t.Error("Global called")
	return ports.ErrUnavailable
}

func (s forbiddenStore) ResolveSession(context.Context, ports.ShopID, ports.SessionID) (ports.ResolvedSession, error) {
	s.t.Error("ResolveSession called")
	return ports.ResolvedSession{}, ports.ErrUnavailable
}

func (s forbiddenStore) Ping(context.Context) error { return nil }
func (s forbiddenStore) Close() error               { return nil }

type forbiddenHasher struct{ t *testing.T }

func (h forbiddenHasher) Hash(context.Context, string) (string, error) {
	h.t.Error("Hash called")
	return "", ports.ErrUnavailable
}

func (h forbiddenHasher) Verify(context.Context, string, string) (bool, bool, error) {
	h.t.Error("Verify called")
	return false, false, ports.ErrUnavailable
}

type acceptAll struct{}

func (acceptAll) Check(string, string) error { return nil }

type fixedClock struct{ now time.Time }

func (c *fixedClock) Now() time.Time { return c.now }

// stubProvider records what StartOIDC asked for and fails the test if a
// code is ever exchanged.
type stubProvider struct {
	t    *testing.T
	mu   sync.Mutex
	last ports.AuthRequest
}

func (p *stubProvider) Name() string { return "stub" }

func (p *stubProvider) AuthURL(req ports.AuthRequest, redirectURL string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = req
	return "https://issuer.example/authorize?state=" + req.State
}

func (p *stubProvider) Exchange(context.Context, string, ports.AuthRequest, string) (ports.ExternalIdentity, error) {
	p.t.Error("Exchange called")
	return ports.ExternalIdentity{}, ports.ErrUnavailable
}

func testOutbox(t *testing.T) *authmail.Outbox {
	t.Helper()
	o, err := authmail.New(authmail.Key{ID: "k", Secret: make([]byte, 32)})
	require.NoError(t, err)
	return o
}

func newStorelessService(t *testing.T, keys *Keyring) (*Service, *fixedClock, *stubProvider) {
	t.Helper()
	clock := &fixedClock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	prov := &stubProvider{t: t}
	svc, err := New(Deps{
		Store: forbiddenStore{t}, Hasher: forbiddenHasher{t}, Policy: acceptAll{}, Keys: keys, Mail: testOutbox(t),
		Providers: []ports.IdentityProvider{prov}, Clock: clock,
	}, Config{})
	require.NoError(t, err)
	return svc, clock, prov
}

// Guards Authenticate's first statement: decodeSessionCookie runs before
// the resolver, so a forged cookie costs no query (AUTH-6).
func TestAuthenticateRefusesForgeriesWithoutTheStore(t *testing.T) {
	keys := testKeyring(t, testKey("k1", 1))
	svc, _, _ := newStorelessService(t, keys)
	shop := ports.NewShopID()
	cred := testCredential()
	foreign := testKeyring(t, testKey("k1", 2))
	for _, give := range []string{
		"",
		"v1.k1.x.y.z",
		encodeSessionCookie(foreign, shop, cred),
		encodeSessionCookie(keys, ports.NewShopID(), cred),
		encodeSessionCookie(keys, shop, cred)[:100],
	} {
		_, err := svc.Authenticate(context.Background(), shop, give)
		require.ErrorIs(t, err, ports.ErrUnauthenticated, "cookie %q", give)
	}
}

// Guards StartOIDC's fresh secrets and FinishOIDC's order: the state
// cookie (MAC with the shop, provider, expiry) and the returned state are
// checked before the provider is asked to redeem anything (AUTH-5).
func TestOIDCStateIsCheckedBeforeExchange(t *testing.T) {
	keys := testKeyring(t, testKey("k1", 1))
	svc, clock, prov := newStorelessService(t, keys)
	shop := ports.NewShopID()
	ctx := context.Background()

	authURL, cookie, err := svc.StartOIDC(ctx, shop, "stub", "https://acme.example.test/auth/oidc/stub/callback")
	require.NoError(t, err)
	first := prov.last
	assert.Contains(t, authURL, first.State)
	verifier, err := base64.RawURLEncoding.DecodeString(first.Verifier)
	require.NoError(t, err)
	assert.Len(t, verifier, 32, "a 256-bit PKCE verifier (43 characters)")
	assert.NotEqual(t, first.State, first.Nonce)

	_, cookie2, err := svc.StartOIDC(ctx, shop, "stub", "https://acme.example.test/auth/oidc/stub/callback")
	require.NoError(t, err)
	second := prov.last
	assert.NotEqual(t, first.State, second.State, "fresh state per start")
	assert.NotEqual(t, first.Nonce, second.Nonce, "fresh nonce per start")
	assert.NotEqual(t, first.Verifier, second.Verifier, "fresh verifier per start")

	parts := strings.Split(cookie, ".")
	require.Len(t, parts, 4)
	payload, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	var st oidcState
	require.NoError(t, json.Unmarshal(payload, &st))
	st.Nonce = "chosen-by-attacker"
	forgedPayload, err := json.Marshal(st)
	require.NoError(t, err)
	parts[2] = base64.RawURLEncoding.EncodeToString(forgedPayload)
	unsigned := strings.Join(parts, ".")

	tests := []struct {
		name     string
		shop     ports.ShopID
		provider string
		state    string
		cookie   string
		advance  time.Duration
		wantErr  error
	}{
		{"state parameter differs", shop, "stub", second.State, cookie, 0, ports.ErrUnauthenticated},
		{"cookie of another start", shop, "stub", first.State, cookie2, 0, ports.ErrUnauthenticated},
		{"payload changed, MAC kept", shop, "stub", first.State, unsigned, 0, ports.ErrUnauthenticated},
		{"another shop", ports.NewShopID(), "stub", first.State, cookie, 0, ports.ErrUnauthenticated},
		{"no cookie", shop, "stub", first.State, "", 0, ports.ErrUnauthenticated},
		{"empty state", shop, "stub", "", cookie, 0, ports.ErrUnauthenticated},
		{"ten minutes later", shop, "stub", first.State, cookie, 10 * time.Minute, ports.ErrUnauthenticated},
		{"unknown provider", shop, "other", first.State, cookie, 0, ports.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.now = clock.now.Add(tt.advance)
			defer func() { clock.now = clock.now.Add(-tt.advance) }()
			_, err := svc.FinishOIDC(ctx, OIDCCallback{Shop: tt.shop, Provider: tt.provider, Code: "code", State: tt.state, StateCookie: tt.cookie})
			require.ErrorIs(t, err, tt.wantErr)
		})
	}
}

// Over a limit, the in-process front refuses without the store, and keeps
// within its size by dropping ended lock-outs first.
func TestLimiterFront(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	l := newLimiter(forbiddenStore{t}, Limits{Window: time.Minute}, 2)
	a, b, c := limit{key: "a", max: 1}, limit{key: "b", max: 1}, limit{key: "c", max: 1}

	l.remember("a", now.Add(time.Minute), now)
	l.remember("b", now.Add(time.Second), now)
	_, err := l.charge(context.Background(), now, b, a)
	require.ErrorIs(t, err, ports.ErrRateLimited, "locked keys are refused without a store call")

	later := now.Add(2 * time.Second) // b's lock-out has ended
	l.remember("c", later.Add(time.Minute), later)
	assert.Len(t, l.locked, 2, "the front stays within its size")
	_, _, ok := l.lockedInFront(later, []limit{a})
	assert.True(t, ok, "the live lock-out was kept")
	_, _, ok = l.lockedInFront(later, []limit{c})
	assert.True(t, ok)
	_, _, ok = l.lockedInFront(later, []limit{b})
	assert.False(t, ok, "the ended one was evicted")
}

func TestAccountLimitKeyHidesTheAddress(t *testing.T) {
	k := accountLimit("signin", " Ann@Example.test ", 3)
	assert.Equal(t, accountLimit("signin", "ann@example.test", 3).key, k.key, "normalised")
	assert.NotContains(t, strings.ToLower(k.key), "ann")
	assert.True(t, strings.HasPrefix(k.key, "signin:acct:"))
	assert.LessOrEqual(t, len(ipLimit("signin", strings.Repeat("1", 300), 1).key), 200, "keys fit the store's bound")
}

func TestClientCleanTruncatesOnRuneBoundaries(t *testing.T) {
	c := Client{IP: strings.Repeat("1", 100), UserAgent: strings.Repeat("é", 300), RequestID: strings.Repeat("r", 200)}.clean()
	assert.Len(t, c.IP, 64)
	assert.Len(t, c.UserAgent, 512)
	assert.Equal(t, strings.Repeat("é", 256), c.UserAgent)
	assert.Len(t, c.RequestID, 128)
	odd := Client{UserAgent: "a" + strings.Repeat("é", 300)}.clean()
	assert.Equal(t, "a"+strings.Repeat("é", 255), odd.UserAgent, "a split rune is dropped, not cut")
}

func TestConfigDefaults(t *testing.T) {
	c := Config{}.WithDefaults()
	assert.Equal(t, 72*time.Hour, c.SessionIdleTimeout)
	assert.Equal(t, 30*24*time.Hour, c.SessionLifetime)
	assert.Equal(t, 5*time.Minute, c.LastSeenInterval)
	assert.Equal(t, 15*time.Minute, c.MagicLinkTTL)
	assert.Equal(t, 30*time.Minute, c.VerifyTTL)
	assert.Equal(t, 30*time.Minute, c.ResetTTL)
	assert.Equal(t, Limits{Window: 15 * time.Minute, PerAccount: 10, PerIP: 100, MagicPerEmail: 5, MagicPerIP: 30, SignUpPerIP: 20, SignUpPerEmail: 5, FrontCacheSize: 10000}, c.Limits)
	kept := Config{MagicLinkTTL: time.Minute, Limits: Limits{PerIP: 3}}.WithDefaults()
	assert.Equal(t, time.Minute, kept.MagicLinkTTL)
	assert.Equal(t, 3, kept.Limits.PerIP)
}

func TestMailProofDefaultsAreShort(t *testing.T) {
	c := Config{}.WithDefaults()
	assert.Equal(t, 30*time.Minute, c.VerifyTTL, "documented in README and the HTTP tests")
	assert.Equal(t, 30*time.Minute, c.ResetTTL, "documented in README and the HTTP tests")
}

// Guards addressKey: IPv6 by /64, IPv4-mapped as IPv4, zones dropped.
func TestAddressKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":                        "192.0.2.7",
		"::ffff:192.0.2.7":                 "192.0.2.7",
		"2001:db8:1:2:3:4:5:6":             "2001:db8:1:2::/64",
		"2001:DB8:1:2::ffff":               "2001:db8:1:2::/64",
		"fe80::1%eth0":                     "fe80::/64",
		"not an address":                   "not an address",
		strings.Repeat("x", 100):           strings.Repeat("x", 64),
		"2001:db8:1:3:ffff:ffff:ffff:ffff": "2001:db8:1:3::/64",
	} {
		assert.Equal(t, want, addressKey(in), in)
	}
}
