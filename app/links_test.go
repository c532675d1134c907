package app_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/capability"
	"github.com/stockadehq/stockade/core/tenancy"
	"github.com/stockadehq/stockade/ports"
)

// TestAppRegistersAnAppsLinkKindsAndRoutes embeds Stockade with fx and adds
// a record type and its public route the way an app does (app.LinkKind,
// app.LinkRoute): a link minted for one of the app's quotes opens that
// quote's page on the served shop host, and nothing else.
func TestAppRegistersAnAppsLinkKindsAndRoutes(t *testing.T) {
	cfg := fxConfig(t)
	var logs syncBuffer
	var srv *app.Server
	var links *capability.Service
	var ten *tenancy.Service
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc, err := access.RequireRecord(r.Context(), "quote", r.PathValue("quote"), "view")
		if err != nil {
			httpapi.WriteProblem(w, r, err)
			return
		}
		_, _ = io.WriteString(w, "quote "+sc.Capability.RecordID)
	})
	a := app.New(cfg, app.WithLogOutput(&logs), fx.Populate(&srv, &links, &ten),
		app.LinkKind(capability.Kind{Type: "quote", Actions: []string{"view", "accept"}}),
		app.LinkRoute(httpapi.LinkRoute{Method: "GET", Path: "/p/quotes/{quote}", RecordType: "quote", RecordParam: "quote", Action: "view", Handler: page}),
	)
	require.NoError(t, a.Err())
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	require.NoError(t, a.Start(ctx))
	defer func() { require.NoError(t, a.Stop(ctx)) }()

	assert.Equal(t, []string{"file", "quote"}, links.Kinds())
	sys := access.With(ctx, access.Scope{System: "test"})
	_, shop, err := ten.CreateOrg(sys, tenancy.NewOrg{Name: "Acme", Slug: "acme"})
	require.NoError(t, err)
	m, err := links.Mint(access.System(ctx, shop.ID, shop.OrgID, "test"), capability.MintInput{RecordType: "quote", RecordID: "Q-7", Actions: []string{"view"}})
	require.NoError(t, err)

	open := func(path string) (int, string) {
		req, err := http.NewRequest("GET", "http://"+srv.Addr().String()+path, nil)
		require.NoError(t, err)
		req.Host = "acme.localhost"
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	code, body := open("/p/quotes/Q-7?token=" + m.Token)
	assert.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, "quote Q-7", body)
	code, _ = open("/p/quotes/Q-8?token=" + m.Token)
	assert.Equal(t, http.StatusNotFound, code, "another quote")
	_, err = links.Mint(access.System(ctx, shop.ID, shop.OrgID, "test"), capability.MintInput{RecordType: "invoice", RecordID: "I-1", Actions: []string{"view"}})
	assert.ErrorIs(t, err, ports.ErrInvalid, "a record type nobody registered")
}

func TestLinksConfig(t *testing.T) {
	cfg, err := app.LoadConfig([]string{"STOCKADE_LINKS_DEFAULT_TTL=48h", "STOCKADE_LINKS_MAX_TTL=720h"}, "")
	require.NoError(t, err)
	assert.Equal(t, app.LinksConfig{DefaultTTL: 48 * time.Hour, MaxTTL: 720 * time.Hour}, cfg.Links)
	require.NoError(t, cfg.Validate())

	tests := []struct {
		name    string
		give    app.LinksConfig
		setting string
	}{
		{"negative default", app.LinksConfig{DefaultTTL: -time.Hour}, "STOCKADE_LINKS_DEFAULT_TTL"},
		{"negative maximum", app.LinksConfig{MaxTTL: -time.Hour}, "STOCKADE_LINKS_MAX_TTL"},
		{"default above maximum", app.LinksConfig{DefaultTTL: 2 * time.Hour, MaxTTL: time.Hour}, "STOCKADE_LINKS_DEFAULT_TTL"},
		{"default above the built-in maximum", app.LinksConfig{DefaultTTL: 91 * 24 * time.Hour}, "STOCKADE_LINKS_DEFAULT_TTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := app.Default()
			cfg.Links = tt.give
			err := cfg.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.setting)
		})
	}
}
