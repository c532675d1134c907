package cli_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/passhash"
	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/cli"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// runIn runs the CLI with stdin.
func runIn(t *testing.T, environ []string, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := cli.NewRoot(cli.Info{Version: "test"}, environ, &out, &errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.Execute()
	watchOutput(t, environ, stdin, out.String(), errOut.String(), err)
	noInternals(t, err)
	return out.String(), err
}

// withService opens the same data directory as the CLI and runs fn with an
// auth service over it; the store is closed before the next CLI call.
func withService(t *testing.T, env []string, fn func(ctx context.Context, svc *auth.Service, shop ports.Shop)) {
	t.Helper()
	ctx := context.Background()
	cfg, err := app.LoadConfig(env, "")
	require.NoError(t, err)
	st, err := app.OpenStore(ctx, cfg, nil)
	require.NoError(t, err)
	defer st.Close()
	svc, err := app.NewAuth(ctx, cfg, app.AuthParts{Store: st})
	require.NoError(t, err)
	shop, err := svc.ShopBySlug(ctx, "acme")
	require.NoError(t, err)
	fn(ctx, svc, shop)
}

func TestUserAndShopCommands(t *testing.T) {
	env := []string{
		"STOCKADE_DATA_DIR=" + filepath.Join(t.TempDir(), "data"),
		"STOCKADE_AUTH_ARGON2_MEMORY_KIB=7168", "STOCKADE_AUTH_ARGON2_ITERATIONS=5",
	}
	const first, second = "first long passphrase", "second long passphrase"

	_, err := runIn(t, env, "password\n", "user", "create", "--email", "ada@example.com", "--password-stdin")
	require.ErrorIs(t, err, ports.ErrInvalid, "a common password is refused")
	assert.Contains(t, cli.ErrorLine(err), "password")
	_, err = runIn(t, env, "x\n", "user", "set-password", "--email", "ada@example.com")
	require.Error(t, err)

	out, err := runIn(t, env, first+"\n", "user", "create", "--email", "Ada@Example.com", "--name", "Ada", "--password-stdin")
	require.NoError(t, err)
	assert.Contains(t, out, "<ada@example.com>")
	_, err = runIn(t, env, first+"\n", "user", "create", "--email", "ada@example.com", "--password-stdin")
	require.ErrorIs(t, err, ports.ErrConflict)

	out, err = runIn(t, env, "", "shop", "create", "--slug", "acme", "--name", "Acme Plumbing", "--owner", "ada@example.com")
	require.NoError(t, err)
	assert.Contains(t, out, "created shop acme")
	_, err = runIn(t, env, "", "shop", "create", "--slug", "Not A Slug", "--name", "x")
	require.ErrorIs(t, err, ports.ErrInvalid)

	out, err = runIn(t, env, "", "user", "create", "--email", "bob@example.com", "--shop", "acme", "--role", "tech")
	require.NoError(t, err)
	assert.Contains(t, out, "added to shop acme as tech")
	_, err = runIn(t, env, "", "user", "create", "--email", "eve@example.com", "--shop", "acme", "--role", "emperor")
	require.ErrorIs(t, err, ports.ErrInvalid)

	var cookie string
	withService(t, env, func(ctx context.Context, svc *auth.Service, shop ports.Shop) {
		is, err := svc.SignIn(ctx, auth.SignInInput{Shop: shop.ID, Email: "ada@example.com", Password: first})
		require.NoError(t, err, "the owner the CLI made can sign in")
		assert.Equal(t, ports.RoleOwner, is.Principal.Role)
		cookie = is.Cookie
	})

	out, err = runIn(t, env, "", "user", "revoke-sessions", "--email", "ada@example.com", "--shop", "acme")
	require.NoError(t, err)
	assert.Contains(t, out, "revoked 1 session(s)")
	withService(t, env, func(ctx context.Context, svc *auth.Service, shop ports.Shop) {
		_, err := svc.Authenticate(ctx, shop.ID, cookie)
		require.ErrorIs(t, err, ports.ErrUnauthenticated)
		is, err := svc.SignIn(ctx, auth.SignInInput{Shop: shop.ID, Email: "ada@example.com", Password: first})
		require.NoError(t, err)
		cookie = is.Cookie
	})

	out, err = runIn(t, env, second+"\n", "user", "set-password", "--email", "ada@example.com")
	require.NoError(t, err)
	assert.Contains(t, out, "password set for ada@example.com")
	withService(t, env, func(ctx context.Context, svc *auth.Service, shop ports.Shop) {
		_, err := svc.Authenticate(ctx, shop.ID, cookie)
		require.ErrorIs(t, err, ports.ErrUnauthenticated, "a reset ends the sessions")
		_, err = svc.SignIn(ctx, auth.SignInInput{Shop: shop.ID, Email: "ada@example.com", Password: first})
		require.True(t, errors.Is(err, ports.ErrUnauthenticated))
		_, err = svc.SignIn(ctx, auth.SignInInput{Shop: shop.ID, Email: "ada@example.com", Password: second})
		require.NoError(t, err)
	})
}

// The CLI signs nobody in through OpenID Connect, so a configured issuer
// that cannot be reached must not stop `user create` (withAuth passes
// NoProviders; without it, discovery fails the command).
func TestUserCommandsSkipOIDCDiscovery(t *testing.T) {
	env := []string{
		"STOCKADE_DATA_DIR=" + filepath.Join(t.TempDir(), "data"),
		"STOCKADE_AUTH_OIDC_NAME=corp", "STOCKADE_AUTH_OIDC_ISSUER=https://127.0.0.1:1",
		"STOCKADE_AUTH_OIDC_CLIENT_ID=stockade", "STOCKADE_AUTH_OIDC_CLIENT_SECRET=s3cret",
	}
	out, err := runIn(t, env, "", "user", "create", "--email", "ada@example.com")
	require.NoError(t, err)
	assert.Contains(t, out, "<ada@example.com>")
}

// TestSetPasswordVouchesForAnUnverifiedAccount (AUTH-16): an account the
// old sign-up made has an unproven mailbox, so its password does not sign
// in; `user set-password` is an operator vouching for the address, after
// which the new password does.
func TestSetPasswordVouchesForAnUnverifiedAccount(t *testing.T) {
	env := []string{
		"STOCKADE_DATA_DIR=" + filepath.Join(t.TempDir(), "data"),
		"STOCKADE_AUTH_ARGON2_MEMORY_KIB=7168", "STOCKADE_AUTH_ARGON2_ITERATIONS=5",
	}
	const old, fresh = "an old unproven passphrase", "a fresh vouched passphrase"
	_, err := runIn(t, env, "", "user", "create", "--email", "ada@example.com")
	require.NoError(t, err)
	_, err = runIn(t, env, "", "shop", "create", "--slug", "acme", "--name", "Acme Plumbing", "--owner", "ada@example.com")
	require.NoError(t, err)
	ctx := context.Background()
	cfg, err := app.LoadConfig(env, "")
	require.NoError(t, err)
	st, err := app.OpenStore(ctx, cfg, nil)
	require.NoError(t, err)
	svc, err := app.NewAuth(ctx, cfg, app.AuthParts{Store: st})
	require.NoError(t, err)
	hasher, err := passhash.New(passhash.Config{Params: passhash.Params{Memory: 7168, Time: 5, Threads: 1}})
	require.NoError(t, err)
	hash, err := hasher.Hash(ctx, old)
	require.NoError(t, err)
	shop, err := svc.ShopBySlug(ctx, "acme")
	require.NoError(t, err)
	require.NoError(t, st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		u, err := tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: "legacy@example.com"})
		if err != nil {
			return err
		}
		return tx.Passwords().Set(ctx, u.ID, hash)
	}))
	_, err = svc.AddMember(ctx, "acme", mustUser(t, svc, "legacy@example.com"), ports.RoleTech, "system:test")
	require.NoError(t, err)
	_, err = svc.SignIn(ctx, auth.SignInInput{Shop: shop.ID, Email: "legacy@example.com", Password: old})
	require.ErrorIs(t, err, ports.ErrUnauthenticated, "an unproven mailbox's password does not sign in")
	require.NoError(t, st.Close())

	out, err := runIn(t, env, fresh+"\n", "user", "set-password", "--email", "legacy@example.com")
	require.NoError(t, err)
	assert.Contains(t, out, "password set for legacy@example.com")
	withService(t, env, func(ctx context.Context, svc *auth.Service, shop ports.Shop) {
		_, err := svc.SignIn(ctx, auth.SignInInput{Shop: shop.ID, Email: "legacy@example.com", Password: fresh})
		require.NoError(t, err, "the operator vouched for the address")
	})
}

func mustUser(t *testing.T, svc *auth.Service, email string) ports.UserID {
	t.Helper()
	u, err := svc.UserByEmail(context.Background(), email)
	require.NoError(t, err)
	return u.ID
}
