package cli_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// TestOrgSSOCommands: the operator configures an org's connection (the
// secret from standard input, never printed) and claims its domains.
func TestOrgSSOCommands(t *testing.T) {
	env := []string{
		"STOCKADE_DATA_DIR=" + filepath.Join(t.TempDir(), "data"),
		"STOCKADE_AUTH_ARGON2_MEMORY_KIB=7168", "STOCKADE_AUTH_ARGON2_ITERATIONS=5",
	}
	_, err := runIn(t, env, "", "user", "create", "--email", "ada@acme.test")
	require.NoError(t, err)
	_, err = runIn(t, env, "", "shop", "create", "--slug", "acme", "--name", "Acme", "--owner", "ada@acme.test")
	require.NoError(t, err)

	const secret = "cli-client-secret-4711"
	set := []string{"org", "sso", "set", "--shop", "acme", "--issuer", "https://idp.acme.test", "--client-id", "stockade", "--default-role", "tech"}
	out, err := runIn(t, env, secret+"\n", append(set, "--client-secret-stdin")...)
	require.NoError(t, err)
	assert.Contains(t, out, "https://idp.acme.test")
	assert.NotContains(t, out, secret)

	out, err = runIn(t, env, "", append(set, "--mandatory", "--break-glass", "ada@acme.test")...)
	require.NoError(t, err, "the stored secret is kept for the same issuer and client")
	assert.Contains(t, out, "ada@acme.test")

	_, err = runIn(t, env, "", "org", "sso", "set", "--shop", "acme", "--issuer", "https://other.acme.test", "--client-id", "stockade")
	require.ErrorIs(t, err, ports.ErrInvalid, "a new issuer needs its secret")

	out, err = runIn(t, env, "", "org", "sso", "show", "--shop", "acme")
	require.NoError(t, err)
	assert.Contains(t, out, "mandatory     true")
	assert.NotContains(t, out, secret)

	out, err = runIn(t, env, "", "org", "domain", "add", "--shop", "acme", "--domain", "Acme.Test")
	require.NoError(t, err)
	assert.Contains(t, out, `_stockade-challenge.acme.test TXT "stockade-verification=`)
	out, err = runIn(t, env, "", "org", "domain", "list", "--shop", "acme")
	require.NoError(t, err)
	assert.Contains(t, out, "acme.test")
	assert.Contains(t, out, "pending")
	_, err = runIn(t, env, "", "org", "domain", "remove", "--shop", "acme", "--domain", "acme.test")
	require.NoError(t, err)
	_, err = runIn(t, env, "", "org", "domain", "remove", "--shop", "acme", "--domain", "acme.test")
	require.ErrorIs(t, err, ports.ErrNotFound)

	_, err = runIn(t, env, "", "org", "sso", "delete", "--shop", "acme")
	require.NoError(t, err)
	_, err = runIn(t, env, "", "org", "sso", "show", "--shop", "acme")
	require.ErrorIs(t, err, ports.ErrNotFound)
}
