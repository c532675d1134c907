package cli_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/app/cli"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
)

// migratedPostgres returns the CLI environment of a fresh Postgres
// database migrated by `stockade migrate`, and the database.
func migratedPostgres(t *testing.T) ([]string, testinfra.Postgres) {
	t.Helper()
	pg := testinfra.StartPostgres(t)
	env := []string{
		"STOCKADE_DATA_DIR=" + filepath.Join(t.TempDir(), "data"),
		"STOCKADE_DATABASE_URL=" + pg.AppURL, "STOCKADE_DATABASE_MIGRATE_URL=" + pg.OwnerURL,
	}
	_, err := runIn(t, env, "", "migrate")
	require.NoError(t, err)
	return env, pg
}

// isolationJSON is the part of the JSON report the tests read.
type isolationJSON struct {
	OK       bool   `json:"ok"`
	Version  string `json:"stockade_version"`
	Database string `json:"database_url"`
	Role     struct {
		Name string `json:"name"`
	} `json:"role"`
	Relations []struct {
		Name         string `json:"name"`
		RLSForced    bool   `json:"rls_forced"`
		TenantPolicy bool   `json:"tenant_policy"`
	} `json:"relations"`
	Probe struct {
		Ran   bool `json:"ran"`
		Steps []struct {
			OK bool `json:"ok"`
		} `json:"steps"`
	} `json:"probe"`
	Problems []struct {
		Subject string `json:"subject"`
		Problem string `json:"problem"`
	} `json:"problems"`
}

func TestVerifyIsolationCommand(t *testing.T) {
	env, pg := migratedPostgres(t)

	out, err := runIn(t, env, "", "verify", "isolation")
	require.NoError(t, err, out)
	assert.Regexp(t, `(?m)^Result:\s+PASS$`, out)
	assert.Regexp(t, `(?m)^Checked as role:\s+`+pg.AppRole+`$`, out)
	assert.Regexp(t, `(?m)^  public\.memberships\s+table\s+`+pg.OwnerRole+`\s+yes\s+yes\s+yes\s+0\s+no row of another shop$`, out)
	assert.Regexp(t, `(?m)^  public\.auth_mail\s+table\s+\S+\s+yes\s+yes\s+yes \(and shop-less rows\)`, out)
	assert.Regexp(t, `(?m)^  `+pg.OwnerRole+`\s+no\s+no\s+yes\s+yes\s+public\.stockade_user_shops\(uuid\)$`, out)
	assert.Contains(t, out, "  ok    as shop A, inserting a membership row for B is refused by row-level security (new row violates row-level security policy")
	assert.Contains(t, out, "\nProblems (0)\n  none\n")
	assert.NotContains(t, out, "FAIL")

	out, err = runIn(t, env, "", "verify", "isolation", "--format", "json")
	require.NoError(t, err)
	var rep isolationJSON
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.True(t, rep.OK)
	assert.Equal(t, "test", rep.Version)
	assert.Equal(t, pg.AppRole, rep.Role.Name)
	assert.Contains(t, rep.Database, "/"+pg.Database)
	assert.GreaterOrEqual(t, len(rep.Relations), 3)
	for _, rel := range rep.Relations {
		assert.True(t, rel.RLSForced && rel.TenantPolicy, rel.Name)
	}
	assert.True(t, rep.Probe.Ran)
	assert.Len(t, rep.Probe.Steps, 7)
	assert.Empty(t, rep.Problems)

	t.Run("AppRoleMemberOfTheOwner", func(t *testing.T) {
		super := sqlx.MustConnect("pgx", pg.SuperURL)
		defer super.Close()
		grant := fmt.Sprintf(`GRANT %s TO %s`, pgx.Identifier{pg.OwnerRole}.Sanitize(), pgx.Identifier{pg.AppRole}.Sanitize())
		super.MustExec(grant)
		defer super.MustExec(strings.Replace(strings.Replace(grant, "GRANT", "REVOKE", 1), " TO ", " FROM ", 1))

		out, err := runIn(t, env, "", "verify", "isolation")
		require.ErrorIs(t, err, postgres.ErrNotIsolated)
		line := cli.ErrorLine(err)
		assert.Contains(t, line, "role "+pg.AppRole, "the error names the failing role")
		assert.Contains(t, line, "can become "+pg.OwnerRole)
		assert.NotContains(t, line, "\n")
		assert.Regexp(t, `(?m)^Result:\s+FAIL \(\d+ problem\(s\) in role `+pg.AppRole, out, "the report is printed all the same")
		assert.Contains(t, out, "privileged roles within reach through membership: "+pg.OwnerRole+" (owns tables")

		out, err = runIn(t, env, "", "verify", "isolation", "--format", "json")
		require.ErrorIs(t, err, postgres.ErrNotIsolated)
		var rep isolationJSON
		require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
		assert.False(t, rep.OK)
		require.NotEmpty(t, rep.Problems)
		assert.Equal(t, "role "+pg.AppRole, rep.Problems[0].Subject)
	})

	t.Run("BadFormat", func(t *testing.T) {
		_, err := runIn(t, env, "", "verify", "isolation", "--format", "yaml")
		require.ErrorIs(t, err, ports.ErrInvalid)
	})
}

// On SQLite the command refuses with one line saying why.
func TestVerifyIsolationRefusesSQLite(t *testing.T) {
	env := []string{"STOCKADE_DATA_DIR=" + filepath.Join(t.TempDir(), "data")}
	out, err := runIn(t, env, "", "verify", "isolation")
	require.ErrorIs(t, err, ports.ErrUnsupported)
	assert.Empty(t, out)
	line := cli.ErrorLine(err)
	assert.NotContains(t, line, "\n")
	assert.Contains(t, line, "SQLite has no row-level security")
	assert.Contains(t, line, "docs/isolation.md")
}
