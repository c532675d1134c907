package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

const appWrite access.Permission = "widgets.write"

// withAppRoute rebuilds h's handler with one app route, POST /widgets
// (appWrite: owners and admins), also served under HQPrefix, whose
// handler answers the caller's shop and records that it ran.
func withAppRoute(t *testing.T, h *harness) (ran *int) {
	t.Helper()
	policy, err := access.NewPolicy(access.Grant{Permission: appWrite, Roles: []ports.Role{ports.RoleOwner, ports.RoleAdmin}})
	require.NoError(t, err)
	shops, err := httpapi.NewHostShops(h.raw, "https://example.test", h.clock)
	require.NoError(t, err)
	ran = new(int)
	h.handler = httpapi.NewHandler(httpapi.Deps{
		Auth: &httpapi.AuthDeps{Service: h.svc, Shops: shops},
		App: &httpapi.AppDeps{Policy: policy, Routes: []httpapi.AppRoute{{
			Method: http.MethodPost, Path: "/widgets", Permission: appWrite, HQ: true,
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				*ran++
				sc, _ := access.From(r.Context())
				_ = json.NewEncoder(w).Encode(map[string]string{"shop": sc.Shop.String()})
			}),
		}}},
	})
	return ran
}

// TestAppRouteGuarded: an app's route gets the session, the shop from the
// host, the permission check and CSRF like Stockade's own, and is listed.
func TestAppRouteGuarded(t *testing.T) {
	h := newHarness(t)
	ran := withAppRoute(t, h)
	ann, _ := h.signIn("acme.example.test", "ann@example.test", annPassword)
	tom, _ := h.signIn("acme.example.test", "tom@example.test", tomPassword)

	res := h.serve(call{method: http.MethodPost, path: "/widgets", cookie: ann})
	body := readBody(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	assert.JSONEq(t, `{"shop":"`+h.acme.ID.String()+`"}`, body, "the scope is the host's shop")
	require.Equal(t, 1, *ran)

	for name, c := range map[string]call{
		"no session":                      {method: http.MethodPost, path: "/widgets"},
		"a tech lacks the app permission": {method: http.MethodPost, path: "/widgets", cookie: tom},
		"acme's session on bolt's host":   {method: http.MethodPost, path: "/widgets", cookie: ann, host: "bolt.example.test"},
		"a cross-origin post":             {method: http.MethodPost, path: "/widgets", cookie: ann, header: http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		"an unknown host":                 {method: http.MethodPost, path: "/widgets", cookie: ann, host: "nope.example.test"},
	} {
		t.Run(name, func(t *testing.T) {
			res := h.serve(c)
			assert.Contains(t, []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound}, res.StatusCode, readBody(t, res))
			assert.Equal(t, 1, *ran, "the app's handler must not run")
		})
	}

	api, ok := h.handler.(*httpapi.API)
	require.True(t, ok)
	var listed []httpapi.Route
	for _, r := range api.Routes() {
		if r.Path == "/widgets" || r.Path == httpapi.HQPrefix+"/widgets" {
			listed = append(listed, r)
		}
	}
	require.Len(t, listed, 1, "the route is listed (its HQ copy needs Deps.Tenancy, absent here)")
	for _, r := range listed {
		assert.Equal(t, httpapi.AccessSession, r.Access)
		assert.True(t, r.OnShop)
		assert.Equal(t, appWrite, r.Permission)
	}
}

// TestAppRouteWithoutGuardRefused: an app route without a permission, or
// with one the policy does not know, is never registered.
func TestAppRouteWithoutGuardRefused(t *testing.T) {
	h := newHarness(t)
	shops, err := httpapi.NewHostShops(h.raw, "https://example.test", h.clock)
	require.NoError(t, err)
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for name, r := range map[string]httpapi.AppRoute{
		"no permission":         {Method: http.MethodGet, Path: "/open", Handler: ok},
		"unknown permission":    {Method: http.MethodGet, Path: "/open", Permission: "nobody.knows", Handler: ok},
		"under the link prefix": {Method: http.MethodGet, Path: httpapi.LinkPrefix + "open", Permission: access.ShopRead, Handler: ok},
	} {
		t.Run(name, func(t *testing.T) {
			d := httpapi.AppDeps{Policy: access.DefaultPolicy(), Routes: []httpapi.AppRoute{r}}
			require.Error(t, d.Validate())
			assert.Panics(t, func() {
				httpapi.New(httpapi.Deps{Auth: &httpapi.AuthDeps{Service: h.svc, Shops: shops}, App: &d})
			})
		})
	}
	assert.False(t, slices.ContainsFunc(httpapi.New(httpapi.Deps{}).Routes(), func(r httpapi.Route) bool { return r.Path == "/open" }))
}

// TestMagicLinkFormLandsOnAfterSignIn: with AuthDeps.AfterSignIn set, a
// magic link's form post redirects there instead of "/".
func TestMagicLinkFormLandsOnAfterSignIn(t *testing.T) {
	h := newHarness(t)
	shops, err := httpapi.NewHostShops(h.raw, "https://example.test", h.clock)
	require.NoError(t, err)
	h.handler = httpapi.NewHandler(httpapi.Deps{Auth: &httpapi.AuthDeps{Service: h.svc, Shops: shops, AfterSignIn: "/app/home"}})
	require.Equal(t, http.StatusAccepted, h.requestLink("acme.example.test", "tom@example.test").StatusCode)
	_, token := h.mailer.lastLink(t)
	res := h.serve(call{method: http.MethodPost, path: "/auth/magic-link/consume", body: url.Values{"token": {token}}.Encode(),
		contentType: "application/x-www-form-urlencoded"})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/app/home", res.Header.Get("Location"))
	assert.Equal(t, http.StatusOK, h.me("acme.example.test", sessionCookie(t, res)))
}
