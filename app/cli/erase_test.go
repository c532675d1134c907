package cli_test

import (
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// TestShopErase is `stockade shop erase` (LIFE-3): refused without a
// reason, without an operator, with one who is not an enabled operator,
// with a wrong password or code, or with an operator who has no second
// factor (AAL2 is required, AUTH-18), each leaving the shop as it was;
// with all of them it erases the shop, whose slug then names nothing, and
// leaves the other shop alone.
func TestShopErase(t *testing.T) {
	dir := t.TempDir()
	env := []string{"STOCKADE_DATA_DIR=" + dir, "STOCKADE_AUTH_ARGON2_MEMORY_KIB=7168", "STOCKADE_AUTH_ARGON2_ITERATIONS=5"}
	for _, slug := range []string{"acme", "other"} {
		_, err := runIn(t, env, "", "shop", "create", "--slug", slug, "--name", slug)
		require.NoError(t, err)
	}
	const pw = "a long operator password"
	out, err := runIn(t, env, pw+"\n", "operator", "create", "--email", "olga@ops.example.com", "--totp", "--qr", filepath.Join(dir, "olga.png"))
	require.NoError(t, err)
	m := regexp.MustCompile(`TOTP secret \(shown once\): ([A-Z2-7]+)`).FindStringSubmatch(out)
	require.Len(t, m, 2, out)
	_, err = runIn(t, env, pw+"\n", "operator", "create", "--email", "nofactor@ops.example.com")
	require.NoError(t, err)
	code := func(at time.Time) string {
		c, err := auth.TOTPCode(m[1], at)
		require.NoError(t, err)
		return c
	}
	erase := func(operator, stdin string, reason ...string) (string, error) {
		args := []string{"shop", "erase", "--shop", "acme", "--operator", operator}
		if len(reason) > 0 {
			args = append(args, "--reason", reason[0])
		}
		return runIn(t, env, stdin, args...)
	}
	now := time.Now()
	good := pw + "\n" + code(now) + "\n"

	_, err = erase("olga@ops.example.com", good)
	require.ErrorIs(t, err, ports.ErrInvalid, "no reason")
	_, err = erase("olga@ops.example.com", good, "   ")
	require.ErrorIs(t, err, ports.ErrInvalid, "a blank reason")
	_, err = runIn(t, env, good, "shop", "erase", "--shop", "acme", "--reason", "customer asked")
	require.ErrorIs(t, err, ports.ErrInvalid, "no operator")
	_, err = erase("mallory@example.com", good, "customer asked")
	require.ErrorIs(t, err, ports.ErrForbidden, "not an operator")
	_, err = erase("olga@ops.example.com", pw+"\n", "customer asked")
	require.ErrorIs(t, err, ports.ErrInvalid, "no second-factor code")
	_, err = erase("olga@ops.example.com", "wrong password here\n"+code(now)+"\n", "customer asked")
	require.ErrorIs(t, err, ports.ErrUnauthenticated, "a wrong password")
	_, err = erase("olga@ops.example.com", pw+"\n000000\n", "customer asked")
	require.ErrorIs(t, err, ports.ErrUnauthenticated, "a wrong code")
	_, err = erase("nofactor@ops.example.com", pw+"\n123456\n", "customer asked")
	require.ErrorIs(t, err, ports.ErrForbidden, "an operator without a second factor")
	out, err = runIn(t, env, "", "shop", "list")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)\bacme\b`, out, "a refused erasure keeps the shop")

	out, err = erase("olga@ops.example.com", good, "customer asked, ticket 7")
	require.NoError(t, err)
	assert.Regexp(t, regexp.MustCompile(`(?m)^erased shop acme \(\S+\): 0 objects, \d+ rows; chain ended at \d+\n$`), out)
	_, err = erase("olga@ops.example.com", good, "again")
	require.ErrorIs(t, err, ports.ErrNotFound, "the slug names nothing now")
	out, err = runIn(t, env, "", "shop", "list")
	require.NoError(t, err)
	assert.Contains(t, out, "other")
	assert.NotRegexp(t, `(?m)\bacme\b`, out)
}
