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

// TestCapabilitiesRowLevelSecurity attacks the capabilities table with raw
// SQL as the application role: a SELECT that forgets its WHERE sees the
// current shop's links only (so another shop's token hash is found by
// nothing), an INSERT or UPDATE naming another shop is refused by the
// database (42501), an UPDATE or DELETE aimed at another shop's links
// touches none, with no tenant set nothing is visible, and the CHECK
// constraints refuse malformed records the adapter would never write.
func TestCapabilitiesRowLevelSecurity(t *testing.T) {
	s, _ := fresh(t)
	a, b := twoShops(t, s)
	db := s.DB()
	ctx := context.Background()
	hashes := map[ports.ShopID][]byte{}
	for _, shop := range []ports.ShopID{a, b} {
		hash := make([]byte, ports.TokenHashSize)
		_, _ = rand.Read(hash)
		hashes[shop] = hash
		require.NoError(t, s.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Capabilities().Create(ctx, ports.Capability{
				ID: ports.NewCapabilityID(), TokenHash: hash, RecordType: "quote", RecordID: "Q-1",
				Actions: []string{"view"}, ExpiresAt: time.Now().Add(time.Hour),
			})
			return err
		}))
	}

	t.Run("SelectWithoutWhereSeesOnlyCurrentShop", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			var shops []string
			require.NoError(t, tx.Select(&shops, `SELECT shop_id::text FROM capabilities`))
			assert.Equal(t, []string{a.String()}, shops)
			var n int
			require.NoError(t, tx.Get(&n, `SELECT count(*) FROM capabilities WHERE token_hash = $1`, hashes[b]))
			assert.Zero(t, n, "B's token hash is not found from A, even by a query naming no shop")
		})
	})

	t.Run("NoTenantSeesNothing", func(t *testing.T) {
		asTenant(t, db, ports.ShopID{}, func(tx *sqlx.Tx) {
			var n int
			require.NoError(t, tx.Get(&n, `SELECT count(*) FROM capabilities`))
			assert.Zero(t, n)
		})
	})

	t.Run("InsertNamingAnotherShopIsRejected", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`INSERT INTO capabilities (shop_id, id, token_hash, record_type, record_id, actions, created_at, expires_at)
				VALUES ($1, gen_random_uuid(), sha256('x'), 'quote', 'Q-1', 'accept pay view', now(), now() + interval '1 year')`, b.String())
			require.Error(t, err)
			assert.Equal(t, "42501", sqlState(err), "new row violates row-level security policy: %v", err)
		})
	})

	t.Run("UpdateMovingALinkToAnotherShopIsRejected", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`UPDATE capabilities SET shop_id = $1`, b.String())
			require.Error(t, err)
			assert.Equal(t, "42501", sqlState(err))
		})
	})

	t.Run("UpdateAndDeleteOfAnotherShopTouchNothing", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			for _, stmt := range []string{
				`UPDATE capabilities SET actions = 'accept pay view', expires_at = now() + interval '10 years' WHERE shop_id = $1`,
				`UPDATE capabilities SET revoked_at = now() WHERE shop_id = $1`,
				`DELETE FROM capabilities WHERE shop_id = $1`,
			} {
				res, err := tx.Exec(stmt, b.String())
				require.NoError(t, err, stmt)
				n, err := res.RowsAffected()
				require.NoError(t, err)
				assert.Zero(t, n, stmt)
			}
		})
		var got ports.Capability
		require.NoError(t, s.InShop(ctx, b, func(ctx context.Context, tx ports.ShopTx) error {
			var err error
			got, err = tx.Capabilities().Active(ctx, hashes[b], time.Now())
			return err
		}, ports.ReadOnly()))
		assert.Equal(t, []string{"view"}, got.Actions, "B's link is intact, active, with its one action")
	})

	t.Run("ConstraintsRefuseMalformedRows", func(t *testing.T) {
		for _, bad := range []struct{ recordType, recordID, actions string }{
			{"Quote", "Q-1", "view"},
			{"quote", "a/b", "view"},
			{"quote", "", "view"},
			{"quote", "Q-1", ""},
			{"quote", "Q-1", "view  pay"},
			{"quote", "Q-1", "View"},
		} {
			asTenant(t, db, a, func(tx *sqlx.Tx) {
				_, err := tx.Exec(`INSERT INTO capabilities (shop_id, id, token_hash, record_type, record_id, actions, created_at, expires_at)
					VALUES ($1, gen_random_uuid(), sha256(gen_random_uuid()::text::bytea), $2, $3, $4, now(), now() + interval '1 day')`,
					a.String(), bad.recordType, bad.recordID, bad.actions)
				require.Error(t, err, "%+v", bad)
				assert.Equal(t, "23514", sqlState(err), "check_violation for %+v: %v", bad, err)
			})
		}
	})
}
