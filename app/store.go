package app

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/adapters/sqlite"
	"github.com/stockadehq/stockade/internal/sqlmigrate"
	"github.com/stockadehq/stockade/ports"
)

// OpenStore opens the store that cfg.DatabaseURL selects by scheme and
// brings its schema up to date first where cfg allows it:
//
//   - sqlite: migrates the database (creating the file; its directory must
//     exist, see PrepareDataDir), then opens it.
//   - postgres: when Database.MigrateURL is set, migrates as that owner
//     role first; then opens as the application role. Without MigrateURL a
//     schema with pending migrations fails with ports.ErrSchemaBehind.
//
// The embedding app's migrations (apps) are applied right after
// Stockade's, in order, wherever Stockade's are; the store then checks them
// at open (an in-memory SQLite database gets both at open).
//
// Applied migrations are logged at info. ctx bounds migrating and
// connecting; a store that cannot be reached fails instead of hanging once
// ctx is done. Errors name the setting (STOCKADE_DATABASE_URL or
// STOCKADE_DATABASE_MIGRATE_URL) and keep the adapters' sentinels
// (ports.ErrUnavailable, ports.ErrSchemaBehind, …) for errors.Is; URLs in
// them are redacted. The caller owns the store and must Close it.
func OpenStore(ctx context.Context, cfg Config, log *zap.Logger, apps ...AppSchema) (ports.Store, error) {
	if log == nil {
		log = zap.NewNop()
	}
	dbURL := cfg.DatabaseURL()
	switch schemeOf(dbURL) {
	case schemeSQLite:
		path, err := sqliteFile(dbURL)
		if err != nil {
			return nil, storeError(ctx, "STOCKADE_DATABASE_URL", "open", dbURL, err)
		}
		if path != "" { // an in-memory database is migrated by Open itself
			res, err := sqlite.Migrate(ctx, dbURL)
			if err != nil {
				return nil, storeError(ctx, "STOCKADE_DATABASE_URL", "migrate", dbURL, err)
			}
			logMigration(log, dbURL, res)
			apps, err := migrateApps(ctx, apps, schemeSQLite, dbURL)
			logAppMigrations(log, dbURL, apps)
			if err != nil {
				return nil, storeError(ctx, "STOCKADE_DATABASE_URL", "migrate", dbURL, err)
			}
		}
		opts, err := sqliteAppOptions(apps)
		if err != nil {
			return nil, storeError(ctx, "STOCKADE_DATABASE_URL", "open", dbURL, err)
		}
		st, err := sqlite.Open(ctx, dbURL, opts...)
		if err != nil {
			return nil, storeError(ctx, "STOCKADE_DATABASE_URL", "open", dbURL, err)
		}
		return st, nil
	case schemePostgres, schemePostgreSQL:
		if owner := cfg.Database.MigrateURL; owner != "" {
			res, err := postgres.Migrate(ctx, owner)
			if err != nil {
				return nil, storeError(ctx, "STOCKADE_DATABASE_MIGRATE_URL", "migrate", owner, err)
			}
			logMigration(log, owner, res)
			apps, err := migrateApps(ctx, apps, schemePostgres, owner)
			logAppMigrations(log, owner, apps)
			if err != nil {
				return nil, storeError(ctx, "STOCKADE_DATABASE_MIGRATE_URL", "migrate", owner, err)
			}
		}
		opts, err := postgresAppOptions(apps)
		if err != nil {
			return nil, storeError(ctx, "STOCKADE_DATABASE_URL", "open", dbURL, err)
		}
		st, err := postgres.Open(ctx, dbURL, opts...)
		if err != nil {
			return nil, storeError(ctx, "STOCKADE_DATABASE_URL", "open", dbURL, err)
		}
		return st, nil
	}
	return nil, problem("STOCKADE_DATABASE_URL", "unknown scheme %q (want sqlite:// or postgres://)", schemeOf(dbURL))
}

// Migrate applies pending migrations for the store cfg selects, for the
// `migrate` command: the SQLite database at cfg.DatabaseURL (its directory
// must exist, see PrepareDataDir), or Postgres as the owner role at
// Database.MigrateURL, which is then required. Stockade's come first, then
// apps in order (see MigrateAll); the Result is Stockade's.
// It is idempotent: a current schema yields a Result with no Applied
// versions. Errors are as for OpenStore.
func Migrate(ctx context.Context, cfg Config, apps ...AppSchema) (sqlmigrate.Result, error) {
	m, err := MigrateAll(ctx, cfg, apps...)
	return m.Stockade, err
}

