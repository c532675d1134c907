package porttest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// testAuthTenantBoundary attacks the boundary of the shop-bound
// authentication repositories: from shop B's unit of work, reach for shop
// A's sessions and magic links by every method they offer. Alice is a
// member of both shops, so B's repositories hold rows for her too.
func testAuthTenantBoundary(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 2, 2)
	shopA, shopB := f.shops[0].ID, f.shops[1].ID
	alice, bob := f.users[0].ID, f.users[1].ID
	join(t, s, shopA, ports.RoleOwner, alice)
	join(t, s, shopB, ports.RoleViewer, alice, bob)
	aliceA := createSession(t, s, shopA, newSession(alice))
	aliceB := createSession(t, s, shopB, newSession(alice))
	linkA := createMagicLink(t, s, shopA, newMagicLink(alice, time.Now().Add(time.Hour)))

	t.Run("SessionReadsSeeOnlyTheirShop", func(t *testing.T) {
		_, err := getSession(s, shopB, aliceA.ID)
		require.ErrorIs(t, err, ports.ErrNotFound, "A's session is invisible from B")
		assert.Equal(t, []ports.Session{aliceB}, sessionsOf(t, s, shopB, alice), "B lists only its own session of a shared user")
	})

	t.Run("SessionWritesCannotReachAnotherShop", func(t *testing.T) {
		tests := []struct {
			name string
			do   func(ctx context.Context, r ports.SessionRepo) error
		}{
			{"Touch", func(ctx context.Context, r ports.SessionRepo) error {
				return r.Touch(ctx, aliceA.ID, time.Now().Add(time.Hour))
			}},
			{"Rotate", func(ctx context.Context, r ports.SessionRepo) error { return r.Rotate(ctx, aliceA.ID, tokenHash()) }},
			{"Delete", func(ctx context.Context, r ports.SessionRepo) error { return r.Delete(ctx, aliceA.ID) }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.InShop(context.Background(), shopB, func(ctx context.Context, tx ports.ShopTx) error {
					return tt.do(ctx, tx.Sessions())
				})
				require.ErrorIs(t, err, ports.ErrNotFound)
			})
		}
		got, err := getSession(s, shopA, aliceA.ID)
		require.NoError(t, err)
		assert.Equal(t, aliceA, got, "A's session is untouched: same last-seen time and token hash")
	})

	t.Run("SessionIDsAreScopedToTheirShop", func(t *testing.T) {
		// A session "does not exist in another shop", so its ID is not
		// taken there: a conflict would tell B that A holds that ID.
		clash := newSession(alice)
		clash.ID = aliceA.ID
		inB := createSession(t, s, shopB, clash)
		got, err := getSession(s, shopB, aliceA.ID)
		require.NoError(t, err)
		assert.Equal(t, inB, got, "B sees its own session under that ID")
		got, err = getSession(s, shopA, aliceA.ID)
		require.NoError(t, err)
		assert.Equal(t, aliceA, got, "A's session is not overwritten")
	})

	t.Run("DeleteByUserStaysInItsShop", func(t *testing.T) {
		n := sessionCount(t, s, shopB, func(ctx context.Context, r ports.SessionRepo) (int, error) {
			return r.DeleteByUser(ctx, alice, ports.SessionID{})
		})
		assert.Equal(t, 2, n, "B's own two sessions of alice were revoked")
		assert.Equal(t, []ports.SessionID{aliceA.ID}, sessionIDs(sessionsOf(t, s, shopA, alice)), "A's sessions survive B's revoke-all")
		assert.Empty(t, sessionsOf(t, s, shopB, alice))
	})

	t.Run("DeleteExpiredStaysInItsShop", func(t *testing.T) {
		createSession(t, s, shopB, newSession(bob))
		farFuture := time.Now().Add(1000 * time.Hour)
		n := sessionCount(t, s, shopB, func(ctx context.Context, r ports.SessionRepo) (int, error) {
			return r.DeleteExpired(ctx, farFuture, farFuture)
		})
		assert.Equal(t, 1, n, "B's sweep counts B's session only")
		assert.Equal(t, []ports.SessionID{aliceA.ID}, sessionIDs(sessionsOf(t, s, shopA, alice)), "A's sessions survive B's sweep")
		assert.Equal(t, 0, deleteExpiredLinks(t, s, shopB, farFuture), "A's magic link is not B's to sweep")
	})

	t.Run("MagicLinkOfAnotherShopCannotBeConsumed", func(t *testing.T) {
		_, err := consume(s, shopB, linkA.TokenHash, time.Now())
		require.ErrorIs(t, err, ports.ErrNotFound, "A's link is unknown in B")
		got, err := consume(s, shopA, linkA.TokenHash, time.Now())
		require.NoError(t, err, "B's attempt did not use up A's link")
		assert.Equal(t, alice, got.UserID)
	})
}
