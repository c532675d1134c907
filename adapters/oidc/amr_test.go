package oidc_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/internal/oidctest"
)

// TestExchangeAMR: the ID token's amr claim reaches the identity as
// asserted; its absence is empty.
func TestExchangeAMR(t *testing.T) {
	iss := oidctest.New(t)
	iss.AddUser(oidctest.User{Subject: "mfa", Email: "m@example.com", EmailVerified: true, AMR: []string{"pwd", "otp"}})
	iss.AddUser(oidctest.User{Subject: "plain", Email: "p@example.com", EmailVerified: true})
	p := newProvider(t, iss)
	for sub, want := range map[string][]string{"mfa": {"pwd", "otp"}, "plain": nil} {
		req := newRequest(t)
		id, err := p.Exchange(t.Context(), signIn(t, p, iss, sub, req), req, redirectURL)
		require.NoError(t, err)
		assert.Equal(t, want, id.AMR, sub)
	}
}
