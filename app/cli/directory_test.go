package cli_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/cli"
	"github.com/stockadehq/stockade/ports"
)

// inGlobal opens the CLI's store and runs fn in a global unit of work.
func inGlobal(t *testing.T, env []string, fn func(ctx context.Context, tx ports.GlobalTx) error) {
	t.Helper()
	ctx := context.Background()
	cfg, err := app.LoadConfig(env, "")
	require.NoError(t, err)
	st, err := app.OpenStore(ctx, cfg, nil)
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.Global(ctx, fn))
}

// walk runs "<noun> list --format jsonl --limit n" page by page, following
// the cursor stderr names, and returns every row read and each page's
// length.
func walk(t *testing.T, env []string, noun string, n int) ([]map[string]any, []int) {
	t.Helper()
	// The hint that more rows follow names the next --after.
	nextCursor := regexp.MustCompile(`^more \w+ follow: stockade \w+ list --limit \d+ --after (\S+)\n$`)
	var rows []map[string]any
	var sizes []int
	after := ""
	for i := 0; i < 20; i++ {
		args := []string{noun, "list", "--format", "jsonl", "--limit", strconv.Itoa(n)}
		if after != "" {
			args = append(args, "--after", after)
		}
		out, stderr, err := run(t, env, args...)
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if out == "" {
			lines = nil
		}
		for _, l := range lines {
			var row map[string]any
			require.NoError(t, json.Unmarshal([]byte(l), &row), "each line is one JSON object: %q", l)
			rows = append(rows, row)
		}
		sizes = append(sizes, len(lines))
		if stderr == "" {
			return rows, sizes
		}
		m := nextCursor.FindStringSubmatch(stderr)
		require.NotNil(t, m, "stderr %q names the next page", stderr)
		require.NotEmpty(t, lines)
		assert.Equal(t, rows[len(rows)-1]["id"], m[1], "the cursor is the ID of the page's last row")
		after = m[1]
	}
	t.Fatal("the listing did not end after 20 pages")
	return nil, nil
}

