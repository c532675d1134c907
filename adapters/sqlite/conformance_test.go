package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/sqlite"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

// features are the SQLite store's optional features: ShopTx.SQL reaches
// the app tables declared with WithAppTables (and nothing without them),
// and a write through the wall is never counted (RowsAffected is
// ports.ErrUnsupported).
func features(appTables bool) porttest.Features { return porttest.Features{AppSQL: appTables} }

// Every store the harnesses below return has its own database file (or
// private in-memory database), so the suite's entry points run in
// parallel.

func TestStoreConformance(t *testing.T) {
	porttest.TestStoreSuite(t, porttest.StoreSuite{
		New:      func(t *testing.T) ports.Store { return fresh(t) },
		Features: features(false),
		Parallel: true,
	})
}

// TestSnapshotConformance runs on database files only: an in-memory
// database serves every unit of work on its one connection, so no write
// can commit during a snapshot there.
func TestSnapshotConformance(t *testing.T) {
	porttest.TestSnapshot(t, porttest.StoreSuite{New: func(t *testing.T) ports.Store { return fresh(t) }})
}

func TestStoreConformanceInMemory(t *testing.T) {
	porttest.TestStoreSuite(t, porttest.StoreSuite{
		New: func(t *testing.T) ports.Store {
			s, err := sqlite.Open(context.Background(), "sqlite://"+sqlite.Memory)
			require.NoError(t, err)
			t.Cleanup(func() { s.Close() })
			return s
		},
		Features: features(false),
		Parallel: true,
	})
}

func TestAppSQLFeatureConformance(t *testing.T) {
	porttest.TestAppSQLFeature(t, porttest.StoreSuite{
		New:      func(t *testing.T) ports.Store { return freshWithNotes(t) },
		Features: features(true),
	})
}

// openAppTables migrates a new database file, applies porttest's app
// tables and opens it with opts.
func openAppTables(t *testing.T, opts ...sqlite.Option) *sqlite.Store {
	t.Helper()
	url := "sqlite://" + filepath.Join(t.TempDir(), "stockade.db")
	ctx := context.Background()
	_, err := sqlite.Migrate(ctx, url)
	require.NoError(t, err)
	_, err = sqlite.MigrateApp(ctx, url, "porttestapp", porttest.AppTablesMigrations(ports.DialectSQLite))
	require.NoError(t, err)
	s, err := sqlite.Open(ctx, url, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// declared opens porttest's app tables declared, as an app would.
func declared(t *testing.T) ports.Store {
	return openAppTables(t, sqlite.WithAppTables(
		ports.TenantTable{Name: porttest.AppCustomersTable}, ports.TenantTable{Name: porttest.AppQuotesTable}))
}

func TestAppTablesConformance(t *testing.T) {
	porttest.TestAppTables(t, porttest.AppTablesHarness{New: declared, Features: features(true)})
}

// TestAppTablesSuiteCatchesBrokenWalls runs the app-table suite on stores
// whose wall is broken, each in a child process, and requires it to fail
// there with the attacks' own messages.
func TestAppTablesSuiteCatchesBrokenWalls(t *testing.T) {
	t.Run("WallBypassed", func(t *testing.T) {
		porttest.ExpectFailure(t, func(t *testing.T) {
			porttest.TestAppTables(t, porttest.AppTablesHarness{
				New:      func(t *testing.T) ports.Store { return bypassed{declared(t).(*sqlite.Store)} },
				Features: features(true),
			})
		},
			"forgotten WHERE: shop A's unit of work read row",
			"read by ID: shop A's unit of work found shop B's",
			"insert naming another shop: shop A's unit of work wrote",
			"update of another shop's row: shop A's unit of work changed",
			"delete of another shop's row: shop A's unit of work deleted",
			"move to another shop: shop A's unit of work moved",
		)
	})
	t.Run("TablesNotDeclared", func(t *testing.T) {
		porttest.ExpectFailure(t, func(t *testing.T) {
			porttest.TestAppTables(t, porttest.AppTablesHarness{
				New:      func(t *testing.T) ports.Store { return openAppTables(t) },
				Features: features(true),
			})
		}, "no app tables declared")
	})
}

// TestFeaturesAreChecked declares features the store does not have, or
// hides ones it has, and requires the suite to fail on it.
func TestFeaturesAreChecked(t *testing.T) {
	t.Run("AppSQLHiddenButReachable", func(t *testing.T) {
		porttest.ExpectFailure(t, func(t *testing.T) {
			porttest.TestAppSQLFeature(t, porttest.StoreSuite{
				New:      func(t *testing.T) ports.Store { return freshWithNotes(t) },
				Features: features(false),
			})
		}, "Features.AppSQL is false: a statement through ShopTx.SQL must fail with ports.ErrUnsupported")
	})
	t.Run("AppSQLDeclaredButNoTables", func(t *testing.T) {
		porttest.ExpectFailure(t, func(t *testing.T) {
			porttest.TestAppSQLFeature(t, porttest.StoreSuite{
				New:      func(t *testing.T) ports.Store { return fresh(t) },
				Features: features(true),
			})
		}, "no app tables declared")
	})
	t.Run("RowsAffectedDeclaredButNotCounted", func(t *testing.T) {
		porttest.ExpectFailure(t, func(t *testing.T) {
			porttest.TestAppSQLFeature(t, porttest.StoreSuite{
				New:      func(t *testing.T) ports.Store { return freshWithNotes(t) },
				Features: porttest.Features{AppSQL: true, AppSQLRowsAffected: true},
			})
		}, "Features.AppSQLRowsAffected is true: RowsAffected of an INSERT of one row")
	})
}

// bypassed is a store whose ShopTx.SQL skips the tenant wall: its units of
// work are plain transactions on the database, as an app that kept its own
// handle would run them. Only ShopID and SQL of its ShopTx work.
type bypassed struct{ *sqlite.Store }

func (b bypassed) InShop(ctx context.Context, shop ports.ShopID, fn func(ctx context.Context, tx ports.ShopTx) error, opts ...ports.TxOption) error {
	tx, err := b.DB().BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(ctx, bypassedTx{shop: shop, tx: tx}); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// bypassedTx embeds a nil ShopTx: the app-table suite uses only ShopID and
// SQL.
type bypassedTx struct {
	ports.ShopTx
	shop ports.ShopID
	tx   *sqlx.Tx
}

func (b bypassedTx) ShopID() ports.ShopID { return b.shop }
func (b bypassedTx) SQL() ports.TxSQL     { return rawSQL{b.tx} }

// rawSQL is a transaction with no wall in front of it.
type rawSQL struct{ *sqlx.Tx }

func (rawSQL) Dialect() string { return ports.DialectSQLite }
