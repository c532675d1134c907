package porttest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// testSessionEpoch covers UserRepo.EndSessions and SessionsValidAfter and
// their appearance in ResolvedSession.ValidAfter, in every shop.
func testSessionEpoch(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	r, ok := s.(ports.SessionResolver)
	require.Truef(t, ok, "%T does not implement ports.SessionResolver", s)
	f := seed(t, s, 2, 2)
	shopA, shopB := f.shops[0].ID, f.shops[1].ID
	alice, bob := f.users[0].ID, f.users[1].ID
	join(t, s, shopA, ports.RoleTech, alice, bob)
	join(t, s, shopB, ports.RoleTech, alice)
	inA := createSession(t, s, shopA, newSession(alice))
	inB := createSession(t, s, shopB, newSession(alice))
	bobs := createSession(t, s, shopA, newSession(bob))
	ctx := context.Background()
	validAfter := func(user ports.UserID) time.Time {
		var at time.Time
		require.NoError(t, s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
			var err error
			at, err = tx.Users().SessionsValidAfter(ctx, user)
			return err
		}, ports.ReadOnly()))
		return at
	}
	end := func(user ports.UserID, at time.Time) error {
		return s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
			return tx.Users().EndSessions(ctx, user, at)
		})
	}

	t.Run("ZeroUntilSet", func(t *testing.T) {
		assert.True(t, validAfter(alice).IsZero())
		got, err := r.ResolveSession(ctx, shopA, inA.ID)
		require.NoError(t, err)
		assert.True(t, got.ValidAfter.IsZero())
	})
	at := time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)
	t.Run("SetAndResolvedInEveryShop", func(t *testing.T) {
		require.NoError(t, end(alice, at))
		assert.Equal(t, ports.Timestamp(at), validAfter(alice))
		for _, c := range []struct {
			shop ports.ShopID
			id   ports.SessionID
		}{{shopA, inA.ID}, {shopB, inB.ID}} {
			got, err := r.ResolveSession(ctx, c.shop, c.id)
			require.NoError(t, err)
			assert.Equal(t, ports.Timestamp(at), got.ValidAfter)
		}
		got, err := r.ResolveSession(ctx, shopA, bobs.ID)
		require.NoError(t, err)
		assert.True(t, got.ValidAfter.IsZero(), "another user's epoch is untouched")
	})
	t.Run("NeverMovesBack", func(t *testing.T) {
		require.NoError(t, end(alice, at.Add(-time.Hour)))
		assert.Equal(t, ports.Timestamp(at), validAfter(alice))
		require.NoError(t, end(alice, at.Add(time.Hour)))
		assert.Equal(t, ports.Timestamp(at.Add(time.Hour)), validAfter(alice))
	})
	t.Run("UnknownUser", func(t *testing.T) {
		assert.ErrorIs(t, end(ports.NewUserID(), at), ports.ErrNotFound)
		err := s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
			_, err := tx.Users().SessionsValidAfter(ctx, ports.NewUserID())
			return err
		}, ports.ReadOnly())
		assert.ErrorIs(t, err, ports.ErrNotFound)
	})
}
