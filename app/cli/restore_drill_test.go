package cli_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
)

// TestRestoreDrill is the restore drill (issue 21): a populated database
// (shops, members, audit events with a signed checkpoint, files) is dumped
// with pg_dump, restored with pg_restore into a fresh database, and the
// copy passes `stockade migrate` (a no-op), `stockade audit verify` and
// `stockade verify isolation`, run through the CLI as the server's roles
// would run them. The copy keeps the source's roles, as a restore into a
// new cluster does after pg_dumpall --roles-only; both databases live in
// the cluster testinfra started.
func TestRestoreDrill(t *testing.T) {
	pgDump := testinfra.PostgresTool(t, "pg_dump")
	pgRestore := testinfra.PostgresTool(t, "pg_restore")
	env, src := migratedPostgres(t)

	// Populate through the CLI and the store, as the app would.
	for _, c := range [][]string{
		{"user", "create", "--email", "ada@example.com", "--name", "Ada"},
		{"user", "create", "--email", "bob@example.com", "--name", "Bob"},
		{"shop", "create", "--slug", "acme", "--name", "Acme", "--owner", "ada@example.com"},
		{"shop", "create", "--slug", "bravo", "--name", "Bravo", "--owner", "bob@example.com"},
		{"user", "create", "--email", "cy@example.com", "--shop", "acme", "--role", "tech"},
		{"member", "add", "--shop", "bravo", "--email", "ada@example.com", "--role", "viewer"},
	} {
		_, err := runIn(t, env, "", c...)
		require.NoError(t, err, "%v", c)
	}
	appendEvents(t, env, "acme", 4)
	appendEvents(t, env, "bravo", 3)
	addFiles(t, env, "acme", 3)
	addFiles(t, env, "bravo", 2)
	_, err := runIn(t, env, "", "audit", "checkpoint")
	require.NoError(t, err)
	appendEvents(t, env, "acme", 2) // events after the checkpoint too

	srcSuper := sqlx.MustConnect("pgx", src.SuperURL)
	defer srcSuper.Close()
	before := tableDigests(t, srcSuper)
	for _, table := range []string{"shops", "memberships", "audit_events", "audit_checkpoints", "files"} {
		require.NotZero(t, before[table].Rows, "the source has %s rows", table)
	}

	// Dump as the superuser: the tables' owner is bound by FORCE ROW
	// LEVEL SECURITY and pg_dump refuses to dump what a policy hides.
	dump := filepath.Join(t.TempDir(), "stockade.dump")
	runPGTool(t, pgDump, src.SuperURL, "--format=custom", "--file="+dump)

	// Restore into a fresh database with the source's owners and grants.
	dst := testinfra.StartPostgres(t)
	dstSuper := sqlx.MustConnect("pgx", dst.SuperURL)
	defer dstSuper.Close()
	runPGTool(t, pgRestore, dst.SuperURL, "--exit-on-error", "--single-transaction", dump)
	db, owner, appRole := pgx.Identifier{dst.Database}.Sanitize(), pgx.Identifier{src.OwnerRole}.Sanitize(), pgx.Identifier{src.AppRole}.Sanitize()
	dstSuper.MustExec(fmt.Sprintf(`ALTER DATABASE %s OWNER TO %s`, db, owner))
	dstSuper.MustExec(fmt.Sprintf(`GRANT CONNECT ON DATABASE %s TO %s, %s`, db, owner, appRole))
	assert.Equal(t, before, tableDigests(t, dstSuper), "the copy holds every row of every table, unchanged")

	// The copy, reached with the source's roles; the data directory (and
	// so the audit key) is the source's.
	copyEnv := []string{
		env[0],
		"STOCKADE_DATABASE_URL=" + withDatabase(t, src.AppURL, dst.Database),
		"STOCKADE_DATABASE_MIGRATE_URL=" + withDatabase(t, src.OwnerURL, dst.Database),
	}
	require.True(t, strings.HasPrefix(env[0], "STOCKADE_DATA_DIR="))

	out, err := runIn(t, copyEnv, "", "migrate")
	require.NoError(t, err)
	assert.Regexp(t, `^schema is current at version \d+\n$`, out, "migrate has nothing to do on the copy")

	out, err = runIn(t, copyEnv, "", "audit", "verify")
	require.NoError(t, err, out)
	assert.Regexp(t, `(?m)^acme: ok; \d+ events; checkpoint 1 at seq \d+$`, out)
	assert.Regexp(t, `(?m)^bravo: ok; \d+ events; checkpoint 1 at seq \d+$`, out)

	out, err = runIn(t, copyEnv, "", "verify", "isolation")
	require.NoError(t, err, out)
	assert.Regexp(t, `(?m)^Result:\s+PASS$`, out)
	out, err = runIn(t, copyEnv, "", "verify", "isolation", "--format", "json")
	require.NoError(t, err)
	var rep struct {
		OK       bool   `json:"ok"`
		Database string `json:"database"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.True(t, rep.OK)
	assert.Equal(t, dst.Database, rep.Database, "the checks ran on the copy")

	assert.Equal(t, before, tableDigests(t, dstSuper), "the checks left the copy as they found it")
}

// addFiles creates n file rows in the shop with slug, uploaded by one of
// its members; every other one is envelope-encrypted.
func addFiles(t *testing.T, env []string, slug string, n int) {
	t.Helper()
	ctx := context.Background()
	cfg, err := app.LoadConfig(env, "")
	require.NoError(t, err)
	st, err := app.OpenStore(ctx, cfg, nil)
	require.NoError(t, err)
	defer st.Close()
	var shop ports.Shop
	require.NoError(t, st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		shop, err = tx.Shops().GetBySlug(ctx, slug)
		return err
	}))
	require.NoError(t, st.InShop(ctx, shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		members, err := tx.Memberships().List(ctx)
		if err != nil {
			return err
		}
		for i := range n {
			id := ports.NewFileID()
			sum := sha256.Sum256([]byte(id.String()))
			f := ports.File{
				ID: id, Kind: "photo", Name: fmt.Sprintf("roof-%d.jpg", i), ContentType: "image/jpeg",
				Size: 1234, SHA256: sum[:], UploadedBy: members[0].UserID, State: ports.FilePending,
				ObjectKey: "shops/" + shop.ID.String() + "/photo/" + id.String(),
			}
			if i%2 == 1 {
				f.Encrypted, f.WrappedKey = true, []byte(rand.Text())
			}
			if _, err := tx.Files().Create(ctx, f); err != nil {
				return err
			}
		}
		return nil
	}))
}

// tableDigest is one table's row count and the MD5 of its rows' text,
// sorted.
type tableDigest struct {
	Rows int    `db:"n"`
	MD5  string `db:"md5"`
}

// tableDigests reads, as the superuser on db, the digest of every table
// of the public schema.
func tableDigests(t *testing.T, db *sqlx.DB) map[string]tableDigest {
	t.Helper()
	var tables []string
	require.NoError(t, db.Select(&tables, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`))
	require.NotEmpty(t, tables)
	out := map[string]tableDigest{}
	for _, table := range tables {
		var d tableDigest
		require.NoError(t, db.Get(&d, fmt.Sprintf(
			`SELECT count(*) AS n, md5(coalesce(string_agg(r::text, E'\n' ORDER BY r::text), '')) AS md5 FROM %s r`,
			pgx.Identifier{table}.Sanitize())), table)
		out[table] = d
	}
	return out
}

// runPGTool runs a PostgreSQL client program against the database at
// rawURL with args, the password passed in PGPASSWORD rather than on the
// command line, and fails the test with its output if it fails.
func runPGTool(t *testing.T, tool, rawURL string, args ...string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	password, _ := u.User.Password()
	u.User = url.User(u.User.Username())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, append([]string{"--dbname=" + u.String(), "--no-password"}, args...)...)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+password, "PGCONNECT_TIMEOUT=10")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", filepath.Base(tool), strings.Join(args, " "), out)
}

// withDatabase returns rawURL naming database instead of its own.
func withDatabase(t *testing.T, rawURL, database string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	u.Path = "/" + database
	return u.String()
}
