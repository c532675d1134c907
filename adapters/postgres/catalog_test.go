package postgres_test

import (
	"fmt"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// catalogViolations inspects the live catalog: every table with a shop_id
// column must have ENABLE and FORCE ROW LEVEL SECURITY and a policy with
// both USING and WITH CHECK; the connected application role must own no
// table and be neither superuser nor BYPASSRLS.
func catalogViolations(t *testing.T, super *sqlx.DB, appRole string) []string {
	t.Helper()
	var tables []struct {
		Name    string `db:"name"`
		Enabled bool   `db:"enabled"`
		Forced  bool   `db:"forced"`
		Full    int    `db:"full_policies"`
	}
	require.NoError(t, super.Select(&tables, `
		SELECT c.oid::regclass::text AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
		       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid AND p.polqual IS NOT NULL
		          AND (p.polwithcheck IS NOT NULL OR p.polcmd IN ('r', 'd'))) AS full_policies
		FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
		WHERE a.attname = 'shop_id' AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
		  AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
		ORDER BY 1`))
	var out []string
	for _, tb := range tables {
		if !tb.Enabled || !tb.Forced || tb.Full == 0 {
			out = append(out, fmt.Sprintf("table %s: enable=%t force=%t policies with USING+CHECK=%d", tb.Name, tb.Enabled, tb.Forced, tb.Full))
		}
	}
	var role struct {
		Super  bool `db:"rolsuper"`
		Bypass bool `db:"rolbypassrls"`
		Owns   int  `db:"owns"`
	}
	require.NoError(t, super.Get(&role, `SELECT rolsuper, rolbypassrls,
		(SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid AND c.relkind IN ('r', 'p')) AS owns
		FROM pg_roles r WHERE rolname = $1`, appRole))
	if role.Super || role.Bypass || role.Owns > 0 {
		out = append(out, fmt.Sprintf("role %s: superuser=%t bypassrls=%t owns=%d", appRole, role.Super, role.Bypass, role.Owns))
	}
	return out
}

// TestCatalogEnforcesRLSOnEveryTenantTable is the guard for every later
// migration: add a tenant table without its policy and this fails. The
// second half proves it by adding such a table.
func TestCatalogEnforcesRLSOnEveryTenantTable(t *testing.T) {
	_, pg := fresh(t)
	super := sqlx.MustConnect("pgx", pg.SuperURL)
	defer super.Close()
	var count int
	require.NoError(t, super.Get(&count, `SELECT count(DISTINCT attrelid) FROM pg_attribute WHERE attname = 'shop_id'
		AND attrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r')`))
	require.GreaterOrEqual(t, count, 3, "the check looks at real tenant tables")
	assert.Empty(t, catalogViolations(t, super, pg.AppRole))

	owner := sqlx.MustConnect("pgx", pg.OwnerURL)
	defer owner.Close()
	owner.MustExec(`CREATE TABLE forgotten (shop_id uuid NOT NULL, note text)`)
	owner.MustExec(`CREATE TABLE half_done (shop_id uuid NOT NULL)`)
	owner.MustExec(`ALTER TABLE half_done ENABLE ROW LEVEL SECURITY`)
	owner.MustExec(`CREATE POLICY p ON half_done USING (true)`) // no FORCE, and FOR ALL without WITH CHECK defaults to USING
	super.MustExec(fmt.Sprintf(`ALTER TABLE forgotten OWNER TO %s`, pg.AppRole))
	got := catalogViolations(t, super, pg.AppRole)
	assert.Len(t, got, 3, "%v", got)
	assert.Contains(t, fmt.Sprint(got), "table forgotten")
	assert.Contains(t, fmt.Sprint(got), "table half_done: enable=true force=false")
	assert.Contains(t, fmt.Sprint(got), "owns=1")
}
