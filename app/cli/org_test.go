package cli_test

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/ports"
)

// orgRoleIn reads email's role in the org of shop slug ("" for none).
func orgRoleIn(t *testing.T, env []string, slug, email string) ports.OrgRole {
	t.Helper()
	ctx := context.Background()
	cfg, err := app.LoadConfig(env, "")
	require.NoError(t, err)
	st, err := app.OpenStore(ctx, cfg, nil)
	require.NoError(t, err)
	defer st.Close()
	var role ports.OrgRole
	require.NoError(t, st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		shop, err := tx.Shops().GetBySlug(ctx, slug)
		if err != nil {
			return err
		}
		u, err := tx.Users().GetByEmail(ctx, email)
		if err != nil {
			return err
		}
		m, err := tx.OrgMembers().Get(ctx, shop.OrgID, u.ID)
		if errors.Is(err, ports.ErrNotFound) {
			return nil
		}
		role = m.Role
		return err
	}, ports.ReadOnly()))
	return role
}

// TestOrgCommands: `org invite` only offers the role (the invitee must
// accept), while the operator's `org set-role` gives it at once.
func TestOrgCommands(t *testing.T) {
	env := []string{
		"STOCKADE_DATA_DIR=" + filepath.Join(t.TempDir(), "data"),
		"STOCKADE_AUTH_ARGON2_MEMORY_KIB=7168", "STOCKADE_AUTH_ARGON2_ITERATIONS=5",
	}
	_, err := runIn(t, env, "", "user", "create", "--email", "ada@example.com")
	require.NoError(t, err)
	_, err = runIn(t, env, "", "shop", "create", "--slug", "acme", "--name", "Acme", "--owner", "ada@example.com")
	require.NoError(t, err)
	for _, email := range []string{"bob@example.com", "cy@example.com"} {
		_, err = runIn(t, env, "", "user", "create", "--email", email, "--shop", "acme", "--role", "tech")
		require.NoError(t, err)
	}

	out, err := runIn(t, env, "", "org", "invite", "--shop", "acme", "--email", "Bob@Example.com", "--role", "admin")
	require.NoError(t, err)
	assert.Contains(t, out, "invited bob@example.com as org admin")
	assert.Empty(t, orgRoleIn(t, env, "acme", "bob@example.com"), "an invitation gives no role")

	out, err = runIn(t, env, "", "org", "set-role", "--shop", "acme", "--email", "cy@example.com", "--role", "admin")
	require.NoError(t, err)
	assert.Contains(t, out, "cy@example.com: org role admin")
	assert.Equal(t, ports.OrgAdmin, orgRoleIn(t, env, "acme", "cy@example.com"), "the operator's path is direct")

	_, err = runIn(t, env, "", "org", "set-role", "--shop", "acme", "--email", "nobody@example.com", "--role", "admin")
	require.ErrorIs(t, err, ports.ErrNotFound)
}

// TestOrgSCIMTokenCommands: `org scim token create` prints a token once,
// `list` never shows it, `revoke` ends it, and each change is audited.
func TestOrgSCIMTokenCommands(t *testing.T) {
	env := []string{
		"STOCKADE_DATA_DIR=" + filepath.Join(t.TempDir(), "data"),
		"STOCKADE_AUTH_ARGON2_MEMORY_KIB=7168", "STOCKADE_AUTH_ARGON2_ITERATIONS=5",
	}
	_, err := runIn(t, env, "", "user", "create", "--email", "ada@example.com")
	require.NoError(t, err)
	_, err = runIn(t, env, "", "shop", "create", "--slug", "acme", "--name", "Acme", "--owner", "ada@example.com")
	require.NoError(t, err)

	out, err := runIn(t, env, "", "org", "scim", "token", "create", "--shop", "acme")
	require.NoError(t, err)
	m := regexp.MustCompile(`token (\S+) \(shown once\): (stk_scim_\S+)`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	list, err := runIn(t, env, "", "org", "scim", "token", "list", "--shop", "acme")
	require.NoError(t, err)
	assert.Contains(t, list, m[1])
	assert.NotContains(t, list, m[2], "a token is shown once")
	out, err = runIn(t, env, "", "org", "scim", "token", "revoke", "--shop", "acme", "--id", m[1])
	require.NoError(t, err)
	assert.Contains(t, out, "revoked token "+m[1])
	_, err = runIn(t, env, "", "org", "scim", "token", "revoke", "--shop", "acme", "--id", m[1])
	require.ErrorIs(t, err, ports.ErrNotFound, "revoked once")
	audit, err := runIn(t, env, "", "audit", "list", "--shop", "acme")
	require.NoError(t, err)
	assert.Contains(t, audit, "scim.token.created")
	assert.Contains(t, audit, "scim.token.revoked")
}
