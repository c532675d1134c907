package main

import (
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/examples/fieldservice/quoting"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
	"github.com/stockadehq/stockade/stockadetest"
)

// appSchema describes the app's own tables to porttest's app-table
// attacks: quotes name their customer with customer_id, keyed with the
// shop.
func appSchema() porttest.AppSchema {
	return porttest.AppSchema{
		Parent: porttest.AppTable{Name: "customers", Values: map[string]any{"name": "Customer"}},
		Child:  porttest.AppTable{Name: "quotes", Values: map[string]any{"title": "Quote", "cents": 100}},
		Ref:    "customer_id",
	}
}

// features are what each store's tx.SQL() offers: both reach app tables;
// only Postgres counts the rows a write touched (SQLite's wall writes
// through INSTEAD OF triggers, which SQLite does not count).
var features = map[string]porttest.Features{
	"sqlite":   {AppSQL: true},
	"postgres": {AppSQL: true, AppSQLRowsAffected: true},
}

// TestAppTablesConformance runs porttest's cross-shop attacks (forgotten
// WHERE, reads by another shop's IDs, inserts naming it, updates, deletes
// and moves of its rows, a quote pointing at its customer) on the app's
// customers and quotes, on both stores.
func TestAppTablesConformance(t *testing.T) {
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			porttest.TestAppTables(t, porttest.AppTablesHarness{New: open, Schema: appSchema(), Features: features[name]})
		})
	}
}

// TestAppTablesConformanceCatchesABrokenSchema proves the suite above can
// fail: the app's Postgres migration with stockade_tenant_table replaced by
// a plain GRANT (no row-level security) fails every cross-shop attack, and
// on SQLite tables left undeclared are refused loudly rather than read
// without the wall.
func TestAppTablesConformanceCatchesABrokenSchema(t *testing.T) {
	t.Run("postgres_without_the_helper", func(t *testing.T) {
		porttest.ExpectFailure(t, func(t *testing.T) {
			porttest.TestAppTables(t, porttest.AppTablesHarness{
				New: func(t *testing.T) ports.Store {
					return stockadetest.Postgres(t, stockadetest.WithAppMigrations(quoting.SchemaName, brokenMigrations(t), nil))
				},
				Schema: appSchema(), Features: features["postgres"],
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
	t.Run("sqlite_tables_not_declared", func(t *testing.T) {
		porttest.ExpectFailure(t, func(t *testing.T) {
			porttest.TestAppTables(t, porttest.AppTablesHarness{
				New: func(t *testing.T) ports.Store {
					lite, err := quoting.Migrations(ports.DialectSQLite)
					require.NoError(t, err)
					return stockadetest.SQLite(t, stockadetest.WithAppMigrations(quoting.SchemaName, nil, lite))
				},
				Schema: appSchema(), Features: features["sqlite"],
			})
		}, "no app tables declared")
	})
}

// brokenMigrations is the app's Postgres migrations without
// stockade_tenant_table (porttest.WithoutTenantTableHelper).
func brokenMigrations(t *testing.T) fs.FS {
	t.Helper()
	src, err := quoting.Migrations(ports.DialectPostgres)
	require.NoError(t, err)
	return porttest.WithoutTenantTableHelper(t, src, 2)
}
