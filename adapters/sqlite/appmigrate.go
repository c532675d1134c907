package sqlite

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/stockadehq/stockade/internal/sqlmigrate"
	"github.com/stockadehq/stockade/ports"
)

// appSource is the embedding app's migrations named name, recorded in
// their own version table (ports.AppVersionTable).
func appSource(name string, fsys fs.FS) (sqlmigrate.Source, error) {
	table, err := ports.AppVersionTable(name)
	if err != nil {
		return sqlmigrate.Source{}, err
	}
	src := source()
	src.FS, src.Table = fsys, table
	return src, nil
}

// MigrateApp applies the embedding app's pending migrations (goose SQL
// files at fsys's root) to the database at rawURL, after Stockade's: the
// Stockade schema must be current (ports.ErrSchemaBehind otherwise; run
// Migrate first). Versions are recorded in stockade_app_<name>_versions,
// so they never collide with Stockade's. It is idempotent and refuses an
// app schema newer than fsys (ports.ErrSchemaTooNew).
func MigrateApp(ctx context.Context, rawURL, name string, fsys fs.FS) (sqlmigrate.Result, error) {
	src, err := appSource(name, fsys)
	if err != nil {
		return sqlmigrate.Result{}, err
	}
	path, err := ParseURL(rawURL)
	if err != nil {
		return sqlmigrate.Result{}, err
	}
	if path == Memory {
		return sqlmigrate.Result{}, ports.Invalid("database url", "an in-memory database cannot be migrated separately; pass WithAppMigrations to Open")
	}
	db, err := openDB(ctx, path, true, 1)
	if err != nil {
		return sqlmigrate.Result{}, err
	}
	defer db.Close()
	if err := sqlmigrate.Check(ctx, db.DB, source()); err != nil {
		return sqlmigrate.Result{}, fmt.Errorf("sqlite: app %s: %w", name, err)
	}
	res, err := sqlmigrate.Up(ctx, db.DB, src)
	if err != nil {
		return res, fmt.Errorf("sqlite: app %s: %w", name, err)
	}
	return res, nil
}
