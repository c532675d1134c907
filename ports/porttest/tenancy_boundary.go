package porttest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// testTenancyTenantBoundary attacks the boundary of the tenancy
// repositories: from shop B's unit of work, reach for shop A's
// invitations by every method, for A's directory row, and for A's owners.
func testTenancyTenantBoundary(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 2, 3)
	shopA, shopB := f.shops[0], f.shops[1]
	alice, bob, carol := f.users[0].ID, f.users[1].ID, f.users[2].ID
	now := ports.Timestamp(time.Now())
	invA := createInvitation(t, s, shopA.ID, newInvitation(now.Add(time.Hour)))
	expiredA := createInvitation(t, s, shopA.ID, newInvitation(now.Add(-time.Hour)))

	t.Run("InvitationsOfAnotherShopAreInvisible", func(t *testing.T) {
		_, err := getInvitation(s, shopB.ID, invA.ID)
		require.ErrorIs(t, err, ports.ErrNotFound)
		assert.Empty(t, listInvitations(t, s, shopB.ID, time.Time{}), "B lists none of A's invitations")
		assert.Empty(t, listInvitations(t, s, shopB.ID, now))
	})

	t.Run("InvitationsOfAnotherShopCannotBeUsed", func(t *testing.T) {
		_, err := acceptInvitation(s, shopB.ID, invA.TokenHash, bob, now)
		require.ErrorIs(t, err, ports.ErrNotFound, "A's token accepts nothing in B")
		_, err = revokeInvitation(s, shopB.ID, invA.ID, now)
		require.ErrorIs(t, err, ports.ErrNotFound, "B cannot revoke A's invitation")
		assert.Equal(t, 0, deleteExpiredInvitations(t, s, shopB.ID, now.Add(1000*time.Hour)), "B's sweep does not reach A")
		assert.Equal(t, []ports.Invitation{expiredA, invA}, listInvitations(t, s, shopA.ID, time.Time{}), "A's invitations are untouched")
	})

	t.Run("InvitationKeysAreScopedToTheirShop", func(t *testing.T) {
		// An invitation "does not exist in another shop", so neither its ID
		// nor its token hash is taken there: a conflict would tell B what
		// A holds.
		clash := newInvitation(now.Add(time.Hour))
		clash.ID, clash.TokenHash = invA.ID, invA.TokenHash
		inB := createInvitation(t, s, shopB.ID, clash)
		got, err := acceptInvitation(s, shopB.ID, invA.TokenHash, bob, now)
		require.NoError(t, err)
		assert.Equal(t, inB.ID, got.ID, "B accepts its own invitation")
		got, err = getInvitation(s, shopA.ID, invA.ID)
		require.NoError(t, err)
		assert.Equal(t, invA, got, "A's invitation with the same keys is still pending")
		got, err = acceptInvitation(s, shopA.ID, invA.TokenHash, alice, now)
		require.NoError(t, err, "and can still be accepted in A")
		assert.Equal(t, alice, got.AcceptedBy)
	})

	t.Run("ThisShopIsOnlyTheUnitOfWorksShop", func(t *testing.T) {
		got, err := thisShopOp(s, shopB.ID, func(ctx context.Context, r ports.ThisShopRepo) (ports.Shop, error) {
			return r.Get(ctx)
		})
		require.NoError(t, err)
		assert.Equal(t, shopB, got)
		_, err = thisShopOp(s, shopB.ID, func(ctx context.Context, r ports.ThisShopRepo) (ports.Shop, error) {
			return r.SetStatus(ctx, ports.ShopSuspended)
		})
		require.NoError(t, err)
		assert.Equal(t, shopA, directoryShop(t, s, shopA.ID), "suspending B leaves A as it was")
	})

	t.Run("OwnersAreCountedPerShop", func(t *testing.T) {
		// Alice owns both shops; carol co-owns A. Another shop's owners do
		// not keep this shop owned.
		join(t, s, shopA.ID, ports.RoleOwner, alice, carol)
		join(t, s, shopB.ID, ports.RoleOwner, alice)
		require.ErrorIs(t, membershipOp(s, shopB.ID, demote(alice)), ports.ErrLastOwner)
		require.ErrorIs(t, membershipOp(s, shopB.ID, removeMember(alice)), ports.ErrLastOwner)
		require.ErrorIs(t, membershipOp(s, shopB.ID, removeMember(carol)), ports.ErrNotFound, "A's member is unknown in B")
		require.NoError(t, membershipOp(s, shopA.ID, demote(alice)), "A has another owner")
		assert.Equal(t, map[ports.UserID]ports.Role{alice: ports.RoleOwner}, roles(t, s, shopB.ID), "B is unchanged")
	})
}
