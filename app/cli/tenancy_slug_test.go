package cli_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/cli"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
)

// `stockade shop create` refuses a reserved slug with a line that says so,
// and STOCKADE_TENANCY_RESERVED_SLUGS replaces the list.
func TestShopCreateRefusesReservedSlugs(t *testing.T) {
	env := []string{"STOCKADE_DATA_DIR=" + filepath.Join(t.TempDir(), "data")}
	_, err := runIn(t, env, "", "shop", "create", "--slug", "www", "--name", "Platform")
	require.ErrorIs(t, err, ports.ErrInvalid)
	assert.Contains(t, cli.ErrorLine(err), `"www" is reserved`)

	env = append(env, "STOCKADE_TENANCY_RESERVED_SLUGS=acme, shop")
	_, err = runIn(t, env, "", "shop", "create", "--slug", "acme", "--name", "Acme")
	require.ErrorIs(t, err, ports.ErrInvalid)
	assert.Contains(t, cli.ErrorLine(err), `"acme" is reserved`)
	_, err = runIn(t, env, "", "shop", "create", "--slug", "www", "--name", "Platform")
	require.NoError(t, err, "the configured list replaces the default")
}

// The CLI's errors for what the user got wrong name the problem, not the
// store: a taken slug, an unknown shop, an unknown member. Guards
// cli.ErrorLine (httpapi.PublicDetail) and tenancy's slugTaken.
func TestCLIErrorsNameTheProblem(t *testing.T) {
	for _, store := range cliStores(t) {
		t.Run(store.name, func(t *testing.T) {
			env := store.env
			_, err := runIn(t, env, "", "shop", "create", "--slug", "acme", "--name", "Acme")
			require.NoError(t, err)
			_, err = runIn(t, env, "", "shop", "create", "--slug", "acme", "--name", "Acme again")
			require.ErrorIs(t, err, ports.ErrConflict)
			assert.Equal(t, `stockade: the slug "acme" is taken: conflict`, cli.ErrorLine(err))
			_, err = runIn(t, env, "", "member", "list", "--shop", "nowhere")
			require.ErrorIs(t, err, ports.ErrNotFound)
			assert.Contains(t, cli.ErrorLine(err), `no shop with slug "nowhere"`)
			_, err = runIn(t, env, "", "member", "remove", "--shop", "acme", "--email", "ghost@example.com")
			require.ErrorIs(t, err, ports.ErrNotFound)
		})
	}
}

type cliStore struct {
	name string
	env  []string
}

// cliStores are a fresh SQLite data directory and a fresh, migrated
// Postgres database reached as the application role.
func cliStores(t *testing.T) []cliStore {
	t.Helper()
	pg := testinfra.StartPostgres(t)
	pgEnv := []string{
		"STOCKADE_DATA_DIR=" + filepath.Join(t.TempDir(), "pg"),
		"STOCKADE_DATABASE_URL=" + pg.AppURL, "STOCKADE_DATABASE_MIGRATE_URL=" + pg.OwnerURL,
	}
	_, err := runIn(t, pgEnv, "", "migrate")
	require.NoError(t, err)
	return []cliStore{
		{"sqlite", []string{"STOCKADE_DATA_DIR=" + filepath.Join(t.TempDir(), "data")}},
		{"postgres", pgEnv},
	}
}
