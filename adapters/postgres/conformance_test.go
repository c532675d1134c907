package postgres_test

import (
	"context"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

// features are the Postgres store's optional features: ShopTx.SQL is the
// transaction itself, so it reaches the app's tenant tables, and a write
// reports the rows it touched.
func features() porttest.Features {
	return porttest.Features{AppSQL: true, AppSQLRowsAffected: true}
}

// TestStoreConformance runs the whole store suite as the application
// role. Every store comes from its own database (testinfra.StartPostgres
// per call), so the entry points run in parallel. The stores carry
// porttest's notes table, which the AppSQL feature needs.
func TestStoreConformance(t *testing.T) {
	porttest.TestStoreSuite(t, porttest.StoreSuite{
		New: func(t *testing.T) ports.Store {
			s, _ := freshWithNotes(t)
			return s
		},
		Features: features(),
		Parallel: true,
	})
}

// TestSnapshotConformance checks ports.Snapshot: one REPEATABLE READ
// transaction for the unit of work.
func TestSnapshotConformance(t *testing.T) {
	porttest.TestSnapshot(t, porttest.StoreSuite{New: func(t *testing.T) ports.Store {
		s, _ := fresh(t)
		return s
	}})
}

// openAppTables migrates a new database, applies app as the app's
// migrations (as the owner) and opens the store as the application role
// with opts.
func openAppTables(t *testing.T, app fs.FS, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	pg := testinfra.StartPostgres(t)
	ctx := context.Background()
	_, err := postgres.Migrate(ctx, pg.OwnerURL)
	require.NoError(t, err)
	_, err = postgres.MigrateApp(ctx, pg.OwnerURL, "porttestapp", app)
	require.NoError(t, err)
	s, err := postgres.Open(ctx, pg.AppURL, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestAppTablesConformance(t *testing.T) {
	porttest.TestAppTables(t, porttest.AppTablesHarness{
		New: func(t *testing.T) ports.Store {
			return openAppTables(t, porttest.AppTablesMigrations(ports.DialectPostgres), postgres.WithAppTables(
				ports.TenantTable{Name: porttest.AppCustomersTable}, ports.TenantTable{Name: porttest.AppQuotesTable}))
		},
		Features: features(),
	})
}

// TestAppTablesSuiteCatchesSkippedHelper runs the app-table suite, in a
// child process, on porttest's tables created without
// stockade_tenant_table (granted to the application role by hand, so no
// row-level security) and requires it to fail there with the attacks' own
// messages. Open refuses such tables when they are declared, so the
// broken app does not declare them.
func TestAppTablesSuiteCatchesSkippedHelper(t *testing.T) {
	porttest.ExpectFailure(t, func(t *testing.T) {
		porttest.TestAppTables(t, porttest.AppTablesHarness{
			New: func(t *testing.T) ports.Store {
				return openAppTables(t, porttest.WithoutTenantTableHelper(t, porttest.AppTablesMigrations(ports.DialectPostgres), 2))
			},
			Features: features(),
		})
	},
		"forgotten WHERE: shop A's unit of work read row",
		"read by ID: shop A's unit of work found shop B's",
		"insert naming another shop: shop A's unit of work wrote",
		"update of another shop's row: shop A's unit of work changed",
		"delete of another shop's row: shop A's unit of work deleted",
		"move to another shop: shop A's unit of work moved",
	)
}
