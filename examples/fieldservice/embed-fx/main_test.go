package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/examples/fieldservice/quoting"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
	"github.com/stockadehq/stockade/stockadetest"
)

// config is Stockade's default configuration on SQLite in the test's
// temporary directory, listening on a free port.
func config(t *testing.T) app.Config {
	t.Helper()
	cfg := app.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.HTTP.Addr = "127.0.0.1:0"
	require.NoError(t, app.PrepareDataDir(cfg))
	return cfg
}

// start runs the app (Stockade with Module) and returns the test kit's
// site over its API.
func start(t *testing.T) (stockadetest.Site, *httpapi.API) {
	t.Helper()
	cfg := config(t)
	mod, err := Module()
	require.NoError(t, err)
	var api *httpapi.API
	var store ports.Store
	var users *auth.Service
	a := app.New(cfg, mod, app.WithLogOutput(io.Discard), fx.Populate(&api, &store, &users))
	require.NoError(t, a.Err())
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(t, a.Start(ctx))
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	return stockadetest.Site{Handler: api, PublicURL: cfg.HTTP.PublicURL, Store: store, Users: users}, api
}

// appRoute keeps the field-service routes (and their HQ copies).
func appRoute(r httpapi.Route) bool {
	p := strings.TrimPrefix(r.Path, httpapi.HQPrefix)
	return strings.HasPrefix(p, "/quotes") || strings.HasPrefix(p, "/customers")
}

func TestQuotesUnderStockadesGuard(t *testing.T) {
	site, api := start(t)
	bobs, alices := stockadetest.NewShop(t, site.Store), stockadetest.NewShop(t, site.Store)
	dana := site.SignIn(t, bobs, ports.RoleSales)
	tech := site.SignIn(t, bobs, ports.RoleTech)
	erin := site.SignIn(t, alices, ports.RoleSales)

	res, body := dana.Do(t, http.MethodPost, "/customers", `{"name":"Mrs. Patel"}`)
	require.Equal(t, http.StatusCreated, res.StatusCode, body)
	var cust quoting.Customer
	require.NoError(t, json.Unmarshal([]byte(body), &cust))
	res, body = dana.Do(t, http.MethodPost, "/quotes", `{"customer_id":"`+cust.ID+`","title":"Water heater","cents":189900}`)
	require.Equal(t, http.StatusCreated, res.StatusCode, body)
	var q quoting.Quote
	require.NoError(t, json.Unmarshal([]byte(body), &q))

	stockadetest.RunScenarios(t, []stockadetest.Scenario{
		{Name: "sales reads the quote", As: dana, Method: http.MethodGet, Path: "/quotes/" + q.ID, Status: http.StatusOK, BodyContains: "Water heater"},
		{Name: "a tech reads it", As: tech, Method: http.MethodGet, Path: "/quotes/" + q.ID, Status: http.StatusOK},
		{Name: "a tech lacks quotes.write", As: tech, Method: http.MethodPost, Path: "/customers", Body: `{"name":"X"}`, Status: http.StatusForbidden},
		{Name: "another shop's member on her own host", As: erin, Method: http.MethodGet, Path: "/quotes/" + q.ID, Status: http.StatusNotFound},
		{Name: "another shop's session on this host", As: erin.On(dana.Host), Method: http.MethodGet, Path: "/quotes/" + q.ID, Status: http.StatusUnauthorized},
		{Name: "no session", As: site.Anonymous(bobs), Method: http.MethodGet, Path: "/quotes/" + q.ID, Status: http.StatusUnauthorized},
		{Name: "a quote on another shop's customer", As: erin, Method: http.MethodPost, Path: "/quotes", Body: `{"customer_id":"` + cust.ID + `","title":"Poached","cents":1}`, Status: http.StatusNotFound},
	})

	t.Run("AttackMatrix", func(t *testing.T) {
		stockadetest.AttackMatrix(t, api.Routes(), erin, dana, appRoute)
	})
	t.Run("RoutesListed", func(t *testing.T) {
		var got []string
		for _, r := range api.Routes() {
			if appRoute(r) {
				require.Equal(t, httpapi.AccessSession, r.Access, r.Pattern())
				got = append(got, r.Pattern())
			}
		}
		require.ElementsMatch(t, []string{
			"POST /customers", "POST /quotes", "GET /quotes/{quote}",
			"POST " + httpapi.HQPrefix + "/quotes", "GET " + httpapi.HQPrefix + "/quotes/{quote}",
		}, got)
	})

	// A route mounted beside Stockade's router, as before app routes
	// existed, has none of its guards: the matrix must catch it.
	t.Run("UnguardedRouteFailsTheMatrix", func(t *testing.T) {
		porttest.ExpectFailure(t, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.Handle("/", api)
			mux.HandleFunc("GET /quotes-export", func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, "every quote") // forgot the guard
			})
			routes := append(api.Routes(), httpapi.Route{Method: http.MethodGet, Path: "/quotes-export", Access: httpapi.AccessSession, OnShop: true, Permission: quoting.QuotesRead})
			bare := site
			bare.Handler = mux
			attacker, victim := erin, dana
			attacker.Site, victim.Site = bare, bare
			stockadetest.AttackMatrix(t, routes, attacker, victim, appRoute)
		}, "GET /quotes-export by another shop's member", "GET /quotes-export by an anonymous caller")
	})
	// An unguarded handler that looks the record up itself answers 404 for
	// the matrix's made-up IDs: that is no refusal by Stockade's guard.
	t.Run("UnguardedRouteAnswering404FailsTheMatrix", func(t *testing.T) {
		porttest.ExpectFailure(t, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.Handle("/", api)
			mux.HandleFunc("GET /quotes-archive/{quote}", func(w http.ResponseWriter, r *http.Request) {
				http.NotFound(w, r) // forgot the guard; no such quote anywhere
			})
			routes := append(api.Routes(), httpapi.Route{Method: http.MethodGet, Path: "/quotes-archive/{quote}", Access: httpapi.AccessSession, OnShop: true, Permission: quoting.QuotesRead})
			bare := site
			bare.Handler = mux
			attacker, victim := erin, dana
			attacker.Site, victim.Site = bare, bare
			stockadetest.AttackMatrix(t, routes, attacker, victim, appRoute)
		}, "GET /quotes-archive/{quote} by another shop's member", "GET /quotes-archive/{quote} by an anonymous caller")
	})
}

