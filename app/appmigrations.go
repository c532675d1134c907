package app

import (
	"context"
	"fmt"
	"io/fs"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/adapters/sqlite"
	"github.com/stockadehq/stockade/internal/sqlmigrate"
	"github.com/stockadehq/stockade/ports"
)

// AppSchema is an embedding app's own migrations: goose SQL files at the
// root of one fs.FS per dialect, recorded in their own version table
// (stockade_app_<Name>_versions), so the app's version 1 never collides
// with Stockade's. They are applied after Stockade's, in the order given,
// by Migrate (`stockade migrate`, see cli.WithAppMigrations) and by
// OpenStore (`serve`, and the fx StoreModule: see AppMigrations) wherever
// it migrates Stockade's schema, and checked where it does not (Postgres
// without Database.MigrateURL).
type AppSchema struct {
	// Name is 1 to 32 lowercase letters, digits or underscores, starting
	// with a letter (see ports.AppVersionTable).
	Name string
	// Postgres and SQLite are the migrations for each store; the one of
	// the store in use must not be nil.
	Postgres fs.FS
	SQLite   fs.FS
	// Tables are the app's tenant tables (each with a shop_id column and
	// a primary key (shop_id, id...)) that it reaches through
	// ShopTx.SQL(). OpenStore declares them to the store
	// (sqlite/postgres.WithAppTables): on SQLite the tenant wall covers
	// only declared tables and refuses the others; on Postgres Open
	// refuses a declared table its migrations did not make a tenant table
	// (SELECT stockade_tenant_table('name')).
	Tables []string
}

// appSchemasGroup is the value group AppMigrations adds to.
const appSchemasGroup = "stockade.app_migrations"

// AppMigrations registers an embedding app's migrations named name and
// its tenant tables (see AppSchema) with StoreModule: the store applies
// the migrations after Stockade's when the app starts, in the order the
// options were given, and declares the tables. It is the fx equivalent of
// passing AppSchema values to OpenStore and Migrate.
func AppMigrations(name string, postgres, sqlite fs.FS, tables ...string) fx.Option {
	return fx.Supply(fx.Annotated{Group: appSchemasGroup, Target: AppSchema{Name: name, Postgres: postgres, SQLite: sqlite, Tables: tables}})
}

// AppMigrated is what Migrate did to one app's schema.
type AppMigrated struct {
	Name   string
	Result sqlmigrate.Result
}

// Migration is what MigrateAll did: Stockade's schema first, then each
// app's in the order given.
type Migration struct {
	Stockade sqlmigrate.Result
	Apps     []AppMigrated
}

// fsFor returns the app's migrations for the store named by dialect, or an
// error naming the app when it brought none.
func (a AppSchema) fsFor(dialect string) (fs.FS, error) {
	fsys := a.SQLite
	if dialect == schemePostgres {
		fsys = a.Postgres
	}
	if fsys == nil {
		return nil, fmt.Errorf("app migrations %q: none for %s", a.Name, dialect)
	}
	return fsys, nil
}

// tenantTables returns a.Tables as the stores take them.
func (a AppSchema) tenantTables() []ports.TenantTable {
	out := make([]ports.TenantTable, len(a.Tables))
	for i, name := range a.Tables {
		out[i] = ports.TenantTable{Name: name}
	}
	return out
}

// migrateApps applies the apps' migrations, after Stockade's, to the
// SQLite database at dbURL or as the Postgres owner at ownerURL.
func migrateApps(ctx context.Context, apps []AppSchema, dialect, url string) ([]AppMigrated, error) {
	var done []AppMigrated
	for _, a := range apps {
		fsys, err := a.fsFor(dialect)
		if err != nil {
			return done, err
		}
		var res sqlmigrate.Result
		if dialect == schemePostgres {
			res, err = postgres.MigrateApp(ctx, url, a.Name, fsys)
		} else {
			res, err = sqlite.MigrateApp(ctx, url, a.Name, fsys)
		}
		if err != nil {
			return done, err
		}
		done = append(done, AppMigrated{Name: a.Name, Result: res})
	}
	return done, nil
}

// sqliteAppOptions makes sqlite.Open apply (in-memory) or check (file)
// the apps' migrations.
func sqliteAppOptions(apps []AppSchema) ([]sqlite.Option, error) {
	var opts []sqlite.Option
	for _, a := range apps {
		fsys, err := a.fsFor(schemeSQLite)
		if err != nil {
			return nil, err
		}
		opts = append(opts, sqlite.WithAppMigrations(a.Name, fsys), sqlite.WithAppTables(a.tenantTables()...))
	}
	return opts, nil
}

// postgresAppOptions makes postgres.Open check the apps' migrations.
func postgresAppOptions(apps []AppSchema) ([]postgres.Option, error) {
	var opts []postgres.Option
	for _, a := range apps {
		fsys, err := a.fsFor(schemePostgres)
		if err != nil {
			return nil, err
		}
		opts = append(opts, postgres.WithAppMigrations(a.Name, fsys), postgres.WithAppTables(a.tenantTables()...))
	}
	return opts, nil
}

// logAppMigrations logs what migrating the apps' schemas did.
func logAppMigrations(log *zap.Logger, rawURL string, apps []AppMigrated) {
	for _, a := range apps {
		logMigration(log.With(zap.String("app", a.Name)), rawURL, a.Result)
	}
}
