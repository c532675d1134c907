package porttest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// newInvitation returns a valid pending invitation that expires at expires.
func newInvitation(expires time.Time) ports.Invitation {
	return ports.Invitation{
		ID: ports.NewInvitationID(), TokenHash: tokenHash(), Email: "dana@example.com",
		Role: ports.RoleTech, ExpiresAt: expires,
	}
}

// createInvitation stores in through shop's unit of work and requires
// success.
func createInvitation(t *testing.T, s ports.Store, shop ports.ShopID, in ports.Invitation) ports.Invitation {
	t.Helper()
	var out ports.Invitation
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Invitations().Create(ctx, in)
		return err
	})
	return out
}

// invitationOp runs do on shop's invitation repository in its own unit of
// work and returns what it returned.
func invitationOp(s ports.Store, shop ports.ShopID, do func(ctx context.Context, r ports.InvitationRepo) (ports.Invitation, error)) (ports.Invitation, error) {
	var out ports.Invitation
	err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = do(ctx, tx.Invitations())
		return err
	})
	return out, err
}

func getInvitation(s ports.Store, shop ports.ShopID, id ports.InvitationID) (ports.Invitation, error) {
	return invitationOp(s, shop, func(ctx context.Context, r ports.InvitationRepo) (ports.Invitation, error) { return r.Get(ctx, id) })
}

func acceptInvitation(s ports.Store, shop ports.ShopID, hash []byte, user ports.UserID, now time.Time) (ports.Invitation, error) {
	return invitationOp(s, shop, func(ctx context.Context, r ports.InvitationRepo) (ports.Invitation, error) {
		return r.Accept(ctx, hash, user, now)
	})
}

func revokeInvitation(s ports.Store, shop ports.ShopID, id ports.InvitationID, now time.Time) (ports.Invitation, error) {
	return invitationOp(s, shop, func(ctx context.Context, r ports.InvitationRepo) (ports.Invitation, error) {
		return r.Revoke(ctx, id, now)
	})
}

// listInvitations lists shop's invitations (pending at pendingAt unless
// it is zero) and requires success.
func listInvitations(t *testing.T, s ports.Store, shop ports.ShopID, pendingAt time.Time) []ports.Invitation {
	t.Helper()
	var out []ports.Invitation
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Invitations().List(ctx, pendingAt)
		return err
	}, ports.ReadOnly())
	return out
}

func invitationIDs(list []ports.Invitation) []ports.InvitationID {
	out := make([]ports.InvitationID, len(list))
	for i, inv := range list {
		out[i] = inv.ID
	}
	return out
}

// deleteExpiredInvitations sweeps shop at now and requires success.
func deleteExpiredInvitations(t *testing.T, s ports.Store, shop ports.ShopID, now time.Time) int {
	t.Helper()
	var n int
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		n, err = tx.Invitations().DeleteExpired(ctx, now)
		return err
	})
	return n
}

