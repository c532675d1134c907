package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/fx"

	"github.com/stockadehq/stockade/app"
)

// startTimeout bounds starting the server. It is longer than
// app.StoreOpenTimeout so that an unreachable database is reported by the
// store (naming the setting), not as fx's bare deadline.
const startTimeout = app.StoreOpenTimeout + 5*time.Second

// stopGrace is added to the HTTP shutdown timeout for the other stop hooks
// (closing the store, syncing logs).
const stopGrace = 5 * time.Second

func newServeCmd(load func(*cobra.Command) (app.Config, error), logOut io.Writer, apps []app.AppSchema) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP server",
		Long: `Run the HTTP server until SIGINT or SIGTERM, then shut down gracefully.

At start the data directory is created if missing, the embedded SQLite database
is migrated (Postgres: when STOCKADE_DATABASE_MIGRATE_URL is set), and the
address actually bound is logged as "listening".

Unless GOMEMLIMIT is set, the Go runtime gets a soft memory limit of the
password hasher's budget (concurrent hashes × Argon2 memory) plus 64 MiB.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := load(c)
			if err != nil {
				return err
			}
			if err := app.PrepareDataDir(cfg); err != nil {
				return err
			}
			if os.Getenv("GOMEMLIMIT") == "" {
				debug.SetMemoryLimit(app.MemoryLimit(cfg))
			}
			return serve(c.Context(), cfg, logOut, apps...)
		},
	}
}

// serve runs the fx application until a signal arrives. A clean stop
// returns nil. The apps' migrations are applied after Stockade's where the
// store migrates (see app.AppMigrations).
func serve(ctx context.Context, cfg app.Config, logOut io.Writer, apps ...app.AppSchema) error {
	ctx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	extra := []fx.Option{app.WithLogOutput(logOut)}
	for _, a := range apps {
		extra = append(extra, app.AppMigrations(a.Name, a.Postgres, a.SQLite))
	}
	fxApp := app.New(cfg, extra...)
	if err := fxApp.Err(); err != nil {
		return err
	}
	startCtx, cancel := context.WithTimeout(ctx, startTimeout)
	err := fxApp.Start(startCtx)
	cancel()
	switch {
	case err != nil && ctx.Err() != nil:
		return errors.New("interrupted while starting")
	case err == context.DeadlineExceeded: // bare: fx gave up; a wrapped one is the store's clearer message
		return fmt.Errorf("start: not ready within %s", startTimeout)
	case err != nil:
		return err // fx has already stopped what had started
	}

	<-ctx.Done()
	stopSignals() // a second signal now kills the process the default way

	stopCtx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout+stopGrace)
	defer cancel()
	return fxApp.Stop(stopCtx)
}