// TestDirectoryListCommands: shop list, user list and org list print the
// whole directory, oldest first, as a table or JSON Lines, page by page
// with the next cursor on stderr; bad input is an error naming the flag
// and prints nothing.
func TestDirectoryListCommands(t *testing.T) {
	env := []string{
		"STOCKADE_DATA_DIR=" + filepath.Join(t.TempDir(), "data"),
		"STOCKADE_AUTH_ARGON2_MEMORY_KIB=7168", "STOCKADE_AUTH_ARGON2_ITERATIONS=5",
	}
	headers := map[string]string{
		"shop": "SLUG  NAME  STATUS  ORG  CREATED\n",
		"user": "EMAIL  NAME  VERIFIED  CREATED\n",
		"org":  "ID  NAME  SHOPS  CREATED\n",
	}
	for noun, header := range headers {
		out, stderr, err := run(t, env, noun, "list")
		require.NoError(t, err)
		assert.Equal(t, header, out, "an empty directory: the header alone")
		assert.Empty(t, stderr)
		out, _, err = run(t, env, noun, "list", "--format", "jsonl")
		require.NoError(t, err)
		assert.Empty(t, out)
	}

	_, err := runIn(t, env, "", "user", "create", "--email", "ada@example.com", "--name", "Ada Lovelace")
	require.NoError(t, err)
	_, err = runIn(t, env, "", "shop", "create", "--slug", "acme", "--name", "Acme Plumbing", "--owner", "ada@example.com")
	require.NoError(t, err)
	_, err = runIn(t, env, "", "shop", "create", "--slug", "beta", "--name", "Beta", "--org", "Beta HQ")
	require.NoError(t, err)
	_, err = runIn(t, env, "", "shop", "suspend", "--shop", "beta")
	require.NoError(t, err)
	// A second shop in Acme's org, an org with no shop and an account
	// that never proved its mailbox: none of which the CLI makes.
	var acme ports.Shop
	inGlobal(t, env, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		if acme, err = tx.Shops().GetBySlug(ctx, "acme"); err != nil {
			return err
		}
		if _, err := tx.Shops().Create(ctx, ports.Shop{ID: ports.NewShopID(), OrgID: acme.OrgID, Slug: "acme-north", Name: "Acme North", Status: ports.ShopActive}); err != nil {
			return err
		}
		if _, err := tx.Orgs().Create(ctx, ports.Org{ID: ports.NewOrgID(), Name: "Empty HQ"}); err != nil {
			return err
		}
		_, err = tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: "cy@example.com"})
		return err
	})

	// Tables.
	out, stderr, err := run(t, env, "shop", "list")
	require.NoError(t, err)
	assert.Empty(t, stderr, "one page holds them all: no cursor")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 4, out)
	assert.Regexp(t, `^SLUG +NAME +STATUS +ORG +CREATED$`, lines[0])
	assert.Regexp(t, `^acme +Acme Plumbing +active +`+acme.OrgID.String()+` +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`, lines[1])
	assert.Regexp(t, `^beta +Beta +suspended +`, lines[2], "suspended shops are listed too")
	assert.Regexp(t, `^acme-north +Acme North +active +`+acme.OrgID.String(), lines[3])

	out, _, err = run(t, env, "user", "list")
	require.NoError(t, err)
	lines = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 3, out)
	assert.Regexp(t, `^ada@example\.com +Ada Lovelace +\d{4}-\d\d-\d\dT\S+Z +\d{4}-`, lines[1], "an operator's account counts as verified")
	assert.Regexp(t, `^cy@example\.com +no +\d{4}-`, lines[2])

	out, _, err = run(t, env, "org", "list")
	require.NoError(t, err)
	lines = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 4, out)
	assert.Regexp(t, `^`+acme.OrgID.String()+` +Acme Plumbing +2 +\d{4}-`, lines[1], "the org is named like its first shop")
	assert.Regexp(t, ` Beta HQ +1 +`, lines[2])
	assert.Regexp(t, ` Empty HQ +0 +`, lines[3])

	// JSON Lines, page by page: every row once, in creation order.
	shops, sizes := walk(t, env, "shop", 2)
	assert.Equal(t, []int{2, 1}, sizes)
	require.Len(t, shops, 3)
	for i, slug := range []string{"acme", "beta", "acme-north"} {
		assert.Equal(t, slug, shops[i]["slug"])
	}
	assert.Equal(t, map[string]any{"id": acme.ID.String(), "slug": "acme", "name": "Acme Plumbing", "status": "active",
		"org_id": acme.OrgID.String(), "created_at": acme.CreatedAt.UTC().Format("2006-01-02T15:04:05.999999999Z07:00")}, shops[0])
	assert.Equal(t, "suspended", shops[1]["status"])

	users, sizes := walk(t, env, "user", 1)
	assert.Equal(t, []int{1, 1}, sizes, "a full last page asks for one more row: no empty page follows")
	require.Len(t, users, 2)
	assert.Equal(t, "ada@example.com", users[0]["email"])
	assert.Equal(t, true, users[0]["verified"])
	assert.NotEmpty(t, users[0]["verified_at"])
	assert.Equal(t, map[string]any{"id": users[1]["id"], "email": "cy@example.com", "name": "", "verified": false, "created_at": users[1]["created_at"]}, users[1],
		"an unverified account has no verified_at")

	orgs, sizes := walk(t, env, "org", 1)
	assert.Equal(t, []int{1, 1, 1}, sizes)
	require.Len(t, orgs, 3)
	assert.Equal(t, acme.OrgID.String(), orgs[0]["id"])
	assert.Equal(t, []any{2.0, 1.0, 0.0}, []any{orgs[0]["shops"], orgs[1]["shops"], orgs[2]["shops"]})

	// Bad input: an error naming the problem, one line, nothing printed.
	tests := []struct {
		name string
		args []string
		want error  // the sentinel, when there is one
		says string // what the line names
	}{
		{"limit zero", []string{"shop", "list", "--limit", "0"}, ports.ErrInvalid, "--limit must be 1 to 1000"},
		{"limit too large", []string{"user", "list", "--limit", "1001"}, ports.ErrInvalid, "--limit must be 1 to 1000"},
		{"limit negative", []string{"org", "list", "--limit", "-1"}, ports.ErrInvalid, "--limit must be 1 to 1000"},
		{"limit not a number", []string{"shop", "list", "--limit", "ten"}, nil, `invalid argument "ten" for "--limit"`},
		{"cursor not an ID", []string{"shop", "list", "--after", "acme"}, ports.ErrInvalid, `--after "acme" is not a cursor`},
		{"unknown cursor", []string{"user", "list", "--after", ports.NewUserID().String()}, ports.ErrNotFound, "no user has this ID"},
		{"another listing's cursor", []string{"org", "list", "--after", acme.ID.String()}, ports.ErrNotFound, "no org has this ID"},
		{"unknown format", []string{"org", "list", "--format", "csv"}, ports.ErrInvalid, "--format must be table or jsonl"},
		{"arguments", []string{"shop", "list", "acme"}, nil, `unknown command "acme"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, err := run(t, env, tt.args...)
			require.Error(t, err)
			if tt.want != nil {
				require.ErrorIs(t, err, tt.want)
			}
			line := cli.ErrorLine(err)
			assert.NotContains(t, line, "\n")
			assert.Contains(t, line, tt.says)
			assert.Empty(t, out)
			assert.Empty(t, stderr)
		})
	}
}
