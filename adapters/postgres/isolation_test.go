package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
)

// TestVerifyIsolationPassesOnAMigratedDatabase: Stockade's own schema,
// reached as the application role, passes every check, and the probe
// leaves nothing behind.
func TestVerifyIsolationPassesOnAMigratedDatabase(t *testing.T) {
	_, pg := fresh(t)
	rep, err := postgres.VerifyIsolation(context.Background(), pg.AppURL)
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	assert.True(t, rep.OK())
	assert.Empty(t, rep.Problems)

	assert.Equal(t, pg.AppRole, rep.Role.Name)
	assert.Empty(t, rep.Role.Owns)
	assert.Empty(t, rep.Role.Reaches)
	assert.Equal(t, pg.Database, rep.Database)
	assert.Positive(t, rep.SchemaVersion)
	assert.False(t, rep.CheckedAt.IsZero())

	names := map[string]postgres.RelationIsolation{}
	for _, rel := range rep.Relations {
		names[rel.Name] = rel
		assert.Equal(t, "table", rel.Kind, rel.Name)
		assert.True(t, rel.RLSEnabled && rel.RLSForced && rel.TenantPolicy, "%+v", rel)
		assert.Empty(t, rel.OtherPolicies, rel.Name)
		assert.Equal(t, pg.OwnerRole, rel.Owner, rel.Name)
		if rel.CanRead {
			assert.Equal(t, "no row of another shop", rel.ProbeRead, rel.Name)
		}
	}
	for _, want := range []string{"public.memberships", "public.files", "public.audit_events", "public.auth_mail"} {
		assert.Contains(t, names, want)
	}
	assert.True(t, names["public.auth_mail"].SharedRows, "auth_mail admits shop-less mail")
	assert.False(t, names["public.memberships"].SharedRows)

	require.NotEmpty(t, rep.DefinerFunctions)
	for _, f := range rep.DefinerFunctions {
		assert.Equal(t, pg.OwnerRole, f.Owner, f.Name)
		assert.True(t, f.PinnedPath, f.Name)
	}

	assert.True(t, rep.Probe.Ran)
	assert.Len(t, rep.Probe.Steps, 7)
	for _, s := range rep.Probe.Steps {
		assert.True(t, s.OK, "%+v", s)
	}

	super := sqlx.MustConnect("pgx", pg.SuperURL)
	defer super.Close()
	var left int
	require.NoError(t, super.Get(&left, `SELECT (SELECT count(*) FROM orgs) + (SELECT count(*) FROM shops) + (SELECT count(*) FROM users) + (SELECT count(*) FROM memberships)`))
	assert.Zero(t, left, "the probe's transaction is rolled back")
}

