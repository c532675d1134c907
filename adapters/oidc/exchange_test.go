package oidc_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/oidc"
	"github.com/stockadehq/stockade/internal/oidctest"
	"github.com/stockadehq/stockade/ports"
)

// attempt is one sign-in that reached the callback: what Exchange is
// called with unless a case changes it.
type attempt struct {
	iss      *oidctest.Issuer
	p        *oidc.Provider
	code     string
	req      ports.AuthRequest
	redirect string
}

func newAttempt(t *testing.T) *attempt {
	t.Helper()
	iss := oidctest.New(t)
	ada := oidctest.User{Subject: "ada", Email: "ada@example.com", EmailVerified: true, Name: "Ada"}
	iss.AddUser(ada)
	p := newProvider(t, iss)
	req := newRequest(t)
	return &attempt{iss: iss, p: p, req: req, redirect: redirectURL, code: signIn(t, p, iss, ada.Subject, req)}
}

func (a *attempt) exchange(t *testing.T) (ports.ExternalIdentity, error) {
	t.Helper()
	return a.p.Exchange(t.Context(), a.code, a.req, a.redirect)
}

// assertNoSecrets checks err names none of the attempt's secrets.
func assertNoSecrets(t *testing.T, a *attempt, err error) {
	t.Helper()
	for _, secret := range []string{a.code, a.req.Verifier, a.req.Nonce, a.iss.ClientSecret()} {
		if secret != "" {
			assert.NotContains(t, err.Error(), secret)
		}
	}
}

func TestExchangeUnauthenticated(t *testing.T) {
	tests := []struct {
		name string
		give func(t *testing.T, a *attempt) // bends the attempt before Exchange
	}{
		{"wrong verifier", func(t *testing.T, a *attempt) { a.req.Verifier = random32(t) }},
		{"replayed code", func(t *testing.T, a *attempt) {
			_, err := a.exchange(t)
			require.NoError(t, err, "the first redemption")
		}},
		{"code replayed after a failed redemption", func(t *testing.T, a *attempt) {
			wrong := *a
			wrong.req.Verifier = random32(t)
			_, err := wrong.exchange(t)
			require.ErrorIs(t, err, ports.ErrUnauthenticated)
		}},
		{"unknown code", func(t *testing.T, a *attempt) { a.code = "not-a-code" }},
		{"no code", func(t *testing.T, a *attempt) { a.code = "" }},
		{"other redirect URL", func(t *testing.T, a *attempt) { a.redirect = "https://evil.example/callback" }},
		{"nonce mismatch", func(t *testing.T, a *attempt) { a.req.Nonce = random32(t) }},
		{"token signed by another key", func(_ *testing.T, a *attempt) { a.iss.SetFaults(oidctest.Faults{ForeignKey: true}) }},
		{"wrong audience", func(_ *testing.T, a *attempt) { a.iss.SetFaults(oidctest.Faults{WrongAudience: true}) }},
		{"expired token", func(_ *testing.T, a *attempt) { a.iss.SetFaults(oidctest.Faults{Expired: true}) }},
		{"wrong issuer", func(_ *testing.T, a *attempt) { a.iss.SetFaults(oidctest.Faults{WrongIssuer: true}) }},
		{"no id_token", func(_ *testing.T, a *attempt) { a.iss.SetFaults(oidctest.Faults{NoIDToken: true}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAttempt(t)
			tt.give(t, a)

			got, err := a.exchange(t)
			require.ErrorIs(t, err, ports.ErrUnauthenticated)
			assert.Equal(t, ports.ExternalIdentity{}, got)
			assertNoSecrets(t, a, err)
		})
	}
}

func TestExchangeUnavailable(t *testing.T) {
	tests := []struct {
		name string
		give func(a *attempt)
	}{
		{"issuer gone before the token request", func(a *attempt) { a.iss.Close() }},
		{"signing keys cannot be fetched", func(a *attempt) { a.iss.SetFaults(oidctest.Faults{JWKSDown: true}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAttempt(t)
			tt.give(a)

			_, err := a.exchange(t)
			require.ErrorIs(t, err, ports.ErrUnavailable)
			assertNoSecrets(t, a, err)
		})
	}
}

// TestExchangeInvalidRequest: a request that could not have protected the
// sign-in is the caller's bug, refused before the code is spent.
func TestExchangeInvalidRequest(t *testing.T) {
	tests := []struct {
		name string
		give func(t *testing.T, r *ports.AuthRequest)
	}{
		{"no nonce", func(_ *testing.T, r *ports.AuthRequest) { r.Nonce = "" }},
		{"short verifier", func(_ *testing.T, r *ports.AuthRequest) { r.Verifier = r.Verifier[:42] }},
		{"verifier with a space", func(_ *testing.T, r *ports.AuthRequest) { r.Verifier = r.Verifier[:42] + " " }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAttempt(t)
			bad := a.req
			tt.give(t, &bad)

			_, err := a.p.Exchange(t.Context(), a.code, bad, a.redirect)
			require.ErrorIs(t, err, ports.ErrInvalid)

			_, err = a.exchange(t)
			require.NoError(t, err, "the refused call did not spend the code")
		})
	}
}
