package porttest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// membershipOp runs do on shop's membership repository in its own unit of
// work and returns its error.
func membershipOp(s ports.Store, shop ports.ShopID, do func(ctx context.Context, r ports.MembershipRepo) error) error {
	return s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		return do(ctx, tx.Memberships())
	})
}

func demote(user ports.UserID) func(context.Context, ports.MembershipRepo) error {
	return func(ctx context.Context, r ports.MembershipRepo) error {
		_, err := r.SetRole(ctx, user, ports.RoleAdmin)
		return err
	}
}

func removeMember(user ports.UserID) func(context.Context, ports.MembershipRepo) error {
	return func(ctx context.Context, r ports.MembershipRepo) error { return r.Remove(ctx, user) }
}

// roles maps each member of shop to their role.
func roles(t *testing.T, s ports.Store, shop ports.ShopID) map[ports.UserID]ports.Role {
	t.Helper()
	out := map[ports.UserID]ports.Role{}
	for _, m := range members(t, s, shop) {
		out[m.UserID] = m.Role
	}
	return out
}

// race runs the two changes at once, each in its own unit of work, and
// returns their errors. Each racer that gets its change through holds its
// transaction open until the other has made its change too (or for a
// quarter second, if the other is waiting for it): a store that does not
// make the second wait for the first lets both changes through.
func race(changes [2]func(hold func()) error) [2]error {
	var errs [2]error
	var done [2]chan struct{}
	for i := range done {
		done[i] = make(chan struct{})
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range changes {
		wg.Go(func() {
			<-start
			errs[i] = changes[i](func() {
				close(done[i])
				select {
				case <-done[1-i]:
				case <-time.After(250 * time.Millisecond):
				}
			})
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// racingInShop is a change for race: do in its own unit of work of shop,
// holding the transaction open after do succeeds.
func racingInShop(s ports.Store, shop ports.ShopID, do func(context.Context, ports.MembershipRepo) error) func(hold func()) error {
	return func(hold func()) error {
		return membershipOp(s, shop, func(ctx context.Context, r ports.MembershipRepo) error {
			if err := do(ctx, r); err != nil {
				return err
			}
			hold()
			return nil
		})
	}
}

// requireOneLastOwner checks that of two racing changes exactly one went
// through and the other was refused with ErrLastOwner.
func requireOneLastOwner(t *testing.T, errs [2]error) {
	t.Helper()
	var ok, refused int
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, ports.ErrLastOwner):
			refused++
		}
	}
	require.Equal(t, [2]int{1, 1}, [2]int{ok, refused}, "one change succeeds, the other gets ErrLastOwner: %v", errs)
}

func testLastOwner(t *testing.T, newStore StoreHarness) {
	t.Run("TheLastOwnerStays", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 3)
		shop, alice, bob, carol := f.shops[0].ID, f.users[0].ID, f.users[1].ID, f.users[2].ID
		join(t, s, shop, ports.RoleOwner, alice)
		join(t, s, shop, ports.RoleTech, bob)
		tests := []struct {
			name string
			do   func(context.Context, ports.MembershipRepo) error
		}{
			{"demote to admin", demote(alice)},
			{"demote to viewer", func(ctx context.Context, r ports.MembershipRepo) error {
				_, err := r.SetRole(ctx, alice, ports.RoleViewer)
				return err
			}},
			{"remove", removeMember(alice)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := membershipOp(s, shop, tt.do)
				require.ErrorIs(t, err, ports.ErrLastOwner)
				require.ErrorIs(t, err, ports.ErrConflict, "ErrLastOwner is a conflict")
			})
		}
		want := map[ports.UserID]ports.Role{alice: ports.RoleOwner, bob: ports.RoleTech}
		assert.Equal(t, want, roles(t, s, shop), "refused changes left the members as they were")

		require.NoError(t, membershipOp(s, shop, func(ctx context.Context, r ports.MembershipRepo) error {
			_, err := r.SetRole(ctx, alice, ports.RoleOwner)
			return err
		}), "the last owner may be 'changed' to owner")
		require.NoError(t, membershipOp(s, shop, demote(bob)), "other members' roles change freely")
		require.NoError(t, membershipOp(s, shop, removeMember(bob)), "other members leave freely")
		for _, do := range []func(context.Context, ports.MembershipRepo) error{demote(carol), removeMember(carol)} {
			require.ErrorIs(t, membershipOp(s, shop, do), ports.ErrNotFound, "a non-member is not found, whatever the owners")
		}

		join(t, s, shop, ports.RoleViewer, carol)
		require.NoError(t, membershipOp(s, shop, func(ctx context.Context, r ports.MembershipRepo) error {
			_, err := r.SetRole(ctx, carol, ports.RoleOwner)
			return err
		}))
		require.NoError(t, membershipOp(s, shop, demote(alice)), "with a second owner the first may step down")
		require.ErrorIs(t, membershipOp(s, shop, removeMember(carol)), ports.ErrLastOwner, "now carol is the last owner")
		require.NoError(t, membershipOp(s, shop, removeMember(alice)))
		assert.Equal(t, map[ports.UserID]ports.Role{carol: ports.RoleOwner}, roles(t, s, shop))
	})

	t.Run("AShopWithoutOwnersChangesFreely", func(t *testing.T) {
		// The rule keeps an owner that exists; a shop whose owner has not
		// joined yet (being set up) is not locked.
		s := newStore(t)
		f := seed(t, s, 1, 2)
		shop, bob, carol := f.shops[0].ID, f.users[0].ID, f.users[1].ID
		join(t, s, shop, ports.RoleAdmin, bob, carol)
		require.NoError(t, membershipOp(s, shop, func(ctx context.Context, r ports.MembershipRepo) error {
			_, err := r.SetRole(ctx, bob, ports.RoleViewer)
			return err
		}))
		require.NoError(t, membershipOp(s, shop, removeMember(carol)))
		assert.Equal(t, map[ports.UserID]ports.Role{bob: ports.RoleViewer}, roles(t, s, shop))
	})

	t.Run("ConcurrentChangesKeepAnOwner", func(t *testing.T) {
		s := newStore(t)
		tests := []struct {
			name   string
			change func(ports.UserID) func(context.Context, ports.MembershipRepo) error
			other  func(ports.UserID) func(context.Context, ports.MembershipRepo) error
		}{
			{"two demotions", demote, demote},
			{"two removals", removeMember, removeMember},
			{"a demotion and a removal", demote, removeMember},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := seed(t, s, 1, 2)
				shop, alice, bob := f.shops[0].ID, f.users[0].ID, f.users[1].ID
				join(t, s, shop, ports.RoleOwner, alice, bob)
				requireOneLastOwner(t, race([2]func(func()) error{
					racingInShop(s, shop, tt.change(alice)),
					racingInShop(s, shop, tt.other(bob)),
				}))
				var owners int
				for _, role := range roles(t, s, shop) {
					if role == ports.RoleOwner {
						owners++
					}
				}
				require.Equal(t, 1, owners, "exactly one owner remains")
			})
		}
	})

	t.Run("RemoveDeletesTheMembersSessionsAndLinks", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 2, 2)
		shopA, shopB, alice, bob := f.shops[0].ID, f.shops[1].ID, f.users[0].ID, f.users[1].ID
		join(t, s, shopA, ports.RoleOwner, alice)
		join(t, s, shopA, ports.RoleTech, bob)
		join(t, s, shopB, ports.RoleOwner, bob)
		createSession(t, s, shopA, newSession(bob))
		createSession(t, s, shopA, newSession(bob))
		bobLinkA := createMagicLink(t, s, shopA, newMagicLink(bob, time.Now().Add(time.Hour)))
		aliceA := createSession(t, s, shopA, newSession(alice))
		createMagicLink(t, s, shopA, newMagicLink(alice, time.Now().Add(time.Hour)))
		bobB := createSession(t, s, shopB, newSession(bob))
		bobLinkB := createMagicLink(t, s, shopB, newMagicLink(bob, time.Now().Add(time.Hour)))

		require.NoError(t, membershipOp(s, shopA, removeMember(bob)))
		assert.Empty(t, sessionsOf(t, s, shopA, bob), "bob's sessions in A ended with his membership")
		_, err := consume(s, shopA, bobLinkA.TokenHash, time.Now())
		require.ErrorIs(t, err, ports.ErrNotFound, "bob's magic link in A is gone")
		assert.Equal(t, 1, deleteExpiredLinks(t, s, shopA, time.Now().Add(1000*time.Hour)), "only alice's link is left in A")

		assert.Equal(t, []ports.Session{aliceA}, sessionsOf(t, s, shopA, alice), "other members' sessions are untouched")
		assert.Equal(t, []ports.Session{bobB}, sessionsOf(t, s, shopB, bob), "bob's session in another shop is untouched")
		_, err = consume(s, shopB, bobLinkB.TokenHash, time.Now())
		require.NoError(t, err, "bob's magic link in another shop is untouched")
	})
}
