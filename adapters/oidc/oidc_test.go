package oidc_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/oidc"
	"github.com/stockadehq/stockade/internal/oidctest"
	"github.com/stockadehq/stockade/ports"
)

// redirectURL is where the app would receive the callback; the issuer never
// calls it, the test reads the redirect instead.
const redirectURL = "https://app.example/auth/callback"

// newProvider discovers iss through its TLS-trusting client.
func newProvider(t *testing.T, iss *oidctest.Issuer) *oidc.Provider {
	t.Helper()
	p, err := oidc.New(t.Context(), oidc.Config{
		Name:         "test",
		Issuer:       iss.URL(),
		ClientID:     iss.ClientID(),
		ClientSecret: iss.ClientSecret(),
		HTTPClient:   iss.Client(),
	})
	require.NoError(t, err)
	return p
}

// random32 is 32 random bytes, base64url without padding: 43 characters,
// a valid RFC 7636 verifier and a good state or nonce.
func random32(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

func newRequest(t *testing.T) ports.AuthRequest {
	t.Helper()
	return ports.AuthRequest{State: random32(t), Nonce: random32(t), Verifier: random32(t)}
}

// signIn sends user sub through p's auth URL for req and returns the code
// the issuer redirected back with, after checking the state came back.
func signIn(t *testing.T, p *oidc.Provider, iss *oidctest.Issuer, sub string, req ports.AuthRequest) string {
	t.Helper()
	back := iss.Authorize(t, p.AuthURL(req, redirectURL), sub)
	q := back.Query()
	require.Empty(t, q.Get("error"), "issuer refused the authorization request: %s", q.Get("error_description"))
	require.Equal(t, redirectURL, back.Scheme+"://"+back.Host+back.Path)
	require.Equal(t, req.State, q.Get("state"))
	require.NotEmpty(t, q.Get("code"))
	return q.Get("code")
}

func TestSignIn(t *testing.T) {
	tests := []struct {
		name string
		give oidctest.User
		want ports.ExternalIdentity
	}{
		{
			name: "verified e-mail",
			give: oidctest.User{Subject: "u-1", Email: "ada@example.com", EmailVerified: true, Name: "Ada"},
			want: ports.ExternalIdentity{Subject: "u-1", Email: "ada@example.com", EmailVerified: true, Name: "Ada"},
		},
		{
			name: "unverified e-mail",
			give: oidctest.User{Subject: "u-2", Email: "bob@example.com", Name: "Bob"},
			want: ports.ExternalIdentity{Subject: "u-2", Email: "bob@example.com", Name: "Bob"},
		},
		{
			name: "email_verified as the string true",
			give: oidctest.User{Subject: "u-3", Email: "cy@example.com", EmailVerified: true, EmailVerifiedAsString: true},
			want: ports.ExternalIdentity{Subject: "u-3", Email: "cy@example.com", EmailVerified: true},
		},
		{
			name: "email_verified as the string false",
			give: oidctest.User{Subject: "u-4", Email: "di@example.com", EmailVerifiedAsString: true},
			want: ports.ExternalIdentity{Subject: "u-4", Email: "di@example.com"},
		},
		{
			name: "no e-mail at all",
			give: oidctest.User{Subject: "u-5"},
			want: ports.ExternalIdentity{Subject: "u-5"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := oidctest.New(t)
			iss.AddUser(tt.give)
			p := newProvider(t, iss)
			req := newRequest(t)
			code := signIn(t, p, iss, tt.give.Subject, req)

			got, err := p.Exchange(t.Context(), code, req, redirectURL)
			require.NoError(t, err)
			want := tt.want
			want.Issuer = iss.URL()
			assert.Equal(t, want, got)
		})
	}
}

func TestAuthURL(t *testing.T) {
	iss := oidctest.New(t)
	p := newProvider(t, iss)
	req := newRequest(t)

	u, err := url.Parse(p.AuthURL(req, redirectURL))
	require.NoError(t, err)
	assert.Equal(t, iss.URL()+"/authorize", u.Scheme+"://"+u.Host+u.Path)
	q := u.Query()
	sum := sha256.Sum256([]byte(req.Verifier))
	assert.Equal(t, "code", q.Get("response_type"))
	assert.Equal(t, iss.ClientID(), q.Get("client_id"))
	assert.Equal(t, redirectURL, q.Get("redirect_uri"))
	assert.Equal(t, "openid email profile", q.Get("scope"))
	assert.Equal(t, req.State, q.Get("state"))
	assert.Equal(t, req.Nonce, q.Get("nonce"))
	assert.Equal(t, "S256", q.Get("code_challenge_method"))
	assert.Equal(t, base64.RawURLEncoding.EncodeToString(sum[:]), q.Get("code_challenge"))
	assert.NotContains(t, u.String(), req.Verifier, "the verifier itself never leaves the server")
	assert.NotContains(t, u.String(), iss.ClientSecret())
	assert.Equal(t, "test", p.Name())
}

// TestConcurrentSignIns runs interleaved sign-ins through one Provider; with
// -race it checks the Provider is safe for concurrent use.
func TestConcurrentSignIns(t *testing.T) {
	iss := oidctest.New(t)
	p := newProvider(t, iss)
	const n = 8
	for i := range n {
		iss.AddUser(oidctest.User{Subject: "u-" + string(rune('a'+i)), Email: "x@example.com", EmailVerified: true})
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	got := make([]ports.ExternalIdentity, n)
	for i := range n {
		sub := "u-" + string(rune('a'+i))
		req := newRequest(t)
		code := signIn(t, p, iss, sub, req) // signIn may fail t, so it stays on this goroutine
		wg.Go(func() { got[i], errs[i] = p.Exchange(t.Context(), code, req, redirectURL) })
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, "u-"+string(rune('a'+i)), got[i].Subject)
	}
}

func TestNewInvalid(t *testing.T) {
	iss := oidctest.New(t)
	valid := oidc.Config{
		Name: "test", Issuer: iss.URL(), ClientID: iss.ClientID(), ClientSecret: iss.ClientSecret(),
		HTTPClient: iss.Client(),
	}
	tests := []struct {
		name string
		give func(*oidc.Config)
	}{
		{"no name", func(c *oidc.Config) { c.Name = "" }},
		{"no client id", func(c *oidc.Config) { c.ClientID = "" }},
		{"no client secret", func(c *oidc.Config) { c.ClientSecret = "" }},
		{"no issuer", func(c *oidc.Config) { c.Issuer = "" }},
		{"relative issuer", func(c *oidc.Config) { c.Issuer = "accounts.google.com" }},
		{"http issuer off loopback", func(c *oidc.Config) { c.Issuer = "http://issuer.example" }},
		{"issuer with query", func(c *oidc.Config) { c.Issuer = iss.URL() + "?tenant=1" }},
		{"issuer the discovery document does not name", func(c *oidc.Config) { c.Issuer = iss.URL() + "/" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.give(&cfg)
			_, err := oidc.New(t.Context(), cfg)
			require.ErrorIs(t, err, ports.ErrInvalid)
			assert.NotContains(t, err.Error(), iss.ClientSecret())
		})
	}
}

func TestNewUnreachable(t *testing.T) {
	gone := httptest.NewTLSServer(nil)
	gone.Close() // nothing listens on its port any more

	_, err := oidc.New(t.Context(), oidc.Config{
		Name: "gone", Issuer: gone.URL, ClientID: "id", ClientSecret: "secret",
	})
	require.ErrorIs(t, err, ports.ErrUnavailable)
	assert.NotContains(t, err.Error(), "secret")
}

func TestGoogleConfig(t *testing.T) {
	got := oidc.GoogleConfig("id.apps.googleusercontent.com", "shh")
	assert.Equal(t, oidc.Config{
		Name: "google", Issuer: "https://accounts.google.com",
		ClientID: "id.apps.googleusercontent.com", ClientSecret: "shh",
	}, got)
	assert.False(t, strings.HasSuffix(got.Issuer, "/"), "the issuer must match Google's iss exactly")
}
