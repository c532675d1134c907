package porttest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// testTenantBoundary attacks the boundary through the port: from shop B's
// unit of work, reach for shop A's members and audit log by every method a
// repository offers.
func testTenantBoundary(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 2, 2)
	shopA, shopB := f.shops[0].ID, f.shops[1].ID
	alice, bob := f.users[0].ID, f.users[1].ID
	inShop(t, s, shopA, func(ctx context.Context, tx ports.ShopTx) error {
		if _, err := tx.Memberships().Add(ctx, alice, ports.RoleOwner); err != nil {
			return err
		}
		_, err := tx.Audit().Append(ctx, event("a.secret"))
		return err
	})
	inShop(t, s, shopB, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Memberships().Add(ctx, bob, ports.RoleViewer)
		return err
	})

	t.Run("ReadsSeeOnlyTheirShop", func(t *testing.T) {
		inShop(t, s, shopB, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Memberships().Get(ctx, alice)
			require.ErrorIs(t, err, ports.ErrNotFound, "A's member is invisible from B")
			list, err := tx.Memberships().List(ctx)
			require.NoError(t, err)
			require.Len(t, list, 1)
			assert.Equal(t, bob, list[0].UserID)
			log, err := tx.Audit().List(ctx, ports.AuditQuery{})
			require.NoError(t, err)
			assert.Empty(t, log, "A's audit log is invisible from B")
			return nil
		}, ports.ReadOnly())
	})

	t.Run("WritesCannotReachAnotherShop", func(t *testing.T) {
		err := s.InShop(context.Background(), shopB, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Memberships().SetRole(ctx, alice, ports.RoleViewer)
			return err
		})
		require.ErrorIs(t, err, ports.ErrNotFound)
		err = s.InShop(context.Background(), shopB, func(ctx context.Context, tx ports.ShopTx) error {
			return tx.Memberships().Remove(ctx, alice)
		})
		require.ErrorIs(t, err, ports.ErrNotFound)
		inShop(t, s, shopA, func(ctx context.Context, tx ports.ShopTx) error {
			m, err := tx.Memberships().Get(ctx, alice)
			assert.Equal(t, ports.RoleOwner, m.Role, "A's owner is untouched")
			return err
		})
	})

	t.Run("SameUserDifferentShops", func(t *testing.T) {
		inShop(t, s, shopB, func(ctx context.Context, tx ports.ShopTx) error {
			m, err := tx.Memberships().Add(ctx, alice, ports.RoleTech)
			assert.Equal(t, shopB, m.ShopID)
			return err
		})
		inShop(t, s, shopA, func(ctx context.Context, tx ports.ShopTx) error {
			m, err := tx.Memberships().Get(ctx, alice)
			assert.Equal(t, ports.RoleOwner, m.Role, "a membership in B does not change A")
			return err
		})
	})

	t.Run("AuditSequencesArePerShop", func(t *testing.T) {
		inShop(t, s, shopB, func(ctx context.Context, tx ports.ShopTx) error {
			e, err := tx.Audit().Append(ctx, event("b.first"))
			assert.Equal(t, int64(1), e.Seq, "B's log starts at 1 whatever A has")
			return err
		})
		assert.Len(t, auditLog(t, s, shopA), 1)
	})
}
