package testinfra_test

import (
	"database/sql"
	"errors"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/internal/testinfra"
)

// openDB connects to dsn, checks the connection and closes it in t.Cleanup.
func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, db.Close()) })
	require.NoError(t, db.PingContext(t.Context()))
	return db
}

func TestPostgresRoles(t *testing.T) {
	t.Parallel()
	pg := testinfra.StartPostgres(t)
	ctx := t.Context()

	app := openDB(t, pg.AppURL)
	var (
		user, database                                   string
		super, bypassRLS, createDB, createRole, isMember bool
	)
	require.NoError(t, app.QueryRowContext(ctx, `
		SELECT current_user, current_database(), rolsuper, rolbypassrls, rolcreatedb, rolcreaterole,
		       pg_has_role(current_user, 'stockade_app', 'member')
		FROM pg_roles WHERE rolname = current_user`).
		Scan(&user, &database, &super, &bypassRLS, &createDB, &createRole, &isMember))
	assert.Equal(t, pg.AppRole, user)
	assert.Equal(t, pg.Database, database)
	assert.False(t, super, "app role must not be superuser")
	assert.False(t, bypassRLS, "app role must not bypass RLS")
	assert.False(t, createDB, "app role must not create databases")
	assert.False(t, createRole, "app role must not create roles")
	assert.True(t, isMember, "app role must be a member of stockade_app")

	owner := openDB(t, pg.OwnerURL)
	require.NoError(t, owner.QueryRowContext(ctx, "SELECT current_user").Scan(&user))
	assert.Equal(t, pg.OwnerRole, user)
	_, err := owner.ExecContext(ctx, "CREATE TABLE widgets (id bigint PRIMARY KEY)")
	require.NoError(t, err, "owner role must be able to create tables")

	superDB := openDB(t, pg.SuperURL)
	require.NoError(t, superDB.QueryRowContext(ctx,
		"SELECT current_database(), rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&database, &super))
	assert.Equal(t, pg.Database, database)
	assert.True(t, super, "SuperURL must connect as a superuser")

	other := testinfra.StartPostgres(t)
	assert.NotEqual(t, pg.Database, other.Database)
	assert.NotEqual(t, pg.OwnerRole, other.OwnerRole)
	assert.NotEqual(t, pg.AppRole, other.AppRole)

	// CONNECT is revoked from PUBLIC: one test's app role cannot reach
	// another test's database.
	cross, err := url.Parse(pg.AppURL)
	require.NoError(t, err)
	cross.Path = "/" + other.Database
	db, err := sql.Open("pgx", cross.String())
	require.NoError(t, err)
	defer db.Close()
	err = db.PingContext(ctx)
	require.Error(t, err, "app role of one test must not connect to another test's database")
	var pe *pgconn.PgError
	assert.True(t, errors.As(err, &pe) && pe.Code == "42501", "want insufficient_privilege, got %v", err)
}

func TestPostgresCleanupDropsDatabaseAndRoles(t *testing.T) {
	t.Parallel()
	parent := t
	var dropped testinfra.Postgres
	t.Run("create", func(t *testing.T) {
		dropped = testinfra.StartPostgres(t)
		// Closed only by the parent, so this connection is still open when
		// the subtest's cleanup drops the database and must be terminated.
		db, err := sql.Open("pgx", dropped.AppURL)
		require.NoError(t, err)
		parent.Cleanup(func() { _ = db.Close() })
		require.NoError(t, db.PingContext(t.Context()))
	})
	if dropped.Database == "" {
		t.Skip("subtest did not create a database")
	}

	observer := openDB(t, testinfra.StartPostgres(t).SuperURL)
	var n int
	require.NoError(t, observer.QueryRowContext(t.Context(),
		"SELECT count(*) FROM pg_database WHERE datname = $1", dropped.Database).Scan(&n))
	assert.Zero(t, n, "database %s must be dropped", dropped.Database)
	require.NoError(t, observer.QueryRowContext(t.Context(),
		"SELECT count(*) FROM pg_roles WHERE rolname IN ($1, $2)", dropped.OwnerRole, dropped.AppRole).Scan(&n))
	assert.Zero(t, n, "roles %s and %s must be dropped", dropped.OwnerRole, dropped.AppRole)
}
