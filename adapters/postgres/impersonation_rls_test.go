package postgres_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// TestImpersonationsRowLevelSecurity attacks the impersonations table with
// raw SQL as the application role: a SELECT that forgets its WHERE sees
// the current shop's impersonations only, an INSERT or UPDATE naming
// another shop is refused by the database (42501), an UPDATE aimed at
// another shop's rows touches none (another shop's hand-off code cannot be
// redeemed or its impersonation extended), with no tenant set nothing is
// visible, and the application role can delete neither an impersonation
// nor an operator (records that audit events name).
func TestImpersonationsRowLevelSecurity(t *testing.T) {
	s, _ := fresh(t)
	a, b := twoShops(t, s)
	db := s.DB()
	ctx := context.Background()
	var op ports.Operator
	users := map[ports.ShopID]ports.UserID{}
	require.NoError(t, s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		if op, err = tx.Operators().Create(ctx, ports.Operator{ID: ports.NewOperatorID(), Email: "ops@example.com"}, "$argon2id$x"); err != nil {
			return err
		}
		for _, shop := range []ports.ShopID{a, b} {
			u, err := tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: shop.String() + "@example.com"})
			if err != nil {
				return err
			}
			users[shop] = u.ID
		}
		return nil
	}))
	codes := map[ports.ShopID][]byte{}
	for _, shop := range []ports.ShopID{a, b} {
		require.NoError(t, s.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
			if _, err := tx.Memberships().Add(ctx, users[shop], ports.RoleTech); err != nil {
				return err
			}
			hash := make([]byte, ports.TokenHashSize)
			_, _ = rand.Read(hash)
			codes[shop] = hash
			_, err := tx.Impersonations().Create(ctx, ports.Impersonation{
				ID: ports.NewImpersonationID(), OperatorID: op.ID, UserID: users[shop], Reason: "ticket 1",
				CodeHash: hash, CodeExpiresAt: time.Now().Add(time.Minute), ExpiresAt: time.Now().Add(time.Hour),
			})
			return err
		}))
	}

	t.Run("SelectWithoutWhereSeesOnlyCurrentShop", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			var shops []string
			require.NoError(t, tx.Select(&shops, `SELECT shop_id::text FROM impersonations`))
			assert.Equal(t, []string{a.String()}, shops)
		})
	})

	t.Run("NoTenantSeesNothing", func(t *testing.T) {
		asTenant(t, db, ports.ShopID{}, func(tx *sqlx.Tx) {
			var n int
			require.NoError(t, tx.Get(&n, `SELECT count(*) FROM impersonations`))
			assert.Zero(t, n)
		})
	})

	t.Run("InsertNamingAnotherShopIsRejected", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`INSERT INTO impersonations (shop_id, id, operator_id, user_id, reason, code_hash, code_expires_at, created_at, expires_at)
				VALUES ($1, gen_random_uuid(), $2, $3, 'x', sha256('x'), now() + interval '1 day', now(), now() + interval '1 day')`,
				b.String(), op.ID.String(), users[b].String())
			require.Error(t, err)
			assert.Equal(t, "42501", sqlState(err), "new row violates row-level security policy: %v", err)
		})
	})

	t.Run("UpdateMovingAnImpersonationToAnotherShopIsRejected", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`UPDATE impersonations SET shop_id = $1`, b.String())
			require.Error(t, err)
			assert.Equal(t, "42501", sqlState(err))
		})
	})

	t.Run("UpdateOfAnotherShopTouchesNothing", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			for _, stmt := range []string{
				`UPDATE impersonations SET expires_at = now() + interval '10 years' WHERE shop_id = $1`,
				`UPDATE impersonations SET code_hash = NULL, redeemed_at = now() WHERE shop_id = $1`,
			} {
				res, err := tx.Exec(stmt, b.String())
				require.NoError(t, err, stmt)
				n, err := res.RowsAffected()
				require.NoError(t, err)
				assert.Zero(t, n, stmt)
			}
		})
		var list []ports.Impersonation
		require.NoError(t, s.InShop(ctx, b, func(ctx context.Context, tx ports.ShopTx) error {
			var err error
			list, err = tx.Impersonations().List(ctx, 10)
			return err
		}, ports.ReadOnly()))
		require.Len(t, list, 1)
		assert.Equal(t, codes[b], list[0].CodeHash, "B's code is unspent")
		assert.Less(t, time.Until(list[0].ExpiresAt), 2*time.Hour, "and its expiry unchanged")
	})

	t.Run("NoDeletes", func(t *testing.T) {
		for _, stmt := range []string{`DELETE FROM impersonations`, `DELETE FROM operators`} {
			asTenant(t, db, a, func(tx *sqlx.Tx) {
				_, err := tx.Exec(stmt)
				require.Error(t, err, stmt)
				assert.Equal(t, "42501", sqlState(err), "%s: permission denied: %v", stmt, err)
			})
		}
	})
}
