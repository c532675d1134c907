// Command embed-fx is the field-service app (examples/fieldservice's
// quoting package) embedded in Stockade with fx: its migrations run after
// Stockade's, its permissions extend the policy, quotes are a public
// link's record type, and its HTTP routes are registered with Stockade's
// router, so each gets CSRF protection, the shop from the host, the
// session, the permission check and the HQ copy, and appears in the route
// list, the OpenAPI document and the attack matrix.
//
//	STOCKADE_DATA_DIR=/tmp/fs go run ./examples/fieldservice/embed-fx
//
// It reads Stockade's usual settings (STOCKADE_* variables) and serves
// until interrupted.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/fx"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/core/capability"
	"github.com/stockadehq/stockade/examples/fieldservice/quoting"
	"github.com/stockadehq/stockade/ports"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "embed-fx:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := app.LoadConfig(os.Environ(), "")
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := app.PrepareDataDir(cfg); err != nil {
		return err
	}
	opt, err := Module()
	if err != nil {
		return err
	}
	a := app.New(cfg, opt)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := a.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	return a.Stop(context.Background())
}

// Module is the field-service app as fx options to add to app.New.
func Module() (fx.Option, error) {
	pg, err := quoting.Migrations(ports.DialectPostgres)
	if err != nil {
		return nil, err
	}
	lite, err := quoting.Migrations(ports.DialectSQLite)
	if err != nil {
		return nil, err
	}
	return fx.Options(
		app.AppMigrations(quoting.SchemaName, pg, lite, "customers", "quotes"),
		// The default matrix plus quotes.read and quotes.write.
		fx.Decorate(func(*access.Policy) (*access.Policy, error) { return quoting.Policy() }),
		fx.Provide(func(st ports.Store, p *access.Policy) (*quoting.Quotes, error) { return quoting.NewQuotes(st, p, nil) }),
		app.LinkKind(func(q *quoting.Quotes) capability.Kind { return q.LinkKind() }),
		app.LinkRoute(quoting.LinkRoute),
		app.Route(quoting.Routes),
		// An HTML page of the app's own that shows the impersonation banner.
		app.Route(func(d boardDeps) (httpapi.AppRoute, error) { return BoardRoute(d.Auth, d.Web) }),
		// Magic links and invitations land on the app's pages, not "/".
		app.WithLanding(app.Landing{AfterSignIn: BoardPath, AfterAccept: BoardPath}),
	), nil
}

// boardDeps are the jobs board's parts from the graph: the pages' options
// (app.WithWeb), when the app restyles them, so the board's banner is the
// pages' one.
type boardDeps struct {
	fx.In
	Auth *auth.Service
	Web  web.Options `optional:"true"`
}
