package app

import (
	"context"
	"fmt"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/ports"
)

// VerifyIsolation checks the tenant isolation of the database cfg
// selects, connected as the application role at STOCKADE_DATABASE_URL,
// for `stockade verify isolation`: the catalog check and the cross-shop
// probe of postgres.VerifyIsolation. It never migrates. A failed check is
// in the report (its Err names what failed); an error means the checks
// could not run, and names the setting as OpenStore's errors do.
//
// On SQLite it refuses with an error matching ports.ErrUnsupported: there
// is no row-level security to inspect there, the wall is structural (the
// store binds every statement of a unit of work to its shop, and the
// embedding app's tables sit behind per-connection views), and what proves
// it is the test suite, not the live database.
func VerifyIsolation(ctx context.Context, cfg Config) (postgres.IsolationReport, error) {
	dbURL := cfg.DatabaseURL()
	switch schemeOf(dbURL) {
	case schemeSQLite:
		return postgres.IsolationReport{}, fmt.Errorf("verify isolation needs PostgreSQL: SQLite has no row-level security to inspect; its tenant wall is structural (the store binds every statement to its shop) and is proven by the test suite, not in a live database (see docs/isolation.md): %w", ports.ErrUnsupported)
	case schemePostgres, schemePostgreSQL:
		rep, err := postgres.VerifyIsolation(ctx, dbURL)
		if err != nil {
			return rep, storeError(ctx, "STOCKADE_DATABASE_URL", "verify isolation of", dbURL, err)
		}
		return rep, nil
	}
	return postgres.IsolationReport{}, problem("STOCKADE_DATABASE_URL", "unknown scheme %q (want sqlite:// or postgres://)", schemeOf(dbURL))
}
