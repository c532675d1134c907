package cli_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/cli"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// TestOperatorCommands: create (password from standard input, checked by
// the policy), list, disable; bad input is a non-zero exit with one
// readable line and nothing written; a disabled operator cannot sign in.
func TestOperatorCommands(t *testing.T) {
	env := []string{
		"STOCKADE_DATA_DIR=" + filepath.Join(t.TempDir(), "data"),
		"STOCKADE_AUTH_ARGON2_MEMORY_KIB=7168", "STOCKADE_AUTH_ARGON2_ITERATIONS=5",
	}
	const pw = "operator long passphrase"

	_, err := runIn(t, env, "password\n", "operator", "create", "--email", "olga@ops.example.com")
	require.ErrorIs(t, err, ports.ErrInvalid, "a common password is refused")
	assert.NotContains(t, cli.ErrorLine(err), "\n")
	_, err = runIn(t, env, pw+"\n", "operator", "create", "--email", "not-an-address")
	require.ErrorIs(t, err, ports.ErrInvalid)
	_, err = runIn(t, env, "", "operator", "create", "--email", "olga@ops.example.com")
	require.ErrorIs(t, err, ports.ErrInvalid, "no password on standard input")
	out, err := runIn(t, env, "", "operator", "list")
	require.NoError(t, err)
	assert.Equal(t, 1, strings.Count(out, "\n"), "nothing was created: %s", out)

	out, err = runIn(t, env, pw+"\n", "operator", "create", "--email", "Olga@Ops.Example.com", "--name", "Olga")
	require.NoError(t, err)
	assert.Contains(t, out, "created operator ")
	assert.Contains(t, out, "<olga@ops.example.com>")
	_, err = runIn(t, env, pw+"\n", "operator", "create", "--email", "olga@ops.example.com")
	require.ErrorIs(t, err, ports.ErrConflict)

	out, err = runIn(t, env, "", "operator", "list")
	require.NoError(t, err)
	assert.Contains(t, out, "olga@ops.example.com")
	assert.Contains(t, out, "active")

	signIn := func() error {
		ctx := context.Background()
		cfg, err := app.LoadConfig(env, "")
		require.NoError(t, err)
		st, err := app.OpenStore(ctx, cfg, nil)
		require.NoError(t, err)
		defer st.Close()
		svc, err := app.NewAuth(ctx, cfg, app.AuthParts{Store: st, NoProviders: true})
		require.NoError(t, err)
		_, err = svc.OperatorSignIn(ctx, auth.OperatorSignInInput{Email: "olga@ops.example.com", Password: pw, Client: auth.Client{IP: "192.0.2.1"}})
		return err
	}
	require.NoError(t, signIn())

	_, err = runIn(t, env, "", "operator", "disable", "--email", "nobody@ops.example.com")
	require.ErrorIs(t, err, ports.ErrNotFound)
	out, err = runIn(t, env, "", "operator", "disable", "--email", "olga@ops.example.com")
	require.NoError(t, err)
	assert.Contains(t, out, "disabled operator")
	out, err = runIn(t, env, "", "operator", "list")
	require.NoError(t, err)
	assert.Contains(t, out, "disabled ")
	require.ErrorIs(t, signIn(), ports.ErrUnauthenticated)
}
