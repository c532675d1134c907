package cli

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/stockadehq/stockade/app"
)

func newMigrateCmd(load func(*cobra.Command) (app.Config, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations",
		Long: `Apply the embedded schema migrations to the configured database.

SQLite: the database at STOCKADE_DATABASE_URL (default <data dir>/stockade.db)
is created if missing. Postgres: migrations run as the schema owner role at
STOCKADE_DATABASE_MIGRATE_URL. Running it again when the schema is current
changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := load(c)
			if err != nil {
				return err
			}
			if err := app.PrepareDataDir(cfg); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := app.Migrate(ctx, cfg)
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			if len(res.Applied) == 0 {
				_, err = fmt.Fprintf(out, "schema is current at version %d\n", res.To)
				return err
			}
			_, err = fmt.Fprintf(out, "migrated %s from version %d to %d (applied %d)\n",
				app.MigrationTarget(cfg), res.From, res.To, len(res.Applied))
			return err
		},
	}
}
