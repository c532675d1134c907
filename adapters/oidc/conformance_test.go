package oidc_test

import (
	"net/url"
	"testing"

	"github.com/stockadehq/stockade/internal/oidctest"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

func TestIdentityProviderConformance(t *testing.T) {
	porttest.TestIdentityProvider(t, porttest.IdentityProviderHarness{
		Verified:   "alice",
		Unverified: "mallory",
		New: func(t *testing.T) (ports.IdentityProvider, func(*testing.T, string, string) *url.URL) {
			iss := oidctest.New(t)
			iss.AddUser(oidctest.User{Subject: "alice", Email: "alice@example.test", EmailVerified: true})
			iss.AddUser(oidctest.User{Subject: "mallory", Email: "alice@example.test", EmailVerified: false})
			return newProvider(t, iss), func(t *testing.T, authURL, sub string) *url.URL { return iss.Authorize(t, authURL, sub) }
		},
	})
}