func testInvitations(t *testing.T, newStore StoreHarness) {
	t.Run("CreateAndGet", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, inviter := f.shops[0].ID, f.users[0].ID
		zone := time.FixedZone("z", 5*3600)
		before := time.Now().Add(-time.Minute)
		in := newInvitation(time.Now().Add(72*time.Hour + 999*time.Nanosecond).In(zone))
		in.Email, in.Role, in.InvitedBy = "  Dana.Smith@Example.COM ", ports.RoleAdmin, inviter
		in.CreatedAt = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)                   // ignored: the store stamps it
		in.AcceptedAt, in.AcceptedBy, in.RevokedAt = time.Now(), inviter, time.Now() // ignored: a new invitation is pending

		created := createInvitation(t, s, shop, in)
		assert.True(t, created.CreatedAt.After(before), "the store stamps CreatedAt")
		assert.Equal(t, ports.Timestamp(created.CreatedAt), created.CreatedAt, "times are kept as ports.Timestamp")
		want := ports.Invitation{
			ID: in.ID, TokenHash: in.TokenHash, Email: "dana.smith@example.com", Role: ports.RoleAdmin, InvitedBy: inviter,
			CreatedAt: created.CreatedAt, ExpiresAt: ports.Timestamp(in.ExpiresAt),
		}
		assert.Equal(t, want, created, "Create returns the invitation as stored: e-mail normalised, pending")
		got, err := getInvitation(s, shop, in.ID)
		require.NoError(t, err)
		assert.Equal(t, want, got, "every field round-trips")
		assert.True(t, got.Pending(time.Now()))

		byOperator := createInvitation(t, s, shop, newInvitation(time.Now().Add(time.Hour)))
		got, err = getInvitation(s, shop, byOperator.ID)
		require.NoError(t, err)
		assert.True(t, got.InvitedBy.IsZero(), "an operator's invitation has no inviter")
		assert.Equal(t, byOperator, got)

		_, err = getInvitation(s, shop, ports.NewInvitationID())
		require.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("CreateRefusesBadInput", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 0)
		shop := f.shops[0].ID
		tests := []struct {
			name string
			give func(*ports.Invitation)
		}{
			{"zero id", func(i *ports.Invitation) { i.ID = ports.InvitationID{} }},
			{"no token hash", func(i *ports.Invitation) { i.TokenHash = nil }},
			{"short token hash", func(i *ports.Invitation) { i.TokenHash = i.TokenHash[:ports.TokenHashSize-1] }},
			{"long token hash", func(i *ports.Invitation) { i.TokenHash = append(i.TokenHash, 0) }},
			{"no email", func(i *ports.Invitation) { i.Email = "  " }},
			{"malformed email", func(i *ports.Invitation) { i.Email = "dana.example.com" }},
			{"long email", func(i *ports.Invitation) { i.Email = strings.Repeat("a", 250) + "@x.io" }},
			{"no role", func(i *ports.Invitation) { i.Role = "" }},
			{"unknown role", func(i *ports.Invitation) { i.Role = "root" }},
			{"no expiry", func(i *ports.Invitation) { i.ExpiresAt = time.Time{} }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				give := newInvitation(time.Now().Add(time.Hour))
				tt.give(&give)
				err := refusedInShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.Invitations().Create(ctx, give)
					return err
				})
				require.ErrorIs(t, err, ports.ErrInvalid)
			})
		}
		assert.Empty(t, listInvitations(t, s, shop, time.Time{}), "nothing was written")
	})

	t.Run("CreateRefusesTakenKeysAndUnknownReferences", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop := f.shops[0].ID
		orig := createInvitation(t, s, shop, newInvitation(time.Now().Add(time.Hour)))
		takenID := newInvitation(time.Now().Add(2 * time.Hour))
		takenID.ID = orig.ID
		takenHash := newInvitation(time.Now().Add(2 * time.Hour))
		takenHash.TokenHash = orig.TokenHash
		unknownInviter := newInvitation(time.Now().Add(time.Hour))
		unknownInviter.InvitedBy = ports.NewUserID()
		tests := []struct {
			name string
			shop ports.ShopID
			give ports.Invitation
			want error
		}{
			{"taken id", shop, takenID, ports.ErrConflict},
			{"taken token hash", shop, takenHash, ports.ErrConflict},
			{"unknown inviter", shop, unknownInviter, ports.ErrNotFound},
			{"missing shop", ports.NewShopID(), newInvitation(time.Now().Add(time.Hour)), ports.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := invitationOp(s, tt.shop, func(ctx context.Context, r ports.InvitationRepo) (ports.Invitation, error) {
					return r.Create(ctx, tt.give)
				})
				require.ErrorIs(t, err, tt.want)
			})
		}
		assert.Equal(t, []ports.Invitation{orig}, listInvitations(t, s, shop, time.Time{}), "the taken invitation is unchanged")
	})

	t.Run("AcceptOnce", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 2)
		shop, dana := f.shops[0].ID, f.users[1].ID
		inv := createInvitation(t, s, shop, newInvitation(time.Now().Add(time.Hour)))
		at := time.Now().Add(123 * time.Nanosecond).In(time.FixedZone("z", -7*3600))

		_, err := acceptInvitation(s, shop, inv.TokenHash, ports.NewUserID(), at)
		require.ErrorIs(t, err, ports.ErrNotFound, "an unknown user cannot accept")
		got, err := getInvitation(s, shop, inv.ID)
		require.NoError(t, err)
		require.True(t, got.Pending(at), "the refused accept changed nothing")

		accepted, err := acceptInvitation(s, shop, inv.TokenHash, dana, at)
		require.NoError(t, err)
		want := inv
		want.AcceptedAt, want.AcceptedBy = ports.Timestamp(at), dana
		assert.Equal(t, want, accepted, "Accept returns the invitation with AcceptedAt and AcceptedBy set")
		got, err = getInvitation(s, shop, inv.ID)
		require.NoError(t, err)
		assert.Equal(t, want, got)
		assert.Empty(t, members(t, s, shop), "Accept does not create the membership")

		_, err = acceptInvitation(s, shop, inv.TokenHash, dana, at)
		require.ErrorIs(t, err, ports.ErrNotFound, "an invitation is single-use")
		_, err = acceptInvitation(s, shop, inv.TokenHash, f.users[0].ID, at)
		require.ErrorIs(t, err, ports.ErrNotFound, "and not by someone else either")
		_, err = revokeInvitation(s, shop, inv.ID, at)
		require.ErrorIs(t, err, ports.ErrNotFound, "an accepted invitation cannot be revoked")
	})

	t.Run("AcceptOnlyWhilePending", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, dana := f.shops[0].ID, f.users[0].ID
		now := ports.Timestamp(time.Now())
		tests := []struct {
			name    string
			expires time.Time
			revoke  bool
			give    func(stored []byte) []byte
			want    error
		}{
			{"expired before now", now.Add(-time.Second), false, func(h []byte) []byte { return h }, ports.ErrNotFound},
			{"expired at now", now, false, func(h []byte) []byte { return h }, ports.ErrNotFound},
			{"revoked", now.Add(time.Hour), true, func(h []byte) []byte { return h }, ports.ErrNotFound},
			{"unknown token", now.Add(time.Hour), false, func([]byte) []byte { return tokenHash() }, ports.ErrNotFound},
			{"short token", now.Add(time.Hour), false, func(h []byte) []byte { return h[:16] }, ports.ErrNotFound},
			{"valid a microsecond more", now.Add(time.Microsecond), false, func(h []byte) []byte { return h }, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				inv := createInvitation(t, s, shop, newInvitation(tt.expires))
				if tt.revoke {
					_, err := revokeInvitation(s, shop, inv.ID, now.Add(-time.Second))
					require.NoError(t, err)
				}
				_, err := acceptInvitation(s, shop, tt.give(inv.TokenHash), dana, now)
				assert.ErrorIs(t, err, tt.want)
			})
		}
	})

	t.Run("ConcurrentAcceptSucceedsOnce", func(t *testing.T) {
		s := newStore(t)
		const racers = 8
		f := seed(t, s, 1, racers)
		shop := f.shops[0].ID
		inv := createInvitation(t, s, shop, newInvitation(time.Now().Add(time.Hour)))
		start := make(chan struct{})
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				<-start
				_, errs[i] = acceptInvitation(s, shop, inv.TokenHash, f.users[i].ID, time.Now())
			})
		}
		close(start)
		wg.Wait()
		winner, losses := -1, 0
		for i, err := range errs {
			switch {
			case err == nil:
				winner = i
			case errors.Is(err, ports.ErrNotFound):
				losses++
			}
		}
		assert.Equal(t, racers-1, losses, "all but one of %d concurrent accepts see the invitation as used (ErrNotFound): %v", racers, errs)
		require.NotEqual(t, -1, winner, "one accept succeeds: %v", errs)
		got, err := getInvitation(s, shop, inv.ID)
		require.NoError(t, err)
		assert.Equal(t, f.users[winner].ID, got.AcceptedBy, "the stored acceptor is the winner")
	})

	t.Run("Revoke", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, dana := f.shops[0].ID, f.users[0].ID
		now := ports.Timestamp(time.Now())
		inv := createInvitation(t, s, shop, newInvitation(now.Add(time.Hour)))
		revoked, err := revokeInvitation(s, shop, inv.ID, now)
		require.NoError(t, err)
		want := inv
		want.RevokedAt = now
		assert.Equal(t, want, revoked, "Revoke returns the invitation with RevokedAt set")
		got, err := getInvitation(s, shop, inv.ID)
		require.NoError(t, err)
		assert.Equal(t, want, got)
		assert.False(t, got.Pending(now))

		expiring := createInvitation(t, s, shop, newInvitation(now))
		tests := []struct {
			name string
			give ports.InvitationID
		}{
			{"revoked already", inv.ID},
			{"expired at now", expiring.ID},
			{"unknown", ports.NewInvitationID()},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := revokeInvitation(s, shop, tt.give, now)
				require.ErrorIs(t, err, ports.ErrNotFound)
			})
		}
		got, err = getInvitation(s, shop, inv.ID)
		require.NoError(t, err)
		assert.Equal(t, now, got.RevokedAt, "a second revoke does not move RevokedAt")
		_, err = acceptInvitation(s, shop, inv.TokenHash, dana, now)
		require.ErrorIs(t, err, ports.ErrNotFound, "a revoked invitation cannot be accepted")
	})

	t.Run("ListNewestFirstAndPending", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, dana := f.shops[0].ID, f.users[0].ID
		now := ports.Timestamp(time.Now())
		assert.Empty(t, listInvitations(t, s, shop, time.Time{}))
		live := createInvitation(t, s, shop, newInvitation(now.Add(time.Hour)))
		accepted := createInvitation(t, s, shop, newInvitation(now.Add(time.Hour)))
		revoked := createInvitation(t, s, shop, newInvitation(now.Add(time.Hour)))
		expired := createInvitation(t, s, shop, newInvitation(now))
		later := createInvitation(t, s, shop, newInvitation(now.Add(time.Minute)))
		_, err := acceptInvitation(s, shop, accepted.TokenHash, dana, now.Add(-time.Second))
		require.NoError(t, err)
		_, err = revokeInvitation(s, shop, revoked.ID, now.Add(-time.Second))
		require.NoError(t, err)

		all := listInvitations(t, s, shop, time.Time{})
		assert.Equal(t, []ports.InvitationID{later.ID, expired.ID, revoked.ID, accepted.ID, live.ID}, invitationIDs(all),
			"a zero pendingAt lists every invitation, newest first")
		assert.Equal(t, dana, all[3].AcceptedBy, "listed rows carry their state")
		assert.Equal(t, []ports.InvitationID{later.ID, live.ID}, invitationIDs(listInvitations(t, s, shop, now)),
			"pending at now: not accepted, revoked, or expired at or before now")
		assert.Equal(t, []ports.InvitationID{live.ID}, invitationIDs(listInvitations(t, s, shop, now.Add(time.Minute))),
			"an invitation expiring at pendingAt is no longer pending")
		assert.Equal(t, []ports.InvitationID{later.ID, expired.ID, live.ID}, invitationIDs(listInvitations(t, s, shop, now.Add(-time.Microsecond))),
			"pendingAt is the caller's time, not the store's")
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, dana := f.shops[0].ID, f.users[0].ID
		now := ports.Timestamp(time.Now())
		createInvitation(t, s, shop, newInvitation(now.Add(-time.Second)))
		revoked := createInvitation(t, s, shop, newInvitation(now.Add(-time.Second)))
		_, err := revokeInvitation(s, shop, revoked.ID, now.Add(-time.Hour))
		require.NoError(t, err)
		accepted := createInvitation(t, s, shop, newInvitation(now.Add(-time.Second)))
		_, err = acceptInvitation(s, shop, accepted.TokenHash, dana, now.Add(-time.Hour))
		require.NoError(t, err)
		atNow := createInvitation(t, s, shop, newInvitation(now))
		live := createInvitation(t, s, shop, newInvitation(now.Add(time.Hour)))

		counts := []int{deleteExpiredInvitations(t, s, shop, now), deleteExpiredInvitations(t, s, shop, now)}
		assert.Equal(t, []int{2, 0}, counts, "the two never-accepted invitations that expired before now (one revoked); a second sweep finds nothing")
		assert.Equal(t, []ports.InvitationID{live.ID, atNow.ID, accepted.ID}, invitationIDs(listInvitations(t, s, shop, time.Time{})),
			"accepted invitations are kept as the record of who joined")
		assert.Equal(t, 1, deleteExpiredInvitations(t, s, shop, now.Add(time.Microsecond)), "the invitation expiring at now goes next")
		assert.Equal(t, 1, deleteExpiredInvitations(t, s, shop, now.Add(24*time.Hour)))
		assert.Equal(t, []ports.InvitationID{accepted.ID}, invitationIDs(listInvitations(t, s, shop, time.Time{})))
	})
}
