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

// TestInvitationsRowLevelSecurity attacks the invitations table with raw
// SQL as the application role: a SELECT that forgets its WHERE sees the
// current shop's invitations only, an INSERT or UPDATE naming another shop
// is refused by the database (42501), an UPDATE or DELETE aimed at another
// shop's rows touches none, and with no tenant set nothing is visible.
func TestInvitationsRowLevelSecurity(t *testing.T) {
	s, _ := fresh(t)
	a, b := twoShops(t, s)
	db := s.DB()
	ctx := context.Background()
	for _, shop := range []ports.ShopID{a, b} {
		require.NoError(t, s.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
			hash := make([]byte, ports.TokenHashSize)
			_, _ = rand.Read(hash)
			_, err := tx.Invitations().Create(ctx, ports.Invitation{
				ID: ports.NewInvitationID(), TokenHash: hash, Email: "dana@example.com",
				Role: ports.RoleTech, ExpiresAt: time.Now().Add(time.Hour),
			})
			return err
		}))
	}

	t.Run("SelectWithoutWhereSeesOnlyCurrentShop", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			var shops []string
			require.NoError(t, tx.Select(&shops, `SELECT shop_id::text FROM invitations`))
			assert.Equal(t, []string{a.String()}, shops)
		})
	})

	t.Run("NoTenantSeesNothing", func(t *testing.T) {
		asTenant(t, db, ports.ShopID{}, func(tx *sqlx.Tx) {
			var n int
			require.NoError(t, tx.Get(&n, `SELECT count(*) FROM invitations`))
			assert.Zero(t, n)
		})
	})

	t.Run("InsertNamingAnotherShopIsRejected", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`INSERT INTO invitations (shop_id, id, token_hash, email, role, created_at, expires_at)
				VALUES ($1, gen_random_uuid(), sha256('x'), 'eve@example.com', 'owner', now(), now() + interval '1 day')`, b.String())
			require.Error(t, err)
			assert.Equal(t, "42501", sqlState(err), "new row violates row-level security policy: %v", err)
		})
	})

	t.Run("UpdateMovingAnInvitationToAnotherShopIsRejected", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`UPDATE invitations SET shop_id = $1`, b.String())
			require.Error(t, err)
			assert.Equal(t, "42501", sqlState(err))
		})
	})

	t.Run("UpdateAndDeleteOfAnotherShopTouchNothing", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			for _, stmt := range []string{
				`UPDATE invitations SET role = 'owner', expires_at = now() + interval '10 years' WHERE shop_id = $1`,
				`UPDATE invitations SET accepted_at = now(), accepted_by = (SELECT id FROM users LIMIT 1) WHERE shop_id = $1`,
				`DELETE FROM invitations WHERE shop_id = $1`,
			} {
				res, err := tx.Exec(stmt, b.String())
				require.NoError(t, err, stmt)
				n, err := res.RowsAffected()
				require.NoError(t, err)
				assert.Zero(t, n, stmt)
			}
		})
		var list []ports.Invitation
		require.NoError(t, s.InShop(ctx, b, func(ctx context.Context, tx ports.ShopTx) error {
			var err error
			list, err = tx.Invitations().List(ctx, time.Now())
			return err
		}, ports.ReadOnly()))
		require.Len(t, list, 1, "B's invitation is intact and pending")
		assert.Equal(t, ports.RoleTech, list[0].Role)
	})
}
