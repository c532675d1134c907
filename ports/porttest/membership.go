package porttest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

func testMemberships(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 1, 3)
	shop := f.shops[0].ID
	var owner ports.Membership
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		owner, err = tx.Memberships().Add(ctx, f.users[0].ID, ports.RoleOwner)
		if err != nil {
			return err
		}
		_, err = tx.Memberships().Add(ctx, f.users[1].ID, ports.RoleTech)
		return err
	})
	assert.Equal(t, shop, owner.ShopID, "the store sets the shop from the unit of work")
	assert.Equal(t, ports.RoleOwner, owner.Role)
	assert.False(t, owner.CreatedAt.IsZero())

	t.Run("GetAndList", func(t *testing.T) {
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			got, err := tx.Memberships().Get(ctx, f.users[0].ID)
			require.NoError(t, err)
			assert.Equal(t, owner, got)
			list, err := tx.Memberships().List(ctx)
			require.NoError(t, err)
			require.Len(t, list, 2)
			assert.Equal(t, owner, list[0], "listed in creation order")
			_, err = tx.Memberships().Get(ctx, f.users[2].ID)
			require.ErrorIs(t, err, ports.ErrNotFound)
			return nil
		}, ports.ReadOnly())
	})

	t.Run("SetRole", func(t *testing.T) {
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			m, err := tx.Memberships().SetRole(ctx, f.users[1].ID, ports.RoleAdmin)
			require.NoError(t, err)
			assert.Equal(t, ports.RoleAdmin, m.Role)
			assert.False(t, m.UpdatedAt.Before(m.CreatedAt))
			got, err := tx.Memberships().Get(ctx, f.users[1].ID)
			assert.Equal(t, m, got)
			return err
		})
	})

	t.Run("RefusesBadInput", func(t *testing.T) {
		tests := []struct {
			name string
			do   func(ctx context.Context, r ports.MembershipRepo) error
			want error
		}{
			{"duplicate", func(ctx context.Context, r ports.MembershipRepo) error {
				_, err := r.Add(ctx, f.users[0].ID, ports.RoleViewer)
				return err
			}, ports.ErrConflict},
			{"unknown user", func(ctx context.Context, r ports.MembershipRepo) error {
				_, err := r.Add(ctx, ports.NewUserID(), ports.RoleViewer)
				return err
			}, ports.ErrNotFound},
			{"unknown role", func(ctx context.Context, r ports.MembershipRepo) error {
				_, err := r.Add(ctx, f.users[2].ID, "superuser")
				return err
			}, ports.ErrInvalid},
			{"set unknown role", func(ctx context.Context, r ports.MembershipRepo) error {
				_, err := r.SetRole(ctx, f.users[0].ID, "root")
				return err
			}, ports.ErrInvalid},
			{"set role of non-member", func(ctx context.Context, r ports.MembershipRepo) error {
				_, err := r.SetRole(ctx, f.users[2].ID, ports.RoleAdmin)
				return err
			}, ports.ErrNotFound},
			{"remove non-member", func(ctx context.Context, r ports.MembershipRepo) error {
				return r.Remove(ctx, f.users[2].ID)
			}, ports.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
					return tt.do(ctx, tx.Memberships())
				})
				require.ErrorIs(t, err, tt.want)
			})
		}
		list := members(t, s, shop)
		require.Len(t, list, 2, "refused writes left nothing behind")
		assert.Equal(t, ports.RoleOwner, list[0].Role)
	})

	t.Run("AddToMissingShop", func(t *testing.T) {
		err := s.InShop(context.Background(), ports.NewShopID(), func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Memberships().Add(ctx, f.users[2].ID, ports.RoleViewer)
			return err
		})
		require.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("Remove", func(t *testing.T) {
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			return tx.Memberships().Remove(ctx, f.users[1].ID)
		})
		list := members(t, s, shop)
		require.Len(t, list, 1)
		assert.Equal(t, f.users[0].ID, list[0].UserID)
	})
}
