package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

// freshWithNotes returns a store (as the application role) whose app
// migrations, run by the owner, created porttest's notes table.
func freshWithNotes(t *testing.T) (*postgres.Store, testinfra.Postgres) {
	t.Helper()
	pg := testinfra.StartPostgres(t)
	ctx := context.Background()
	_, err := postgres.Migrate(ctx, pg.OwnerURL)
	require.NoError(t, err)
	_, err = postgres.MigrateApp(ctx, pg.OwnerURL, "porttest", porttest.AppNotesMigrations(ports.DialectPostgres))
	require.NoError(t, err)
	s, err := postgres.Open(ctx, pg.AppURL, postgres.WithAppTables(ports.TenantTable{Name: porttest.AppNotesTable}))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s, pg
}

func TestAppSQLConformance(t *testing.T) {
	porttest.TestAppSQL(t, func(t *testing.T) ports.Store {
		s, _ := freshWithNotes(t)
		return s
	})
}
