package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/sqlite"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

// migratedFile returns the URL and path of a database at Stockade's
// current schema.
func migratedFile(t *testing.T) (url, path string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "stockade.db")
	url = "sqlite://" + path
	_, err := sqlite.Migrate(context.Background(), url)
	require.NoError(t, err)
	return url, path
}

// rawExec runs stmt on the database file at path, outside the adapter.
func rawExec(t *testing.T, path, stmt string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(stmt)
	require.NoError(t, err)
}

// notesDeclared declares porttest_notes to the store's tenant wall, as an
// app reaching it through tx.SQL() must.
func notesDeclared() sqlite.Option {
	return sqlite.WithAppTables(ports.TenantTable{Name: porttest.AppNotesTable})
}

// notesReachable reports whether porttest_notes answers through tx.SQL().
func notesReachable(t *testing.T, s ports.Store) error {
	t.Helper()
	return s.InShop(context.Background(), ports.NewShopID(), func(ctx context.Context, tx ports.ShopTx) error {
		var n int
		return tx.SQL().QueryRowContext(ctx, "SELECT count(*) FROM "+porttest.AppNotesTable).Scan(&n)
	}, ports.ReadOnly())
}

func TestAppMigrationOneRunsAfterStockade(t *testing.T) {
	ctx := context.Background()
	url, _ := migratedFile(t)
	notes := porttest.AppNotesMigrations(ports.DialectSQLite)
	res, err := sqlite.MigrateApp(ctx, url, "porttest", notes)
	require.NoError(t, err)
	require.Equal(t, []int64{1}, res.Applied, "the app's migration 1 must run although Stockade's schema is far past 1")

	res, err = sqlite.MigrateApp(ctx, url, "porttest", notes)
	require.NoError(t, err)
	require.Empty(t, res.Applied, "idempotent")
	_, err = sqlite.Migrate(ctx, url)
	require.NoError(t, err, "Stockade's migrate after the app's")

	s, err := sqlite.Open(ctx, url, sqlite.WithAppMigrations("porttest", notes), notesDeclared())
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, notesReachable(t, s))
}

func TestAppMigrationsOpenChecksThem(t *testing.T) {
	ctx := context.Background()
	url, _ := migratedFile(t)
	_, err := sqlite.Open(ctx, url, sqlite.WithAppMigrations("porttest", porttest.AppNotesMigrations(ports.DialectSQLite)))
	require.ErrorIs(t, err, ports.ErrSchemaBehind, "a file database whose app migrations are pending")
	require.ErrorContains(t, err, "app porttest")

	_, err = sqlite.Open(ctx, url, sqlite.WithAppMigrations("Bad-Name", porttest.AppNotesMigrations(ports.DialectSQLite)))
	require.ErrorIs(t, err, ports.ErrInvalid)
}

func TestAppMigrationsInMemory(t *testing.T) {
	ctx := context.Background()
	_, err := sqlite.MigrateApp(ctx, "sqlite://:memory:", "porttest", porttest.AppNotesMigrations(ports.DialectSQLite))
	require.ErrorIs(t, err, ports.ErrInvalid)
	require.ErrorContains(t, err, "WithAppMigrations")

	s, err := sqlite.Open(ctx, "sqlite://:memory:", sqlite.WithAppMigrations("porttest", porttest.AppNotesMigrations(ports.DialectSQLite)), notesDeclared())
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, notesReachable(t, s), "Open applies the app's migrations to an in-memory database")
}

func TestNewerAppSchemaDoesNotStopStockade(t *testing.T) {
	ctx := context.Background()
	url, path := migratedFile(t)
	notes := porttest.AppNotesMigrations(ports.DialectSQLite)
	_, err := sqlite.MigrateApp(ctx, url, "porttest", notes)
	require.NoError(t, err)
	// A newer release of the app migrated this database to its version 2.
	rawExec(t, path, "INSERT INTO stockade_app_porttest_versions (version_id, is_applied) VALUES (2, 1)")

	s, err := sqlite.Open(ctx, url)
	require.NoError(t, err, "Stockade alone opens whatever the app's schema")
	require.NoError(t, s.Close())
	_, err = sqlite.Migrate(ctx, url)
	require.NoError(t, err, "Stockade's migrate ignores the app's versions")

	// The older app build refuses its own newer schema.
	_, err = sqlite.MigrateApp(ctx, url, "porttest", notes)
	require.ErrorIs(t, err, ports.ErrSchemaTooNew)
	_, err = sqlite.Open(ctx, url, sqlite.WithAppMigrations("porttest", notes))
	require.ErrorIs(t, err, ports.ErrSchemaTooNew)
}

func TestNewerStockadeSchemaStillRefused(t *testing.T) {
	ctx := context.Background()
	url, path := migratedFile(t)
	notes := porttest.AppNotesMigrations(ports.DialectSQLite)
	_, err := sqlite.MigrateApp(ctx, url, "porttest", notes)
	require.NoError(t, err)
	rawExec(t, path, "INSERT INTO stockade_schema_migrations (version_id, is_applied) VALUES (9999, 1)")

	_, err = sqlite.Open(ctx, url, sqlite.WithAppMigrations("porttest", notes))
	require.ErrorIs(t, err, ports.ErrSchemaTooNew)
	_, err = sqlite.MigrateApp(ctx, url, "porttest", notes)
	require.True(t, errors.Is(err, ports.ErrSchemaTooNew), "MigrateApp on a newer Stockade schema = %v", err)
}
