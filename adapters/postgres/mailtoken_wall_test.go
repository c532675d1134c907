package postgres_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// TestPendingSignUpHashesAreOutOfReachOfRawSQL is a SQL injection's view
// of mail_tokens as the application role (issue 16, item 6 for the
// sign-up table of migration 00016): a pending sign-up keeps the hash of
// the chosen password there until the mailed link is followed. The role
// may not read that hash, test it in a WHERE, return it from a DELETE, or
// call the definer function the repository consumes tokens through from
// any statement but the repository's own. Before migration 00021 every
// plain SELECT here returned the hash.
func TestPendingSignUpHashesAreOutOfReachOfRawSQL(t *testing.T) {
	s, pg := fresh(t)
	ctx := context.Background()
	token := sha256.Sum256([]byte("the mailed link's token"))
	other := sha256.Sum256([]byte("a second sign-up's token"))
	require.NoError(t, s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		for _, m := range []ports.MailToken{
			{TokenHash: token[:], Purpose: ports.MailTokenVerify, Email: "victim@example.com", Name: "Vic", PasswordHash: userHash, ExpiresAt: time.Now().Add(time.Hour)},
			{TokenHash: other[:], Purpose: ports.MailTokenVerify, Email: "other@example.com", PasswordHash: operatorHash, ExpiresAt: time.Now().Add(time.Hour)},
		} {
			if _, err := tx.MailTokens().Create(ctx, m); err != nil {
				return err
			}
		}
		return nil
	}))
	db := s.DB()

	for _, stmt := range []string{
		`SELECT password_hash FROM mail_tokens`,
		`SELECT * FROM mail_tokens`,
		`SELECT m FROM mail_tokens m`,
		`SELECT email FROM mail_tokens WHERE password_hash LIKE '$argon2id$%'`,
		`SELECT token_hash FROM mail_tokens`,
		`DELETE FROM mail_tokens RETURNING password_hash`,
		`DELETE FROM mail_tokens WHERE password_hash LIKE '$argon2id$%' RETURNING email`,
		`SELECT query_to_xml('SELECT password_hash FROM mail_tokens', false, false, '')`,
		`SELECT c.password_hash FROM mail_tokens m, stockade_consume_mail_token(m.token_hash, m.purpose, now()) c`,
		`SELECT * FROM stockade_consume_mail_token(sha256('the mailed link''s token'), 'verify', now())`,
		`SELECT query_to_xml('SELECT * FROM stockade_consume_mail_token(sha256(''the mailed link''''s token''), ''verify'', now())', false, false, '')`,
	} {
		t.Run(stmt, func(t *testing.T) {
			tx, err := db.Beginx()
			require.NoError(t, err)
			defer tx.Rollback()
			var out []string
			err = tx.Select(&out, stmt)
			require.Error(t, err, "got %v", out)
			assert.Equal(t, "42501", sqlState(err), "insufficient_privilege: %v", err)
			for _, h := range []string{userHash, operatorHash} {
				assert.NotContains(t, err.Error(), h)
			}
		})
	}

	t.Run("ColumnsTheServerNeedsStayUsable", func(t *testing.T) {
		var n int
		require.NoError(t, db.Get(&n, `SELECT count(*) FROM mail_tokens WHERE email = 'victim@example.com' AND expires_at > now()`))
		assert.Equal(t, 1, n)
	})

	t.Run("TheRepositoryStillConsumesAndReadsOneRow", func(t *testing.T) {
		var got ports.MailToken
		require.NoError(t, s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
			var err error
			got, err = tx.MailTokens().Consume(ctx, token[:], ports.MailTokenVerify, time.Now())
			return err
		}))
		assert.Equal(t, token[:], got.TokenHash)
		assert.Equal(t, "victim@example.com", got.Email)
		assert.Equal(t, "Vic", got.Name)
		assert.Equal(t, userHash, got.PasswordHash)
		var left int
		require.NoError(t, db.Get(&left, `SELECT count(*) FROM mail_tokens`))
		assert.Equal(t, 1, left, "only the consumed token is gone")
	})

	t.Run("TheFunctionIsTheOwnersAndTheAppRolesOnly", func(t *testing.T) {
		super := sqlx.MustConnect("pgx", pg.SuperURL)
		defer super.Close()
		var fn struct {
			Owner   string `db:"owner"`
			Definer bool   `db:"prosecdef"`
			Config  string `db:"config"`
			Public  bool   `db:"public_exec"`
			App     bool   `db:"app_exec"`
		}
		require.NoError(t, super.Get(&fn, `SELECT pg_get_userbyid(p.proowner) AS owner, p.prosecdef,
			array_to_string(p.proconfig, ',') AS config,
			EXISTS (SELECT FROM aclexplode(p.proacl) x WHERE x.grantee = 0 AND x.privilege_type = 'EXECUTE') AS public_exec,
			has_function_privilege($1, p.oid, 'EXECUTE') AS app_exec
			FROM pg_proc p WHERE p.proname = 'stockade_consume_mail_token'`, pg.AppRole))
		assert.Equal(t, pg.OwnerRole, fn.Owner)
		assert.True(t, fn.Definer)
		assert.Contains(t, fn.Config, "search_path=pg_catalog, public, pg_temp")
		assert.False(t, fn.Public, "EXECUTE is revoked from PUBLIC")
		assert.True(t, fn.App)
	})
}
