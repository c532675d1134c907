package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// Stripe sends a browser whose onboarding link expired to the link's
// refresh_url with a GET. That GET changes nothing (a cross-site page
// could make the Owner's browser open it): it answers a page whose button
// posts back, and the POST — behind the cross-origin check — creates the
// Connect account and mints the fresh link. Guards billing.go's refresh
// routes.
func TestConnectRefreshGetIsSideEffectFree(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			w := newBillingMatrixWorld(t, pg)
			a := w.api(access.DefaultPolicy())
			owner, _ := w.signIn(a, "alpha", w.byRole[ports.RoleOwner].Email)
			before := len(billingEvents(t, w.raw, w.alpha.ID))

			res := a.send("GET", "/billing/connect/refresh", "alpha", owner, "", "")
			body := readBody(t, res)
			require.Equal(t, http.StatusOK, res.StatusCode, body)
			assert.Contains(t, body, `<form method="post" action="/billing/connect/refresh">`)
			assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
			assert.Empty(t, billingOf(t, w.raw, w.alpha.ID).ConnectAccountID, "the GET created no Connect account")
			assert.Len(t, billingEvents(t, w.raw, w.alpha.ID), before, "the GET changed nothing")

			// A cross-site form post is refused and changes nothing.
			req := httptest.NewRequest("POST", "/billing/connect/refresh", nil)
			req.Host = "alpha.example.test"
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			req.Header.Set("Origin", "https://evil.example")
			req.AddCookie(&http.Cookie{Name: "__Host-stockade_session", Value: owner})
			rec := httptest.NewRecorder()
			a.api.ServeHTTP(rec, req)
			assert.Equal(t, http.StatusForbidden, rec.Code)
			assert.Empty(t, billingOf(t, w.raw, w.alpha.ID).ConnectAccountID)

			// The page's own post mints the link.
			res = a.send("POST", "/billing/connect/refresh", "alpha", owner, "", "")
			require.Equal(t, http.StatusSeeOther, res.StatusCode, readBody(t, res))
			assert.True(t, strings.HasPrefix(res.Header.Get("Location"), "https://"), res.Header.Get("Location"))
			assert.Regexp(t, `^acct_`, billingOf(t, w.raw, w.alpha.ID).ConnectAccountID)
		})
	}
}
