package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/postgres"
)

// catalogViolations inspects the live catalog through
// postgres.VerifyIsolation, the check `stockade verify isolation` runs,
// connected as the application role at appURL: every table with a shop_id
// column must have ENABLE and FORCE ROW LEVEL SECURITY and the tenant
// policy; the application role must own nothing and be neither superuser
// nor BYPASSRLS, nor reach such a role. It returns the problems, each as
// "subject: problem".
func catalogViolations(t *testing.T, appURL string) []string {
	t.Helper()
	rep, err := postgres.VerifyIsolation(context.Background(), appURL)
	require.NoError(t, err)
	out := []string{}
	for _, p := range rep.Problems {
		out = append(out, p.String())
	}
	return out
}

// problemsOf returns the problems of subject among violations.
func problemsOf(violations []string, subject string) []string {
	var out []string
	for _, v := range violations {
		if strings.HasPrefix(v, subject+": ") {
			out = append(out, v)
		}
	}
	return out
}

// subjects returns the distinct subjects of violations.
func subjects(violations []string) []string {
	var out []string
	for _, v := range violations {
		s, _, _ := strings.Cut(v, ": ")
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
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
	assert.Empty(t, catalogViolations(t, pg.AppURL))

	owner := sqlx.MustConnect("pgx", pg.OwnerURL)
	defer owner.Close()
	owner.MustExec(`CREATE TABLE forgotten (shop_id uuid NOT NULL, note text)`)
	owner.MustExec(`CREATE TABLE half_done (shop_id uuid NOT NULL)`)
	owner.MustExec(`ALTER TABLE half_done ENABLE ROW LEVEL SECURITY`)
	owner.MustExec(`CREATE POLICY p ON half_done USING (true)`) // no FORCE, and FOR ALL without WITH CHECK defaults to USING
	super.MustExec(fmt.Sprintf(`ALTER TABLE forgotten OWNER TO %s`, pg.AppRole))
	got := catalogViolations(t, pg.AppURL)
	assert.ElementsMatch(t, []string{"table public.forgotten", "table public.half_done", "role " + pg.AppRole}, subjects(got), "%v", got)
	assert.Contains(t, fmt.Sprint(problemsOf(got, "table public.forgotten")), "row-level security is not enabled")
	half := fmt.Sprint(problemsOf(got, "table public.half_done"))
	assert.NotContains(t, half, "not enabled", "enable=true")
	assert.Contains(t, half, "row-level security is not forced", "force=false")
	assert.Contains(t, half, "has no tenant policy")
	assert.Contains(t, half, "policy p FOR ALL TO PUBLIC USING (true)", "USING (true) is no tenant policy")
	assert.Contains(t, fmt.Sprint(problemsOf(got, "role "+pg.AppRole)), "owns table public.forgotten")
}
