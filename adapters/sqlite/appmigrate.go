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

// appMigrations are the embedding app's migrations named name
// (WithAppMigrations).
type appMigrations struct {
	name string
	fsys fs.FS
}

// WithAppMigrations gives Open the embedding app's migrations named name
// (goose SQL files at fsys's root, recorded in stockade_app_<name>_versions).
// Open applies them to an in-memory database right after Stockade's, which
// is the only way to migrate one; on a file database Open checks them
// instead (ports.ErrSchemaBehind: run MigrateApp first; ports.ErrSchemaTooNew:
// the app's schema is newer than fsys). Without this option Open never looks
// at an app's version table, so an app schema never stops Stockade opening.
func WithAppMigrations(name string, fsys fs.FS) Option {
	return func(o *options) { o.appMigrations = append(o.appMigrations, appMigrations{name, fsys}) }
}

// openApps applies (in-memory database) or checks (file database) the
// apps' migrations on the writer, after Stockade's schema was checked.
func (s *Store) openApps(ctx context.Context, memory bool, apps []appMigrations) error {
	for _, a := range apps {
		src, err := appSource(a.name, a.fsys)
		if err != nil {
			return err
		}
		if memory {
			_, err = sqlmigrate.Up(ctx, s.writer.DB, src)
		} else {
			err = sqlmigrate.Check(ctx, s.writer.DB, src)
		}
		if err != nil {
			return fmt.Errorf("sqlite: app %s: %w", a.name, err)
		}
	}
	return nil
}
