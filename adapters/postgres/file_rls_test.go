package postgres_test

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// TestFilesRowLevelSecurity attacks the files table with raw SQL as the
// application role: a SELECT that forgets its WHERE sees the current shop's
// files only, and an INSERT or UPDATE naming another shop is refused by the
// database (42501), whatever the repository would have done.
func TestFilesRowLevelSecurity(t *testing.T) {
	s, _ := fresh(t)
	a, b := twoShops(t, s)
	db := s.DB()
	ctx := context.Background()
	for _, shop := range []ports.ShopID{a, b} {
		require.NoError(t, s.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
			ms, err := tx.Memberships().List(ctx)
			if err != nil {
				return err
			}
			id := ports.NewFileID()
			_, err = tx.Files().Create(ctx, ports.File{
				ID: id, Kind: "photo", Name: "a.jpg", ContentType: "image/jpeg", Size: 1, UploadedBy: ms[0].UserID,
				State: ports.FilePending, ObjectKey: "shops/" + shop.String() + "/photo/" + id.String(),
			})
			return err
		}))
	}

	t.Run("SelectWithoutWhereSeesOnlyCurrentShop", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			var shops []string
			require.NoError(t, tx.Select(&shops, `SELECT shop_id::text FROM files`))
			assert.Equal(t, []string{a.String()}, shops)
		})
	})

	t.Run("NoTenantSeesNothing", func(t *testing.T) {
		asTenant(t, db, ports.ShopID{}, func(tx *sqlx.Tx) {
			var n int
			require.NoError(t, tx.Get(&n, `SELECT count(*) FROM files`))
			assert.Zero(t, n)
		})
	})

	t.Run("InsertNamingAnotherShopIsRejected", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`INSERT INTO files (shop_id, id, kind, name, content_type, size, uploaded_by, created_at, state, encrypted, object_key)
				SELECT $1, gen_random_uuid(), 'photo', 'x.jpg', 'image/jpeg', 1, id, now(), 'pending', false, 'shops/x/photo/y' FROM users LIMIT 1`, b.String())
			require.Error(t, err)
			assert.Equal(t, "42501", sqlState(err), "new row violates row-level security policy: %v", err)
		})
	})

	t.Run("UpdateMovingAFileToAnotherShopIsRejected", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`UPDATE files SET shop_id = $1`, b.String())
			require.Error(t, err)
			assert.Equal(t, "42501", sqlState(err))
		})
	})

	t.Run("DeleteWithoutWhereTouchesOnlyCurrentShop", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			res, err := tx.Exec(`DELETE FROM files WHERE shop_id = $1`, b.String())
			require.NoError(t, err)
			n, _ := res.RowsAffected()
			assert.Zero(t, n)
		})
		require.NoError(t, s.InShop(ctx, b, func(ctx context.Context, tx ports.ShopTx) error {
			fs, err := tx.Files().List(ctx, ports.FileQuery{})
			assert.Len(t, fs, 1, "B's file is intact")
			return err
		}, ports.ReadOnly()))
	})
}
