package postgres_test

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// TestAuthMailRowLevelSecurity attacks auth_mail with raw SQL as the
// application role: a shop sees its own and shop-less mail only, no
// tenant sees shop-less mail only, rows naming another shop are refused,
// the role cannot delete, and the maintenance flag opens nothing to it.
func TestAuthMailRowLevelSecurity(t *testing.T) {
	s, _ := fresh(t)
	a, b := twoShops(t, s)
	ctx := context.Background()
	mail := func(to string) ports.AuthMail {
		return ports.AuthMail{ID: ports.NewAuthMailID(), Kind: ports.AuthMailMagicLink, To: to, Subject: "Your link", Sealed: []byte("sealed")}
	}
	for _, shop := range []ports.ShopID{a, b} {
		require.NoError(t, s.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.AuthMail().Enqueue(ctx, mail("ann@example.com"))
			return err
		}))
	}
	require.NoError(t, s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		_, err := tx.AuthMail().Enqueue(ctx, mail("cy@example.com"))
		return err
	}))
	db := s.DB()
	shops := func(q sqlx.Queryer) []string {
		var out []string
		require.NoError(t, sqlx.Select(q, &out, `SELECT coalesce(shop_id::text, 'none') FROM auth_mail ORDER BY 1`))
		return out
	}

	t.Run("ShopSeesItsOwnAndShopLessMail", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			assert.ElementsMatch(t, []string{a.String(), "none"}, shops(tx))
		})
	})
	t.Run("NoTenantSeesShopLessMailOnly", func(t *testing.T) {
		assert.Equal(t, []string{"none"}, shops(db))
	})
	t.Run("WritesNamingAnotherShopAreRejected", func(t *testing.T) {
		for _, stmt := range []string{
			`INSERT INTO auth_mail (id, shop_id, kind, recipient, subject, sealed, state, attempts, max_attempts, run_at, created_at, updated_at)
				VALUES (gen_random_uuid(), $1, 'magic_link', 'eve@example.com', 's', 'x', 'queued', 0, 1, now(), now(), now())`,
			`UPDATE auth_mail SET shop_id = $1`,
		} {
			asTenant(t, db, a, func(tx *sqlx.Tx) {
				_, err := tx.Exec(stmt, b.String())
				require.Error(t, err, stmt)
				assert.Equal(t, "42501", sqlState(err), "%s: %v", stmt, err)
			})
		}
	})
	t.Run("UpdatesOfAnotherShopTouchNothing", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			res, err := tx.Exec(`UPDATE auth_mail SET recipient = 'eve@example.com' WHERE shop_id = $1`, b.String())
			require.NoError(t, err)
			n, err := res.RowsAffected()
			require.NoError(t, err)
			assert.Zero(t, n)
		})
	})
	t.Run("TheRoleCannotDelete", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`DELETE FROM auth_mail`)
			require.Error(t, err)
			assert.Equal(t, "42501", sqlState(err), "%v", err)
		})
	})
	t.Run("MaintenanceFlagOpensNothing", func(t *testing.T) {
		tx := db.MustBegin()
		defer func() { _ = tx.Rollback() }()
		tx.MustExec(`SELECT set_config('app.auth_mail_maintenance', 'on', true)`)
		assert.Equal(t, []string{"none"}, shops(tx))
	})
}
