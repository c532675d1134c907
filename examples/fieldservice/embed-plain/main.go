// Command embed-plain is the field-service app (examples/fieldservice's
// quoting package) embedded in Stockade without writing fx: app.Embed
// takes the app's schema, policy, link kind and routes, and returns the
// assembled Stockade — its API (with the app's routes under Stockade's
// guards), store and services — to start and stop.
//
//	STOCKADE_DATA_DIR=/tmp/fs go run ./examples/fieldservice/embed-plain
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

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/capability"
	"github.com/stockadehq/stockade/examples/fieldservice/quoting"
	"github.com/stockadehq/stockade/ports"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "embed-plain:", err)
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
	e, err := Build(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := e.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	return e.Stop(context.Background())
}

// Build assembles Stockade for cfg with the field-service app in it.
func Build(cfg app.Config) (*app.Embedded, error) {
	pg, err := quoting.Migrations(ports.DialectPostgres)
	if err != nil {
		return nil, err
	}
	lite, err := quoting.Migrations(ports.DialectSQLite)
	if err != nil {
		return nil, err
	}
	policy, err := quoting.Policy()
	if err != nil {
		return nil, err
	}
	return app.Embed(cfg, app.Embedding{
		Policy:  policy,
		Schemas: []app.AppSchema{{Name: quoting.SchemaName, Postgres: pg, SQLite: lite, Tables: []string{"customers", "quotes"}}},
		App: func(s app.Services) (app.AppParts, error) {
			q, err := quoting.NewQuotes(s.Store, s.Policy, nil)
			if err != nil {
				return app.AppParts{}, err
			}
			return app.AppParts{
				LinkKinds:  []capability.Kind{q.LinkKind()},
				LinkRoutes: []httpapi.LinkRoute{quoting.LinkRoute(q)},
				Routes:     quoting.Routes(q),
			}, nil
		},
		Landing: app.Landing{AfterSignIn: "/quotes", AfterAccept: "/welcome"},
	})
}
