package porttest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// testSessionResolver checks ports.SessionResolver. The interface is
// optional for a Store, but the suite requires it: every store in this
// module offers the one-round-trip lookup, and an adapter without it should
// add it rather than pass unchecked.
func testSessionResolver(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	r, ok := s.(ports.SessionResolver)
	require.Truef(t, ok, "%T does not implement ports.SessionResolver: add ResolveSession(ctx, shop, id) to the store", s)
	f := seed(t, s, 2, 2)
	shopA, shopB := f.shops[0].ID, f.shops[1].ID
	alice, bob := f.users[0].ID, f.users[1].ID
	join(t, s, shopA, ports.RoleTech, alice)
	join(t, s, shopB, ports.RoleViewer, bob)
	join(t, s, shopB, ports.RoleSales, alice) // a member of both shops, with a different role in each
	sess := createSession(t, s, shopA, newSession(alice))
	aliceB := createSession(t, s, shopB, newSession(alice))
	bobs := createSession(t, s, shopB, newSession(bob))
	ctx := context.Background()

	t.Run("ResolvesSessionAndRole", func(t *testing.T) {
		got, err := r.ResolveSession(ctx, shopA, sess.ID)
		require.NoError(t, err)
		assert.Equal(t, ports.ResolvedSession{Session: sess, Role: ports.RoleTech}, got)
		got, err = r.ResolveSession(ctx, shopB, aliceB.ID)
		require.NoError(t, err)
		assert.Equal(t, ports.ResolvedSession{Session: aliceB, Role: ports.RoleSales}, got, "the role is the one in the session's shop")
		got, err = r.ResolveSession(ctx, shopB, bobs.ID)
		require.NoError(t, err)
		assert.Equal(t, ports.ResolvedSession{Session: bobs, Role: ports.RoleViewer}, got)
	})

	t.Run("SeesChangesAtOnce", func(t *testing.T) {
		fresh := tokenHash()
		inShop(t, s, shopA, func(ctx context.Context, tx ports.ShopTx) error {
			if _, err := tx.Memberships().SetRole(ctx, alice, ports.RoleAdmin); err != nil {
				return err
			}
			return tx.Sessions().Rotate(ctx, sess.ID, fresh)
		})
		got, err := r.ResolveSession(ctx, shopA, sess.ID)
		require.NoError(t, err)
		assert.Equal(t, ports.RoleAdmin, got.Role, "a role change applies to the next request")
		assert.Equal(t, fresh, got.Session.TokenHash, "a rotated token applies to the next request")
	})

	t.Run("NotFound", func(t *testing.T) {
		tests := []struct {
			name string
			shop ports.ShopID
			id   ports.SessionID
		}{
			{"unknown session", shopA, ports.NewSessionID()},
			{"A's session presented to B, where its user is a member too", shopB, sess.ID},
			{"B's session presented to A", shopA, bobs.ID},
			{"unknown shop", ports.NewShopID(), sess.ID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := r.ResolveSession(ctx, tt.shop, tt.id)
				require.ErrorIs(t, err, ports.ErrNotFound)
				assert.Zero(t, got)
			})
		}
	})

	t.Run("RefusesZeroIDs", func(t *testing.T) {
		tests := []struct {
			name string
			shop ports.ShopID
			id   ports.SessionID
		}{
			{"zero shop", ports.ShopID{}, sess.ID},
			{"zero session", shopA, ports.SessionID{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := r.ResolveSession(ctx, tt.shop, tt.id)
				require.ErrorIs(t, err, ports.ErrInvalid)
			})
		}
	})

	t.Run("RefusesNesting", func(t *testing.T) {
		var inShopErr, inGlobalErr error
		inShop(t, s, shopA, func(ctx context.Context, _ ports.ShopTx) error {
			_, inShopErr = r.ResolveSession(ctx, shopA, sess.ID)
			return nil
		})
		require.NoError(t, s.Global(ctx, func(ctx context.Context, _ ports.GlobalTx) error {
			_, inGlobalErr = r.ResolveSession(ctx, shopA, sess.ID)
			return nil
		}))
		assert.ErrorIs(t, inShopErr, ports.ErrNestedUnitOfWork, "inside InShop")
		assert.ErrorIs(t, inGlobalErr, ports.ErrNestedUnitOfWork, "inside Global")
	})

	t.Run("NotFoundOnceTheMembershipEnds", func(t *testing.T) {
		inShop(t, s, shopA, func(ctx context.Context, tx ports.ShopTx) error { return tx.Memberships().Remove(ctx, alice) })
		_, err := r.ResolveSession(ctx, shopA, sess.ID)
		require.ErrorIs(t, err, ports.ErrNotFound)
		got, err := r.ResolveSession(ctx, shopB, aliceB.ID)
		require.NoError(t, err, "her session in another shop still resolves")
		assert.Equal(t, ports.RoleSales, got.Role)
	})
}
