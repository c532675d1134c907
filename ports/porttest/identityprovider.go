package porttest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// IdentityProviderHarness is a provider under test together with the
// issuer it talks to.
type IdentityProviderHarness struct {
	// New returns a provider and a way to act as a browser: Login follows
	// authURL at the issuer as the person with subject sub and returns the
	// URL the issuer redirected back to.
	New func(t *testing.T) (p ports.IdentityProvider, login func(t *testing.T, authURL, sub string) *url.URL)
	// Verified and Unverified are subjects the issuer knows, whose e-mails
	// it asserts as verified and as not verified.
	Verified, Unverified string
}

// TestIdentityProvider is the conformance suite of ports.IdentityProvider:
// the authorization URL carries state, nonce and an S256 challenge (never
// the verifier); a code redeems once, with the right verifier and nonce
// only; email_verified is reported as asserted.
func TestIdentityProvider(t *testing.T, h IdentityProviderHarness) {
	const redirect = "https://shop.example.test/auth/oidc/test/callback"
	newReq := func() ports.AuthRequest {
		r := func() string {
			b := make([]byte, 32)
			rand.Read(b)
			return base64.RawURLEncoding.EncodeToString(b)
		}
		return ports.AuthRequest{State: r(), Nonce: r(), Verifier: r()}
	}
	code := func(t *testing.T, login func(*testing.T, string, string) *url.URL, p ports.IdentityProvider, req ports.AuthRequest, sub string) string {
		back := login(t, p.AuthURL(req, redirect), sub)
		require.Equal(t, req.State, back.Query().Get("state"), "the issuer echoes state")
		c := back.Query().Get("code")
		require.NotEmpty(t, c)
		return c
	}
	t.Run("AuthURL", func(t *testing.T) {
		p, _ := h.New(t)
		req := newReq()
		u, err := url.Parse(p.AuthURL(req, redirect))
		require.NoError(t, err)
		q := u.Query()
		assert.Equal(t, req.State, q.Get("state"))
		assert.Equal(t, req.Nonce, q.Get("nonce"))
		assert.Equal(t, "S256", q.Get("code_challenge_method"))
		assert.NotEmpty(t, q.Get("code_challenge"))
		assert.Equal(t, redirect, q.Get("redirect_uri"))
		assert.NotContains(t, u.String(), req.Verifier, "the verifier never leaves the server")
	})
	t.Run("VerifiedAndUnverified", func(t *testing.T) {
		p, login := h.New(t)
		for _, tt := range []struct {
			sub  string
			want bool
		}{{h.Verified, true}, {h.Unverified, false}} {
			req := newReq()
			id, err := p.Exchange(context.Background(), code(t, login, p, req, tt.sub), req, redirect)
			require.NoError(t, err)
			assert.Equal(t, tt.sub, id.Subject)
			assert.NotEmpty(t, id.Issuer)
			assert.Equal(t, tt.want, id.EmailVerified)
		}
	})
	t.Run("CodeRedeemsOnce", func(t *testing.T) {
		p, login := h.New(t)
		req := newReq()
		c := code(t, login, p, req, h.Verified)
		_, err := p.Exchange(context.Background(), c, req, redirect)
		require.NoError(t, err)
		_, err = p.Exchange(context.Background(), c, req, redirect)
		assert.ErrorIs(t, err, ports.ErrUnauthenticated)
	})
	t.Run("WrongVerifier", func(t *testing.T) {
		p, login := h.New(t)
		req := newReq()
		c := code(t, login, p, req, h.Verified)
		bad := req
		bad.Verifier = newReq().Verifier
		_, err := p.Exchange(context.Background(), c, bad, redirect)
		assert.ErrorIs(t, err, ports.ErrUnauthenticated)
	})
	t.Run("WrongNonce", func(t *testing.T) {
		p, login := h.New(t)
		req := newReq()
		c := code(t, login, p, req, h.Verified)
		bad := req
		bad.Nonce = newReq().Nonce
		_, err := p.Exchange(context.Background(), c, bad, redirect)
		assert.ErrorIs(t, err, ports.ErrUnauthenticated)
	})
}
