package app_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/internal/oidctest"
)

// countingTransport counts the discovery requests it carries.
type countingTransport struct {
	next      http.RoundTripper
	discovery atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
		c.discovery.Add(1)
	}
	return c.next.RoundTrip(r)
}

// TestSSOProvidersAreCached: a connection's provider is discovered once
// and reused; another secret, client or issuer is discovered anew, and a
// failed discovery is not remembered.
func TestSSOProvidersAreCached(t *testing.T) {
	iss := oidctest.New(t)
	ct := &countingTransport{next: iss.Client().Transport}
	build := app.SSOProviders(&http.Client{Transport: ct})
	ctx := context.Background()
	conn := auth.SSOClient{Name: "sso-a", Issuer: iss.URL(), ClientID: iss.ClientID(), ClientSecret: iss.ClientSecret()}

	p1, err := build(ctx, conn)
	require.NoError(t, err)
	p2, err := build(ctx, conn)
	require.NoError(t, err)
	require.True(t, p1 == p2, "the same connection reuses its provider")
	require.EqualValues(t, 1, ct.discovery.Load(), "discovered once")

	other := conn
	other.ClientSecret = "a rotated secret"
	p3, err := build(ctx, other)
	require.NoError(t, err)
	require.True(t, p1 != p3, "a changed secret builds a new provider")
	require.EqualValues(t, 2, ct.discovery.Load())

	iss.Close()
	bad := conn
	bad.ClientID = "another client"
	_, err = build(ctx, bad)
	require.Error(t, err, "the issuer is gone")
	_, err = build(ctx, bad)
	require.Error(t, err, "a failure is not cached")
	require.EqualValues(t, 4, ct.discovery.Load())
}
