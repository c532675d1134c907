package app_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/fx"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

const widgetsWrite access.Permission = "widgets.write"

func widgetsPolicy(t *testing.T) *access.Policy {
	t.Helper()
	p, err := access.NewPolicy(access.Grant{Permission: widgetsWrite, Roles: []ports.Role{ports.RoleOwner}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var noop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

// listed returns the routes of api at path or at its HQ copy.
func listed(api *httpapi.API, path string) []httpapi.Route {
	var out []httpapi.Route
	for _, r := range api.Routes() {
		if r.Path == path || r.Path == httpapi.HQPrefix+path {
			out = append(out, r)
		}
	}
	return out
}

// TestRouteWithFx: app.Route takes a route or an fx constructor of one;
// the route is served behind the guards, HQ copy included, and an
// unguarded one stops the app.
func TestRouteWithFx(t *testing.T) {
	p := widgetsPolicy(t)
	var api *httpapi.API
	a := app.New(fxConfig(t), app.WithLogOutput(io.Discard),
		fx.Decorate(func(*access.Policy) *access.Policy { return p }),
		app.Route(httpapi.AppRoute{Method: http.MethodGet, Path: "/gadgets", Permission: access.ShopRead, Handler: noop}),
		app.Route([]httpapi.AppRoute{{Method: http.MethodGet, Path: "/gizmos", Permission: access.ShopRead, Handler: noop}}),
		app.Route(func(p *access.Policy) httpapi.AppRoute {
			return httpapi.AppRoute{Method: http.MethodPost, Path: "/widgets", Permission: widgetsWrite, HQ: true, Handler: noop}
		}),
		fx.Populate(&api))
	if err := a.Err(); err != nil {
		t.Fatal(err)
	}
	if got := listed(api, "/gadgets"); len(got) != 1 || got[0].Permission != access.ShopRead {
		t.Errorf("/gadgets listed as %+v", got)
	}
	if got := listed(api, "/gizmos"); len(got) != 1 {
		t.Errorf("/gizmos listed as %+v", got)
	}
	got := listed(api, "/widgets")
	if len(got) != 2 || !got[1].ViaHQ || got[0].Permission != widgetsWrite || got[0].Access != httpapi.AccessSession {
		t.Errorf("/widgets listed as %+v, want it and its HQ copy, session routes guarding %s", got, widgetsWrite)
	}

	for name, opt := range map[string]fx.Option{
		"no permission": app.Route(httpapi.AppRoute{Method: http.MethodGet, Path: "/open", Handler: noop}),
		"unknown permission": app.Route(func() httpapi.AppRoute {
			return httpapi.AppRoute{Method: http.MethodGet, Path: "/open", Permission: "nobody.knows", Handler: noop}
		}),
		"not a route": app.Route(func() string { return "/open" }),
	} {
		t.Run(name, func(t *testing.T) {
			var h http.Handler
			a := app.New(fxConfig(t), app.WithLogOutput(io.Discard), opt, fx.Populate(&h))
			if err := a.Err(); err == nil {
				t.Fatalf("the app assembled with an unguarded route")
			}
		})
	}
}

// TestEmbedPlain: Embed assembles without the caller writing fx; the
// app's parts are built over Stockade's store and policy.
func TestEmbedPlain(t *testing.T) {
	p := widgetsPolicy(t)
	var seen app.Services
	e, err := app.Embed(fxConfig(t), app.Embedding{
		Policy: p, LogOutput: io.Discard,
		App: func(s app.Services) (app.AppParts, error) {
			seen = s
			return app.AppParts{Routes: []httpapi.AppRoute{{Method: http.MethodPost, Path: "/widgets", Permission: widgetsWrite, Handler: noop}}}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen.Policy != p || e.Policy != p || seen.Store == nil || e.Store == nil || e.Auth == nil {
		t.Errorf("Embed's services: %+v, embedded %+v", seen, e)
	}
	if got := listed(e.API, "/widgets"); len(got) != 1 || got[0].Permission != widgetsWrite {
		t.Errorf("/widgets listed as %+v, want one session route guarding %s", got, widgetsWrite)
	}

	_, err = app.Embed(fxConfig(t), app.Embedding{LogOutput: io.Discard, App: func(app.Services) (app.AppParts, error) {
		return app.AppParts{Routes: []httpapi.AppRoute{{Method: http.MethodGet, Path: "/open", Handler: noop}}}, nil
	}})
	if err == nil || !strings.Contains(err.Error(), "permission is required") {
		t.Errorf("Embed with an unguarded route: err = %v", err)
	}
}
