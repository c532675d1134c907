package postgres

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3/lock"

	"github.com/stockadehq/stockade/internal/sqlmigrate"
	"github.com/stockadehq/stockade/ports"
)

// MigrateApp applies the embedding app's pending migrations (goose SQL
// files at fsys's root) as the schema owner whose URL is ownerURL, after
// Stockade's: the Stockade schema must be current (ports.ErrSchemaBehind
// otherwise; run Migrate first). Versions are recorded in
// stockade_app_<name>_versions, readable by stockade_app, so they never
// collide with Stockade's. A tenant table is made one in the migration with
// SELECT stockade_tenant_table('name'). Concurrent migrators are serialised
// by the advisory lock. It is idempotent and refuses an app schema newer
// than fsys (ports.ErrSchemaTooNew).
func MigrateApp(ctx context.Context, ownerURL, name string, fsys fs.FS) (sqlmigrate.Result, error) {
	table, err := ports.AppVersionTable(name)
	if err != nil {
		return sqlmigrate.Result{}, err
	}
	db, err := connect(ctx, ownerURL, options{maxConns: 2})
	if err != nil {
		return sqlmigrate.Result{}, err
	}
	defer db.Close()
	if err := sqlmigrate.Check(ctx, db.DB, source(nil)); err != nil {
		return sqlmigrate.Result{}, fmt.Errorf("postgres: app %s: %w", name, err)
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return sqlmigrate.Result{}, fmt.Errorf("postgres: migration lock: %w", err)
	}
	src := source(locker)
	src.FS, src.Table = fsys, table
	res, err := sqlmigrate.Up(ctx, db.DB, src)
	if err != nil {
		return res, fmt.Errorf("postgres: app %s: %w", name, err)
	}
	// The table name is validated by AppVersionTable: safe to splice.
	if _, err := db.ExecContext(ctx, "GRANT SELECT ON "+table+" TO stockade_app"); err != nil {
		return res, mapErr("app "+name+": grant version table", err)
	}
	return res, nil
}

// appMigrations are the embedding app's migrations named name
// (WithAppMigrations).
type appMigrations struct {
	name string
	fsys fs.FS
}

// WithAppMigrations makes Open check the embedding app's migrations named
// name (goose SQL files at fsys's root) as well as Stockade's:
// ports.ErrSchemaBehind when some are pending (run MigrateApp as the owner),
// ports.ErrSchemaTooNew when the app's schema is newer than fsys. Open never
// applies migrations. Without this option Open never looks at an app's
// version table, so an app schema never stops Stockade opening.
func WithAppMigrations(name string, fsys fs.FS) Option {
	return func(o *options) { o.appMigrations = append(o.appMigrations, appMigrations{name, fsys}) }
}

// checkApps checks the app migrations of o, as the application role (the
// version tables are readable by stockade_app).
func (s *Store) checkApps(ctx context.Context, apps []appMigrations) error {
	for _, a := range apps {
		table, err := ports.AppVersionTable(a.name)
		if err != nil {
			return err
		}
		src := source(nil)
		src.FS, src.Table = a.fsys, table
		if err := sqlmigrate.Check(ctx, s.db.DB, src); err != nil {
			return fmt.Errorf("postgres: app %s: %w", a.name, err)
		}
	}
	return nil
}
