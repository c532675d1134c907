package postgres_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

// ownerExec runs stmt as the schema owner, outside the adapter.
func ownerExec(t *testing.T, pg testinfra.Postgres, stmt string) {
	t.Helper()
	db, err := sql.Open("pgx", pg.OwnerURL)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(stmt)
	require.NoError(t, err)
}

// TestAppMigrations: the app's migration 1 runs although Stockade's schema
// is far past 1, Open checks the app's schema only when asked, a newer app
// schema never stops Stockade, and a newer Stockade schema is still refused.
func TestAppMigrations(t *testing.T) {
	ctx := context.Background()
	pg := testinfra.StartPostgres(t)
	notes := porttest.AppNotesMigrations(ports.DialectPostgres)
	_, err := postgres.Migrate(ctx, pg.OwnerURL)
	require.NoError(t, err)

	_, err = postgres.Open(ctx, pg.AppURL, postgres.WithAppMigrations("porttest", notes))
	require.ErrorIs(t, err, ports.ErrSchemaBehind, "the app's migrations are pending")
	require.ErrorContains(t, err, "app porttest")

	res, err := postgres.MigrateApp(ctx, pg.OwnerURL, "porttest", notes)
	require.NoError(t, err)
	require.Equal(t, []int64{1}, res.Applied, "the app's migration 1 must run")
	res, err = postgres.MigrateApp(ctx, pg.OwnerURL, "porttest", notes)
	require.NoError(t, err)
	require.Empty(t, res.Applied, "idempotent")
	_, err = postgres.Migrate(ctx, pg.OwnerURL)
	require.NoError(t, err, "Stockade's migrate after the app's")

	s, err := postgres.Open(ctx, pg.AppURL, postgres.WithAppMigrations("porttest", notes),
		postgres.WithAppTables(ports.TenantTable{Name: porttest.AppNotesTable}))
	require.NoError(t, err, "as the app role, which reads the app's version table")
	require.NoError(t, s.InShop(ctx, ports.NewShopID(), func(ctx context.Context, tx ports.ShopTx) error {
		var n int
		return tx.SQL().QueryRowContext(ctx, "SELECT count(*) FROM "+porttest.AppNotesTable).Scan(&n)
	}, ports.ReadOnly()))
	require.NoError(t, s.Close())

	t.Run("NewerAppSchemaDoesNotStopStockade", func(t *testing.T) {
		ownerExec(t, pg, "INSERT INTO stockade_app_porttest_versions (version_id, is_applied) VALUES (2, true)")
		defer ownerExec(t, pg, "DELETE FROM stockade_app_porttest_versions WHERE version_id = 2")
		s, err := postgres.Open(ctx, pg.AppURL)
		require.NoError(t, err, "Stockade alone opens whatever the app's schema")
		require.NoError(t, s.Close())
		_, err = postgres.Migrate(ctx, pg.OwnerURL)
		require.NoError(t, err, "Stockade's migrate ignores the app's versions")
		// The older app build refuses its own newer schema.
		_, err = postgres.MigrateApp(ctx, pg.OwnerURL, "porttest", notes)
		require.ErrorIs(t, err, ports.ErrSchemaTooNew)
		_, err = postgres.Open(ctx, pg.AppURL, postgres.WithAppMigrations("porttest", notes))
		require.ErrorIs(t, err, ports.ErrSchemaTooNew)
	})

	t.Run("NewerStockadeSchemaStillRefused", func(t *testing.T) {
		ownerExec(t, pg, "INSERT INTO stockade_schema_migrations (version_id, is_applied) VALUES (9999, true)")
		defer ownerExec(t, pg, "DELETE FROM stockade_schema_migrations WHERE version_id = 9999")
		_, err := postgres.Open(ctx, pg.AppURL, postgres.WithAppMigrations("porttest", notes))
		require.ErrorIs(t, err, ports.ErrSchemaTooNew)
		_, err = postgres.MigrateApp(ctx, pg.OwnerURL, "porttest", notes)
		require.ErrorIs(t, err, ports.ErrSchemaTooNew)
	})
}
