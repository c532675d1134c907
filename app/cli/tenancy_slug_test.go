package cli_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/cli"
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
