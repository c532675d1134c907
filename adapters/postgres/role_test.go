package postgres_test

import (
	"context"
	"fmt"
	"net/url"
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

// roleMaker creates cluster-wide roles for one test and drops them (and
// their grants in the test database) when it ends.
type roleMaker struct {
	t     *testing.T
	super *sqlx.DB
	pg    testinfra.Postgres
	n     int
}

func newRoleMaker(t *testing.T, pg testinfra.Postgres) *roleMaker {
	super := sqlx.MustConnect("pgx", pg.SuperURL)
	t.Cleanup(func() { super.Close() })
	return &roleMaker{t: t, super: super, pg: pg}
}

// role creates a role named after the test database with attrs and
// returns its name.
func (m *roleMaker) role(kind, attrs string) string {
	m.t.Helper()
	m.n++
	name := fmt.Sprintf("%s_%s_%d", kind, strings.TrimPrefix(m.pg.Database, "stockade_test_"), m.n)
	m.exec(fmt.Sprintf(`CREATE ROLE %s %s`, pgx.Identifier{name}.Sanitize(), attrs))
	m.t.Cleanup(func() {
		// DROP OWNED revokes the role's grants in this database and on the
		// database itself, so that DROP ROLE succeeds before the database
		// is dropped.
		m.super.MustExec(fmt.Sprintf(`DROP OWNED BY %s`, pgx.Identifier{name}.Sanitize()))
		m.super.MustExec(fmt.Sprintf(`DROP ROLE %s`, pgx.Identifier{name}.Sanitize()))
	})
	return name
}

// login creates a login role that may connect to the test database and
// is a member of stockade_app (so it has every grant the server needs),
// and returns its name and URL.
func (m *roleMaker) login(attrs string) (string, string) {
	m.t.Helper()
	name := m.role("login", "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD 'pw-for-the-test' "+attrs)
	m.exec(fmt.Sprintf(`GRANT CONNECT ON DATABASE %s TO %s`, pgx.Identifier{m.pg.Database}.Sanitize(), pgx.Identifier{name}.Sanitize()))
	m.grant("stockade_app", name)
	u, err := url.Parse(m.pg.AppURL)
	require.NoError(m.t, err)
	u.User = url.UserPassword(name, "pw-for-the-test")
	return name, u.String()
}

func (m *roleMaker) grant(role, to string) {
	m.t.Helper()
	m.exec(fmt.Sprintf(`GRANT %s TO %s`, pgx.Identifier{role}.Sanitize(), pgx.Identifier{to}.Sanitize()))
}

func (m *roleMaker) exec(stmt string) {
	m.t.Helper()
	_, err := m.super.Exec(stmt)
	require.NoError(m.t, err, stmt)
}

// TestOpenRefusesRolesThatReachAPrivilegedRole connects as login roles
// that are plain members of stockade_app except for one membership (direct
// or through a chain) that lets them bypass row-level security or the
// column grants, and expects Open to refuse each. Every case was accepted
// before the check looked at memberships.
func TestOpenRefusesRolesThatReachAPrivilegedRole(t *testing.T) {
	ctx := context.Background()
	s, pg := fresh(t)
	s.Close()
	m := newRoleMaker(t, pg)

	t.Run("PlainMemberOfTheGroupIsAccepted", func(t *testing.T) {
		_, u := m.login("")
		st, err := postgres.Open(ctx, u)
		require.NoError(t, err)
		st.Close()
	})

	cases := []struct {
		name  string
		setup func(login string)
		why   string
	}{
		{"MemberOfTheSchemaOwner", func(login string) { m.grant(pg.OwnerRole, login) }, "owns tables"},
		{"MemberOfASuperuser", func(login string) {
			m.grant(m.role("super", "NOLOGIN SUPERUSER"), login)
		}, "superuser"},
		{"MemberOfABypassRLSRole", func(login string) {
			m.grant(m.role("bypass", "NOLOGIN BYPASSRLS"), login)
		}, "bypassrls"},
		{"NestedChainToTheOwner", func(login string) {
			outer, inner := m.role("outer", "NOLOGIN"), m.role("inner", "NOLOGIN")
			m.grant(pg.OwnerRole, inner)
			m.grant(inner, outer)
			m.grant(outer, login)
		}, "owns tables"},
		{"NestedChainToABypassRLSRole", func(login string) {
			outer, inner := m.role("outer", "NOLOGIN"), m.role("inner", "NOLOGIN")
			m.grant(m.role("bypass", "NOLOGIN BYPASSRLS"), inner)
			m.grant(inner, outer)
			m.grant(outer, login)
		}, "bypassrls"},
		// Through a NOINHERIT step the login role does not use the owner's
		// privileges (pg_has_role USAGE is false) but may still SET ROLE to
		// it (MEMBER): refused all the same.
		{"NoInheritStepToTheOwner", func(login string) {
			step := m.role("step", "NOLOGIN NOINHERIT")
			m.grant(pg.OwnerRole, step)
			m.grant(step, login)
		}, "owns tables"},
		// pg_read_all_data reads every column whatever the grants say.
		{"MemberOfPgReadAllData", func(login string) { m.grant("pg_read_all_data", login) }, "reads or writes"},
		// Before PostgreSQL 16, CREATEROLE may grant itself the owner.
		{"MemberOfACreateRoleRole", func(login string) {
			m.grant(m.role("roles", "NOLOGIN CREATEROLE"), login)
		}, "createrole"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			login, u := m.login("")
			tc.setup(login)
			st, err := postgres.Open(ctx, u)
			if err == nil {
				st.Close()
			}
			require.ErrorIs(t, err, ports.ErrInvalid)
			assert.ErrorContains(t, err, "row-level security")
			assert.ErrorContains(t, err, tc.why)
			assert.NotContains(t, err.Error(), "pw-for-the-test")
		})
	}

	t.Run("MemberOfTheOwnerCouldLowerTheWall", func(t *testing.T) {
		// Why the membership matters: such a role turns RLS off.
		login, u := m.login("")
		m.grant(pg.OwnerRole, login)
		db := sqlx.MustConnect("pgx", u)
		defer db.Close()
		tx := db.MustBegin()
		defer tx.Rollback()
		tx.MustExec(fmt.Sprintf(`SET LOCAL ROLE %s`, pgx.Identifier{pg.OwnerRole}.Sanitize()))
		_, err := tx.Exec(`ALTER TABLE memberships NO FORCE ROW LEVEL SECURITY`)
		require.NoError(t, err, "the owner's member can lower the wall, so Open must refuse it")
	})
}

// TestOpenErrorMasksOnlyThePassword: a URL the driver refuses is named
// with its password masked and the words around it intact (the password
// "b" used to turn "disable" into "disaxxxxxle").
func TestOpenErrorMasksOnlyThePassword(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://app:b@127.0.0.1:1/x?sslmode=bogus")
	require.ErrorIs(t, err, ports.ErrInvalid)
	assert.ErrorContains(t, err, "sslmode is invalid")
	assert.NotContains(t, err.Error(), ":b@", "the password is masked")
	assert.Contains(t, err.Error(), "127.0.0.1:1/x", "the words around it stay intact")
}
