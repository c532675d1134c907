package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/ports"
)

const (
	userHash     = "$argon2id$v=19$m=19456,t=2,p=1$dXNlcnNhbHR1c2Vy$dXNlcmhhc2h1c2VyaGFzaHVzZXJoYXNodXNlcmg"
	operatorHash = "$argon2id$v=19$m=19456,t=2,p=1$b3BzYWx0b3BzYWx0$b3BoYXNob3BoYXNob3BoYXNob3BoYXNob3BoYXM"
)

// withCredentials stores a user with a password and an operator, through
// the port.
func withCredentials(t *testing.T, s *postgres.Store) (ports.User, ports.Operator) {
	t.Helper()
	var u ports.User
	var op ports.Operator
	require.NoError(t, s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		if u, err = tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: "victim@example.com"}); err != nil {
			return err
		}
		if err = tx.Passwords().Set(ctx, u.ID, userHash); err != nil {
			return err
		}
		op, err = tx.Operators().Create(ctx, ports.Operator{ID: ports.NewOperatorID(), Email: "ops@example.com", Name: "Ops"}, operatorHash)
		return err
	}))
	return u, op
}

// TestCredentialsAreOutOfReachOfRawSQL is a SQL injection's view as the
// application role, with no tenant set: it may not read a password hash,
// test one with a WHERE, or call the definer functions the repositories
// read them through from any statement but the repositories' own. Before
// migration 00018 every plain SELECT here returned the hashes.
func TestCredentialsAreOutOfReachOfRawSQL(t *testing.T) {
	s, _ := fresh(t)
	u, op := withCredentials(t, s)
	db := s.DB()

	for _, stmt := range []string{
		`SELECT hash FROM passwords`,
		`SELECT * FROM passwords`,
		`SELECT p FROM passwords p`,
		`SELECT password_hash FROM operators`,
		`SELECT * FROM operators`,
		`SELECT o FROM operators o`,
		`SELECT user_id FROM passwords WHERE hash LIKE '$argon2id$%'`,
		`SELECT id FROM operators WHERE password_hash LIKE '$argon2id$%'`,
		`UPDATE passwords SET updated_at = updated_at WHERE hash LIKE '$argon2id$%'`,
		`UPDATE passwords SET hash = hash`,
		`UPDATE passwords SET updated_at = updated_at RETURNING hash`,
		`UPDATE operators SET name = name WHERE password_hash LIKE '$argon2id$%'`,
		`SELECT query_to_xml('SELECT hash FROM passwords', false, false, '')`,
		`SELECT stockade_password_hash(id) FROM users`,
		`SELECT stockade_password_hash('` + u.ID.String() + `')`,
		`SELECT c.password_hash FROM operators o, stockade_operator_credentials(o.email) c`,
		`SELECT * FROM stockade_operator_credentials('` + op.Email + `')`,
		`SELECT query_to_xml('SELECT stockade_password_hash(id) FROM users', false, false, '')`,
	} {
		t.Run(stmt, func(t *testing.T) {
			var out []string
			err := db.Select(&out, stmt)
			require.Error(t, err, "got %v", out)
			assert.Equal(t, "42501", sqlState(err), "insufficient_privilege: %v", err)
			for _, h := range []string{userHash, operatorHash} {
				assert.NotContains(t, err.Error(), h)
			}
		})
	}

	t.Run("ColumnsTheServerNeedsStayReadable", func(t *testing.T) {
		var n int
		require.NoError(t, db.Get(&n, `SELECT count(*) FROM passwords WHERE user_id = $1`, u.ID))
		assert.Equal(t, 1, n)
		var email string
		require.NoError(t, db.Get(&email, `SELECT email FROM operators WHERE id = $1`, op.ID))
		assert.Equal(t, op.Email, email)
	})

	t.Run("TheRepositoriesStillReadAndWriteThem", func(t *testing.T) {
		ctx := context.Background()
		require.NoError(t, s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
			got, err := tx.Passwords().Get(ctx, u.ID)
			assert.Equal(t, userHash, got)
			if err != nil {
				return err
			}
			gotOp, hash, err := tx.Operators().Credentials(ctx, strings.ToUpper(op.Email))
			assert.Equal(t, op, gotOp)
			assert.Equal(t, operatorHash, hash)
			return err
		}, ports.ReadOnly()))
		const rehashed = "$argon2id$v=19$m=65536,t=3,p=1$bmV3c2FsdG5ld3NhbHQ$bmV3aGFzaG5ld2hhc2huZXdoYXNobmV3aGFzaG4"
		require.NoError(t, s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
			if err := tx.Passwords().Set(ctx, u.ID, rehashed); err != nil {
				return err
			}
			return tx.Operators().SetPasswordHash(ctx, op.ID, rehashed)
		}))
		require.NoError(t, s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
			got, err := tx.Passwords().Get(ctx, u.ID)
			assert.Equal(t, rehashed, got)
			if err != nil {
				return err
			}
			_, hash, err := tx.Operators().Credentials(ctx, op.Email)
			assert.Equal(t, rehashed, hash)
			return err
		}))
	})
}

// TestCatalogKeepsPasswordColumnsFromTheAppRole is the guard for later
// migrations: no column that holds a password hash (passwords.hash, any
// column whose name mentions a password) may be readable by the
// application role, whether through a table-wide or a column grant.
func TestCatalogKeepsPasswordColumnsFromTheAppRole(t *testing.T) {
	_, pg := fresh(t)
	super := sqlx.MustConnect("pgx", pg.SuperURL)
	defer super.Close()
	var cols []struct {
		Name     string `db:"name"`
		Readable bool   `db:"readable"`
	}
	require.NoError(t, super.Select(&cols, `
		SELECT c.relname || '.' || a.attname AS name, has_column_privilege($1, c.oid, a.attname, 'SELECT') AS readable
		FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped
		  AND (a.attname LIKE '%password%' OR (c.relname = 'passwords' AND a.attname = 'hash'))
		ORDER BY 1`, pg.AppRole))
	var names, readable []string
	for _, c := range cols {
		names = append(names, c.Name)
		if c.Readable {
			readable = append(readable, c.Name)
		}
	}
	assert.Subset(t, names, []string{"operators.password_hash", "passwords.hash"}, "the check looks at the real columns")
	assert.Empty(t, readable, "the application role can read these password columns")
}
