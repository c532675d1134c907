// Package sqlmigrate applies a store adapter's embedded, versioned SQL
// migrations with goose's Provider, and tells whether a database's schema
// is the one this build expects. It is shared by the SQL adapters so each of
// them only brings its dialect and its migration files.
package sqlmigrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/stockadehq/stockade/ports"
)

// VersionTable is the table goose records Stockade's applied migrations
// in. An embedding app's migrations use their own table (Source.Table).
const VersionTable = "stockade_schema_migrations"

// Result says what Up did.
type Result struct {
	From    int64   // schema version before
	To      int64   // schema version after
	Applied []int64 // versions applied by this run, in order
}

// Source is one adapter's migrations.
type Source struct {
	Dialect goose.Dialect
	FS      fs.FS // *.sql files at its root, named NNNNN_name.sql
	// Locker serialises concurrent migrators (Postgres: an advisory lock).
	// Nil for single-writer stores.
	Locker lock.SessionLocker
	// Missing reports whether err from querying the version table means the
	// table does not exist yet (an empty database).
	Missing func(err error) bool
	// Table is the version table; empty means VersionTable. It is spliced
	// into SQL: callers pass a validated identifier.
	Table string
}

func (src Source) table() string {
	if src.Table == "" {
		return VersionTable
	}
	return src.Table
}

// Latest returns the highest migration version in src.
func Latest(src Source) (int64, error) {
	entries, err := fs.Glob(src.FS, "*.sql")
	if err != nil {
		return 0, fmt.Errorf("list migrations: %w", err)
	}
	var latest int64
	for _, name := range entries {
		v, err := parseVersion(name)
		if err != nil {
			return 0, err
		}
		latest = max(latest, v)
	}
	return latest, nil
}

// Current returns the highest version applied to db, 0 for an empty
// database. It only reads, so it works for a role that may not write the
// version table.
func Current(ctx context.Context, db *sql.DB, src Source) (int64, error) {
	var v sql.NullInt64
	err := db.QueryRowContext(ctx, "SELECT max(version_id) FROM "+src.table()).Scan(&v)
	if err != nil {
		if src.Missing != nil && src.Missing(err) {
			return 0, nil
		}
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v.Int64, nil
}

// Check compares db's schema with src: nil when they match, an error
// matching ports.ErrSchemaBehind when migrations are pending, or
// ports.ErrSchemaTooNew when the database has versions this build does not
// know.
func Check(ctx context.Context, db *sql.DB, src Source) error {
	latest, err := Latest(src)
	if err != nil {
		return err
	}
	cur, err := Current(ctx, db, src)
	if err != nil {
		return err
	}
	switch {
	case cur > latest:
		return fmt.Errorf("%w: database is at version %d, this build knows up to %d", ports.ErrSchemaTooNew, cur, latest)
	case cur < latest:
		return fmt.Errorf("%w: database is at version %d, this build needs %d; run `stockade migrate`", ports.ErrSchemaBehind, cur, latest)
	}
	return nil
}

// Up applies every pending migration of src to db. It is idempotent: on a
// current schema it applies nothing. It refuses (ports.ErrSchemaTooNew)
// to touch a database whose schema is newer than src. Each migration runs
// in its own transaction; a failing one leaves the schema at the previous
// version.
func Up(ctx context.Context, db *sql.DB, src Source) (Result, error) {
	latest, err := Latest(src)
	if err != nil {
		return Result{}, err
	}
	cur, err := Current(ctx, db, src)
	if err != nil {
		return Result{}, err
	}
	if cur > latest {
		return Result{}, fmt.Errorf("%w: database is at version %d, this build knows up to %d", ports.ErrSchemaTooNew, cur, latest)
	}
	opts := []goose.ProviderOption{
		goose.WithTableName(src.table()),
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(slog.New(slog.DiscardHandler)), // callers report the Result
	}
	if src.Locker != nil {
		opts = append(opts, goose.WithSessionLocker(src.Locker))
	}
	p, err := goose.NewProvider(src.Dialect, db, src.FS, opts...)
	if err != nil {
		return Result{}, fmt.Errorf("migration provider: %w", err)
	}
	applied, err := p.Up(ctx)
	res := Result{From: cur, To: cur}
	for _, a := range applied {
		if a.Error == nil && a.Source != nil {
			res.Applied = append(res.Applied, a.Source.Version)
			res.To = a.Source.Version
		}
	}
	if err != nil {
		var partial *goose.PartialError
		if errors.As(err, &partial) && partial.Failed != nil && partial.Failed.Source != nil {
			return res, fmt.Errorf("migration %d failed: %w", partial.Failed.Source.Version, partial.Err)
		}
		return res, fmt.Errorf("migrate: %w", err)
	}
	return res, nil
}

func parseVersion(name string) (int64, error) {
	var v int64
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < '0' || c > '9' {
			if i == 0 {
				return 0, fmt.Errorf("migration %q: name must start with its version number", name)
			}
			return v, nil
		}
		v = v*10 + int64(c-'0')
	}
	return v, nil
}