// MigrateAll is Migrate, reporting each app's migrations too.
func MigrateAll(ctx context.Context, cfg Config, apps ...AppSchema) (Migration, error) {
	dbURL := cfg.DatabaseURL()
	var m Migration
	switch schemeOf(dbURL) {
	case schemeSQLite:
		res, err := sqlite.Migrate(ctx, dbURL)
		m.Stockade = res
		if err != nil {
			return m, storeError(ctx, "STOCKADE_DATABASE_URL", "migrate", dbURL, err)
		}
		if m.Apps, err = migrateApps(ctx, apps, schemeSQLite, dbURL); err != nil {
			return m, storeError(ctx, "STOCKADE_DATABASE_URL", "migrate", dbURL, err)
		}
		return m, nil
	case schemePostgres, schemePostgreSQL:
		owner := cfg.Database.MigrateURL
		if owner == "" {
			return m, problem("STOCKADE_DATABASE_MIGRATE_URL",
				"required to migrate Postgres: the URL of the role that owns the schema (STOCKADE_DATABASE_URL is the application role, which may not)")
		}
		res, err := postgres.Migrate(ctx, owner)
		m.Stockade = res
		if err != nil {
			return m, storeError(ctx, "STOCKADE_DATABASE_MIGRATE_URL", "migrate", owner, err)
		}
		if m.Apps, err = migrateApps(ctx, apps, schemePostgres, owner); err != nil {
			return m, storeError(ctx, "STOCKADE_DATABASE_MIGRATE_URL", "migrate", owner, err)
		}
		return m, nil
	}
	return m, problem("STOCKADE_DATABASE_URL", "unknown scheme %q (want sqlite:// or postgres://)", schemeOf(dbURL))
}

// MigrationTarget returns the redacted URL of the database Migrate works
// on, for messages.
func MigrationTarget(cfg Config) string {
	if cfg.Database.MigrateURL != "" {
		return RedactURL(cfg.Database.MigrateURL)
	}
	return RedactURL(cfg.DatabaseURL())
}

// sqliteFile returns the file path of a sqlite URL, or "" for an in-memory
// database.
func sqliteFile(rawURL string) (string, error) {
	p, err := sqlite.ParseURL(rawURL)
	if err != nil {
		return "", err
	}
	if p == sqlite.Memory {
		return "", nil
	}
	return p, nil
}

// storeError names setting and the redacted URL in err, adds a hint for the
// errors an operator can fix, and scrubs any secret of rawURL an adapter
// might have echoed. The sentinels stay reachable with errors.Is.
func storeError(ctx context.Context, setting, op, rawURL string, err error) error {
	hint := ""
	switch {
	case ctx.Err() != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.Is(err, ports.ErrUnavailable)):
		hint = " (gave up: " + context.Cause(ctx).Error() + ")"
	case errors.Is(err, ports.ErrSchemaBehind) && setting == "STOCKADE_DATABASE_URL":
		hint = " (run `stockade migrate`, or set STOCKADE_DATABASE_MIGRATE_URL so serve migrates at start)"
	case errors.Is(err, ports.ErrSchemaTooNew):
		hint = " (this build is older than the database; run a newer stockade)"
	}
	// Only the adapter's error is scrubbed: the URL before it is already
	// redacted component by component.
	return fmt.Errorf("%s: %s %s: %w%s", setting, op, RedactURL(rawURL), scrubError(err, rawURL), hint)
}

// logMigration logs what a migration run did.
func logMigration(log *zap.Logger, rawURL string, res sqlmigrate.Result) {
	if len(res.Applied) == 0 {
		log.Info("schema is current", zap.String("database", RedactURL(rawURL)), zap.Int64("version", res.To))
		return
	}
	log.Info("schema migrated",
		zap.String("database", RedactURL(rawURL)),
		zap.Int64("from", res.From),
		zap.Int64("to", res.To),
		zap.Int64s("applied", res.Applied),
	)
}
