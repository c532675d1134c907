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

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/examples/fieldservice/quoting"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
	"github.com/stockadehq/stockade/stockadetest"
)

// start builds and starts the app on SQLite in the test's temporary
// directory and returns the test kit's site over its API.
func start(t *testing.T) (stockadetest.Site, *app.Embedded) {
	t.Helper()
	cfg := app.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.HTTP.Addr = "127.0.0.1:0"
	require.NoError(t, app.PrepareDataDir(cfg))
	e, err := Build(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(t, e.Start(ctx))
	t.Cleanup(func() { _ = e.Stop(context.Background()) })
	return stockadetest.Site{Handler: e.API, PublicURL: cfg.HTTP.PublicURL, Store: e.Store, Users: e.Auth}, e
}

// appRoute keeps the field-service routes (and their HQ copies).
func appRoute(r httpapi.Route) bool {
	p := strings.TrimPrefix(r.Path, httpapi.HQPrefix)
	return strings.HasPrefix(p, "/quotes") || strings.HasPrefix(p, "/customers")
}

func TestQuotesUnderStockadesGuard(t *testing.T) {
	site, e := start(t)
	bobs, alices := stockadetest.NewShop(t, site.Store), stockadetest.NewShop(t, site.Store)
	dana := site.SignIn(t, bobs, ports.RoleSales)
	viewer := site.SignIn(t, bobs, ports.RoleViewer)
	erin := site.SignIn(t, alices, ports.RoleOwner)

	res, body := dana.Do(t, http.MethodPost, "/customers", `{"name":"Mrs. Patel"}`)
	require.Equal(t, http.StatusCreated, res.StatusCode, body)
	var cust quoting.Customer
	require.NoError(t, json.Unmarshal([]byte(body), &cust))

	stockadetest.RunScenarios(t, []stockadetest.Scenario{
		{Name: "sales quotes", As: dana, Method: http.MethodPost, Path: "/quotes", Body: `{"customer_id":"` + cust.ID + `","title":"Boiler","cents":5}`, Status: http.StatusCreated, BodyContains: "Boiler"},
		{Name: "a viewer may not", As: viewer, Method: http.MethodPost, Path: "/quotes", Body: `{"customer_id":"` + cust.ID + `","title":"No","cents":5}`, Status: http.StatusForbidden},
		{Name: "another shop's owner on this host", As: erin.On(dana.Host), Method: http.MethodPost, Path: "/customers", Body: `{"name":"X"}`, Status: http.StatusUnauthorized},
	})
	t.Run("AttackMatrix", func(t *testing.T) {
		stockadetest.AttackMatrix(t, e.API.Routes(), erin, dana, appRoute)
	})
	t.Run("UnguardedRouteFailsTheMatrix", func(t *testing.T) {
		porttest.ExpectFailure(t, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.Handle("/", e.API)
			mux.HandleFunc("POST /quotes-import", func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusCreated) // forgot the guard
			})
			routes := append(e.API.Routes(), httpapi.Route{Method: http.MethodPost, Path: "/quotes-import", Access: httpapi.AccessSession, OnShop: true, Permission: quoting.QuotesWrite})
			bare := site
			bare.Handler = mux
			attacker, victim := erin, dana
			attacker.Site, victim.Site = bare, bare
			stockadetest.AttackMatrix(t, routes, attacker, victim, appRoute)
		}, "POST /quotes-import by another shop's member")
	})
}

// TestUnguardedAppRouteRefused: Embed refuses an app route without a
// permission.
func TestUnguardedAppRouteRefused(t *testing.T) {
	cfg := app.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	require.NoError(t, app.PrepareDataDir(cfg))
	_, err := app.Embed(cfg, app.Embedding{LogOutput: io.Discard, App: func(app.Services) (app.AppParts, error) {
		return app.AppParts{Routes: []httpapi.AppRoute{{Method: http.MethodGet, Path: "/quotes-export", Handler: http.NotFoundHandler()}}}, nil
	}})
	require.ErrorContains(t, err, "a permission is required")
}
