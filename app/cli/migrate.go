package cli

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/internal/sqlmigrate"
)

func newMigrateCmd(load func(*cobra.Command) (app.Config, error), apps []app.AppSchema) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations",
		Long: `Apply the embedded schema migrations to the configured database.

SQLite: the database at STOCKADE_DATABASE_URL (default <data dir>/stockade.db)
is created if missing. Postgres: migrations run as the schema owner role at
STOCKADE_DATABASE_MIGRATE_URL. An embedding app's own migrations, if it has
any, are applied after Stockade's. Running it again when the schema is current
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
			m, err := app.MigrateAll(ctx, cfg, apps...)
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			if err := printMigration(out, app.MigrationTarget(cfg), "schema", m.Stockade); err != nil {
				return err
			}
			for _, a := range m.Apps {
				if err := printMigration(out, app.MigrationTarget(cfg), "app "+a.Name+" schema", a.Result); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// printMigration prints one line saying what migrating one schema did.
func printMigration(out io.Writer, target, what string, res sqlmigrate.Result) error {
	if len(res.Applied) == 0 {
		_, err := fmt.Fprintf(out, "%s is current at version %d\n", what, res.To)
		return err
	}
	prefix := "migrated "
	if what != "schema" {
		prefix += what + " of "
	}
	_, err := fmt.Fprintf(out, "%s%s from version %d to %d (applied %d)\n", prefix, target, res.From, res.To, len(res.Applied))
	return err
}
