package cli_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// TestShopErase is `stockade shop erase` (LIFE-3): refused without a
// reason, without an operator, or with one who is not an enabled
// operator, each leaving the shop as it was; with both it erases the
// shop, whose slug then names nothing, and leaves the other shop alone.
func TestShopErase(t *testing.T) {
	env := []string{"STOCKADE_DATA_DIR=" + t.TempDir()}
	for _, slug := range []string{"acme", "other"} {
		_, err := runIn(t, env, "", "shop", "create", "--slug", slug, "--name", slug)
		require.NoError(t, err)
	}
	_, err := runIn(t, env, "a long operator password\n", "operator", "create", "--email", "olga@ops.example.com")
	require.NoError(t, err)

	_, err = runIn(t, env, "", "shop", "erase", "--shop", "acme", "--operator", "olga@ops.example.com")
	require.ErrorIs(t, err, ports.ErrInvalid, "no reason")
	_, err = runIn(t, env, "", "shop", "erase", "--shop", "acme", "--operator", "olga@ops.example.com", "--reason", "   ")
	require.ErrorIs(t, err, ports.ErrInvalid, "a blank reason")
	_, err = runIn(t, env, "", "shop", "erase", "--shop", "acme", "--reason", "customer asked")
	require.ErrorIs(t, err, ports.ErrInvalid, "no operator")
	_, err = runIn(t, env, "", "shop", "erase", "--shop", "acme", "--operator", "mallory@example.com", "--reason", "customer asked")
	require.ErrorIs(t, err, ports.ErrForbidden, "not an operator")
	out, err := runIn(t, env, "", "shop", "list")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)\bacme\b`, out, "a refused erasure keeps the shop")

	out, err = runIn(t, env, "", "shop", "erase", "--shop", "acme", "--operator", "olga@ops.example.com", "--reason", "customer asked, ticket 7")
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`^erased shop acme \(\S+\): 0 objects, \d+ rows; chain ended at \d+\n$`), out)
	_, err = runIn(t, env, "", "shop", "erase", "--shop", "acme", "--operator", "olga@ops.example.com", "--reason", "again")
	require.ErrorIs(t, err, ports.ErrNotFound, "the slug names nothing now")
	out, err = runIn(t, env, "", "shop", "list")
	require.NoError(t, err)
	assert.Contains(t, out, "other")
	assert.NotRegexp(t, `(?m)\bacme\b`, out)
}
