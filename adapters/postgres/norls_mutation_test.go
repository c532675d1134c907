//go:build mutation

package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

// TestStoreConformanceWithoutRLS runs the store suite with row-level
// security switched off on every table (the owner turns it off after
// migrating), so that only the adapter's own shop predicates and bindings
// keep shops apart. Under RLS a mutant that drops a predicate is hidden by
// the policy; here the suite must notice it, as on SQLite. Built only with
// -tags mutation, for scripts/mutate-shop-predicates.sh postgres: a
// production database always has RLS on, and Open's checks assume it.
// The suite runs in parallel (each store is its own database) with the
// features TestStoreConformance declares; porttest's notes table, an app
// table, keeps its RLS (the mutants are Stockade's SQL, not the app's).
func TestStoreConformanceWithoutRLS(t *testing.T) {
	porttest.TestStoreSuite(t, porttest.StoreSuite{Features: features(), Parallel: true, New: func(t *testing.T) ports.Store {
		ctx := context.Background()
		pg := testinfra.StartPostgres(t)
		_, err := postgres.Migrate(ctx, pg.OwnerURL)
		require.NoError(t, err)
		_, err = postgres.MigrateApp(ctx, pg.OwnerURL, "porttest", porttest.AppNotesMigrations(ports.DialectPostgres))
		require.NoError(t, err)
		owner := sqlx.MustConnect("pgx", pg.OwnerURL)
		defer owner.Close()
		var tables []string
		require.NoError(t, owner.Select(&tables, `SELECT c.relname FROM pg_class c
			JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relrowsecurity AND c.relname <> $1`, porttest.AppNotesTable))
		require.NotEmpty(t, tables)
		for _, table := range tables {
			_, err := owner.Exec(`ALTER TABLE ` + pgx.Identifier{table}.Sanitize() + ` NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY`)
			require.NoError(t, err)
		}
		s, err := postgres.Open(ctx, pg.AppURL, postgres.WithAppTables(ports.TenantTable{Name: porttest.AppNotesTable}))
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}})
}