// TestVerifyIsolationNamesWhatIsBroken breaks one thing per case in a
// correct database and expects the report to fail naming it.
func TestVerifyIsolationNamesWhatIsBroken(t *testing.T) {
	cases := []struct {
		name    string
		breakIt func(t *testing.T, pg testinfra.Postgres, owner, super *sqlx.DB)
		subject func(pg testinfra.Postgres) string
		want    []string // in the subject's problems
		probe   string   // a failed probe step, if the probe must catch it too
	}{
		{
			name: "TableWithoutForce",
			breakIt: func(t *testing.T, pg testinfra.Postgres, owner, super *sqlx.DB) {
				owner.MustExec(`ALTER TABLE files NO FORCE ROW LEVEL SECURITY`)
			},
			subject: func(testinfra.Postgres) string { return "table public.files" },
			want:    []string{"row-level security is not forced"},
		},
		{
			name: "AppRoleMemberOfTheOwner",
			breakIt: func(t *testing.T, pg testinfra.Postgres, owner, super *sqlx.DB) {
				super.MustExec(fmt.Sprintf(`GRANT %s TO %s`, pgx.Identifier{pg.OwnerRole}.Sanitize(), pgx.Identifier{pg.AppRole}.Sanitize()))
			},
			subject: func(pg testinfra.Postgres) string { return "role " + pg.AppRole },
			want:    []string{"can become ", "through role membership", "owns tables"},
		},
		{
			name: "SecurityDefinerFunctionOwnedByASuperuser",
			breakIt: func(t *testing.T, pg testinfra.Postgres, owner, super *sqlx.DB) {
				super.MustExec(`CREATE FUNCTION public.count_every_member() RETURNS bigint LANGUAGE sql SECURITY DEFINER
					SET search_path = pg_catalog, public AS $$SELECT count(*) FROM memberships$$`)
			},
			subject: func(testinfra.Postgres) string { return "function public.count_every_member()" },
			want:    []string{"is SECURITY DEFINER and owned by the superuser postgres"},
		},
		{
			name: "PolicyThatShowsEveryShop",
			breakIt: func(t *testing.T, pg testinfra.Postgres, owner, super *sqlx.DB) {
				owner.MustExec(`CREATE POLICY peek ON memberships FOR SELECT USING (true)`)
			},
			subject: func(testinfra.Postgres) string { return "table public.memberships" },
			want:    []string{"policy peek FOR SELECT TO PUBLIC USING (true) applies to the role"},
			probe:   "as shop A, no relation shows a row of another shop: rows visible in public.memberships",
		},
		{
			name: "PolicyThatAcceptsAnyShop",
			breakIt: func(t *testing.T, pg testinfra.Postgres, owner, super *sqlx.DB) {
				owner.MustExec(`CREATE POLICY stuff ON memberships FOR INSERT WITH CHECK (true)`)
			},
			subject: func(testinfra.Postgres) string { return "table public.memberships" },
			want:    []string{"policy stuff FOR INSERT TO PUBLIC"},
			probe:   "as shop A, inserting a membership row for B is refused by row-level security: ACCEPTED",
		},
		{
			name: "ReadableMaterializedView",
			breakIt: func(t *testing.T, pg testinfra.Postgres, owner, super *sqlx.DB) {
				owner.MustExec(`CREATE MATERIALIZED VIEW member_counts AS SELECT shop_id, count(*) AS n FROM memberships GROUP BY shop_id`)
				owner.MustExec(`GRANT SELECT ON member_counts TO stockade_app`)
			},
			subject: func(testinfra.Postgres) string { return "materialized view public.member_counts" },
			want:    []string{"a materialized view has no row-level security"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, pg := fresh(t)
			owner := sqlx.MustConnect("pgx", pg.OwnerURL)
			defer owner.Close()
			super := sqlx.MustConnect("pgx", pg.SuperURL)
			defer super.Close()
			tc.breakIt(t, pg, owner, super)

			rep, err := postgres.VerifyIsolation(context.Background(), pg.AppURL)
			require.NoError(t, err, "a broken database is reported, not refused")
			require.False(t, rep.OK())
			subject := tc.subject(pg)
			assert.Contains(t, rep.Failing(), subject)
			var found []string
			for _, p := range rep.Problems {
				if p.Subject == subject {
					found = append(found, p.Problem)
				}
			}
			for _, w := range tc.want {
				assert.Contains(t, strings.Join(found, "\n"), w)
			}
			err = rep.Err()
			require.ErrorIs(t, err, postgres.ErrNotIsolated)
			assert.Contains(t, err.Error(), subject, "the error names what failed")
			var probe []string
			for _, p := range rep.Problems {
				if p.Subject == "probe" {
					probe = append(probe, p.Problem)
				}
			}
			if tc.probe == "" {
				assert.Empty(t, probe, "the row-level security itself still holds")
			} else {
				assert.Contains(t, probe, tc.probe)
			}
		})
	}
}

// TestVerifyIsolationNeedsACurrentSchema: on a database not migrated yet
// there is nothing to judge.
func TestVerifyIsolationNeedsACurrentSchema(t *testing.T) {
	pg := testinfra.StartPostgres(t)
	_, err := postgres.VerifyIsolation(context.Background(), pg.AppURL)
	require.ErrorIs(t, err, ports.ErrSchemaBehind)
	_, err = postgres.VerifyIsolation(context.Background(), "mysql://nope")
	require.ErrorIs(t, err, ports.ErrInvalid)
}
