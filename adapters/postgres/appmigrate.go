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