// TestUnguardedAppRouteRefused: registering an app route without a
// permission stops the app at assembly.
func TestUnguardedAppRouteRefused(t *testing.T) {
	mod, err := Module()
	require.NoError(t, err)
	a := app.New(config(t), mod, app.WithLogOutput(io.Discard),
		app.Route(httpapi.AppRoute{Method: http.MethodGet, Path: "/quotes-export", Handler: http.NotFoundHandler()}))
	require.ErrorContains(t, a.Err(), "a permission is required")
}

// TestAppRouteHiddenByAPageRefused: an app route at a page's method and
// path (the pages are served in front of the API) stops the app at
// assembly instead of never being reached.
func TestAppRouteHiddenByAPageRefused(t *testing.T) {
	mod, err := Module()
	require.NoError(t, err)
	a := app.New(config(t), mod, app.WithLogOutput(io.Discard),
		app.Route(httpapi.AppRoute{Method: http.MethodGet, Path: "/signin", Permission: quoting.QuotesRead, Handler: http.NotFoundHandler()}))
	require.ErrorContains(t, a.Err(), "is hidden by the page")
	ok := app.New(config(t), mod, app.WithLogOutput(io.Discard),
		app.Route(httpapi.AppRoute{Method: http.MethodGet, Path: "/account/quotes", Permission: quoting.QuotesRead, Handler: http.NotFoundHandler()}))
	require.NoError(t, ok.Err(), "a path no page serves is the app's")
}
