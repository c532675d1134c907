package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/internal/testinfra"
)

func TestMain(m *testing.M) { os.Exit(testinfra.Main(m)) }

// fresh returns a store on a new, migrated database, connected as the
// application role, plus the database's URLs.
func fresh(t testing.TB, opts ...postgres.Option) (*postgres.Store, testinfra.Postgres) {
	t.Helper()
	pg := testinfra.StartPostgres(t)
	_, err := postgres.Migrate(context.Background(), pg.OwnerURL)
	require.NoError(t, err)
	s, err := postgres.Open(context.Background(), pg.AppURL, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s, pg
}
