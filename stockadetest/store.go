package stockadetest

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/adapters/sqlite"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
)

// Main runs the test binary's tests and then stops the PostgreSQL cluster
// [Postgres] started, if any, removing its files. Call it from TestMain in
// every test binary that uses [Postgres] (tests using only [SQLite] need
// not):
//
//	func TestMain(m *testing.M) { os.Exit(stockadetest.Main(m)) }
//
// It returns m.Run's exit code, or 1 instead of 0 when the cluster could
// not be stopped cleanly. When tests skipped because PostgreSQL is not
// installed, it prints one line saying how many and how to get it, which
// a plain `go test ./...` shows too. Call it at most once per test binary.
func Main(m *testing.M) int { return testinfra.Main(m) }

// Option configures the store [SQLite] or [Postgres] returns.
type Option func(*options)

type options struct {
	apps   []appMigrations
	tables []ports.TenantTable
	clock  ports.Clock
}

// appMigrations are one app's migrations for each store.
type appMigrations struct {
	name             string
	postgres, sqlite fs.FS
}

// forDialect returns the app's migrations for dialect (ports.DialectSQLite
// or ports.DialectPostgres), or an error naming the app when it brought
// none for that store.
func (a appMigrations) forDialect(dialect string) (fs.FS, error) {
	fsys := a.sqlite
	if dialect == ports.DialectPostgres {
		fsys = a.postgres
	}
	if fsys == nil {
		return nil, fmt.Errorf("stockadetest: app migrations %q: none for %s", a.name, dialect)
	}
	return fsys, nil
}

// WithAppMigrations adds the embedding app's migrations named name (goose
// SQL files at the root of each fs.FS, recorded in the app's own version
// table stockade_app_<name>_versions), as app.AppMigrations does with fx:
// postgres for [Postgres], sqlite for [SQLite]. They are applied after
// Stockade's, in the order the options were given, and checked when the
// store opens. A nil fs.FS is allowed for a store the app does not support;
// opening that store then fails the test.
func WithAppMigrations(name string, postgres, sqlite fs.FS) Option {
	return func(o *options) {
		o.apps = append(o.apps, appMigrations{name: name, postgres: postgres, sqlite: sqlite})
	}
}

// WithAppTables declares the app's tenant tables to the store
// (sqlite.WithAppTables, postgres.WithAppTables): on SQLite the tenant
// wall covers them, on Postgres the store refuses to open unless the app's
// migrations made each a tenant table (SELECT stockade_tenant_table('name')).
func WithAppTables(tables ...ports.TenantTable) Option {
	return func(o *options) { o.tables = append(o.tables, tables...) }
}

// WithClock sets the store's clock (the time it stamps rows with); the
// default is the system clock.
func WithClock(c ports.Clock) Option {
	return func(o *options) { o.clock = c }
}

func collect(opts []Option) options {
	o := options{clock: ports.SystemClock{}}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// SQLite returns an open SQLite store in a new file under t.TempDir(),
// migrated (Stockade's migrations, then the apps' of [WithAppMigrations])
// and checked as an application's start-up would, with the tables of
// [WithAppTables] behind its tenant wall. It is closed when the test ends.
// Anything that goes wrong fails the test.
func SQLite(t testing.TB, opts ...Option) *sqlite.Store {
	t.Helper()
	o := collect(opts)
	ctx := t.Context()
	url := "sqlite://" + filepath.Join(t.TempDir(), "stockade.db")
	_, err := sqlite.Migrate(ctx, url)
	require.NoError(t, err, "stockadetest: migrate SQLite")
	open := []sqlite.Option{sqlite.WithClock(o.clock), sqlite.WithAppTables(o.tables...)}
	for _, a := range o.apps {
		fsys, err := a.forDialect(ports.DialectSQLite)
		require.NoError(t, err)
		_, err = sqlite.MigrateApp(ctx, url, a.name, fsys)
		require.NoError(t, err, "stockadetest: migrate app %q on SQLite", a.name)
		open = append(open, sqlite.WithAppMigrations(a.name, fsys))
	}
	s, err := sqlite.Open(ctx, url, open...)
	require.NoError(t, err, "stockadetest: open SQLite")
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("stockadetest: close SQLite: %v", err)
		}
	})
	return s
}

// Postgres returns an open store on a fresh database of the throwaway
// PostgreSQL cluster, connected as the application role: a LOGIN role that
// owns nothing and bypasses no row-level security, as in production. The
// database is migrated first as its owner role (Stockade's migrations, then
// the apps' of [WithAppMigrations]), and the store checks both schemas and
// the tables of [WithAppTables] when it opens. The store is closed and the
// database and its roles dropped when the test ends.
//
// The test binary must route TestMain through [Main]. When PostgreSQL is
// not installed the test is skipped with the reason, or fails when
// STOCKADE_REQUIRE_INTEGRATION=1; anything else that goes wrong fails it.
func Postgres(t testing.TB, opts ...Option) *postgres.Store {
	t.Helper()
	o := collect(opts)
	ctx := t.Context()
	pg := testinfra.StartPostgres(t)
	_, err := postgres.Migrate(ctx, pg.OwnerURL)
	require.NoError(t, err, "stockadetest: migrate Postgres as the owner role")
	open := []postgres.Option{postgres.WithClock(o.clock), postgres.WithAppTables(o.tables...)}
	for _, a := range o.apps {
		fsys, err := a.forDialect(ports.DialectPostgres)
		require.NoError(t, err)
		_, err = postgres.MigrateApp(ctx, pg.OwnerURL, a.name, fsys)
		require.NoError(t, err, "stockadetest: migrate app %q on Postgres as the owner role", a.name)
		open = append(open, postgres.WithAppMigrations(a.name, fsys))
	}
	s, err := postgres.Open(ctx, pg.AppURL, open...)
	require.NoError(t, err, "stockadetest: open Postgres as the application role")
	// Registered after StartPostgres's cleanup, so it runs first: the pool
	// closes before the database is dropped.
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("stockadetest: close Postgres: %v", err)
		}
	})
	return s
}
