package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/sqlite"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

// freshWithNotes returns a migrated store whose app migrations created
// porttest's notes table, declared as an app table.
func freshWithNotes(t *testing.T) *sqlite.Store {
	t.Helper()
	url := "sqlite://" + filepath.Join(t.TempDir(), "stockade.db")
	ctx := context.Background()
	_, err := sqlite.Migrate(ctx, url)
	require.NoError(t, err)
	_, err = sqlite.MigrateApp(ctx, url, "porttest", porttest.AppNotesMigrations(ports.DialectSQLite))
	require.NoError(t, err)
	s, err := sqlite.Open(ctx, url, sqlite.WithAppTables(ports.TenantTable{Name: porttest.AppNotesTable}))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestAppSQLConformance(t *testing.T) {
	porttest.TestAppSQL(t, func(t *testing.T) ports.Store { return freshWithNotes(t) })
}
