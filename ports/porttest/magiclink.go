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

// newMagicLink returns a valid link for user that expires at expires.
func newMagicLink(user ports.UserID, expires time.Time) ports.MagicLink {
	return ports.MagicLink{TokenHash: tokenHash(), UserID: user, Email: "dana@example.com", ExpiresAt: expires}
}

// createMagicLink stores in through shop's unit of work and requires success.
func createMagicLink(t *testing.T, s ports.Store, shop ports.ShopID, in ports.MagicLink) ports.MagicLink {
	t.Helper()
	var out ports.MagicLink
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.MagicLinks().Create(ctx, in)
		return err
	})
	return out
}

// consume runs Consume in its own unit of work of shop.
func consume(s ports.Store, shop ports.ShopID, hash []byte, now time.Time) (ports.MagicLink, error) {
	var out ports.MagicLink
	err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.MagicLinks().Consume(ctx, hash, now)
		return err
	})
	return out, err
}

// deleteExpiredLinks runs DeleteExpired in shop and requires success.
func deleteExpiredLinks(t *testing.T, s ports.Store, shop ports.ShopID, now time.Time) int {
	t.Helper()
	var n int
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		n, err = tx.MagicLinks().DeleteExpired(ctx, now)
		return err
	})
	return n
}

func testMagicLinks(t *testing.T, newStore StoreHarness) {
	t.Run("CreateAndConsumeOnce", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, user := f.shops[0].ID, f.users[0].ID
		join(t, s, shop, ports.RoleViewer, user)
		before := time.Now().Add(-time.Minute)
		zone := time.FixedZone("z", -3*3600)
		in := ports.MagicLink{
			TokenHash: tokenHash(), UserID: user, Email: "dana@example.com",
			CreatedAt: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), // ignored: the store stamps it
			ExpiresAt: time.Now().Add(15*time.Minute + 999*time.Nanosecond).In(zone),
		}
		created := createMagicLink(t, s, shop, in)
		assert.True(t, created.CreatedAt.After(before), "the store stamps CreatedAt")
		assert.Equal(t, ports.Timestamp(created.CreatedAt), created.CreatedAt, "times are kept as ports.Timestamp")
		want := in
		want.CreatedAt, want.ExpiresAt = created.CreatedAt, ports.Timestamp(in.ExpiresAt)
		assert.Equal(t, want, created, "Create returns the link as stored, not consumed")

		at := time.Now().Add(123 * time.Nanosecond).In(zone)
		got, err := consume(s, shop, in.TokenHash, at)
		require.NoError(t, err)
		want.ConsumedAt = ports.Timestamp(at)
		assert.Equal(t, want, got, "Consume returns the link with ConsumedAt set; every field round-trips")
		_, err = consume(s, shop, in.TokenHash, at)
		require.ErrorIs(t, err, ports.ErrNotFound, "a link is single-use")
	})

	t.Run("ConsumeOnlyBeforeExpiry", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, user := f.shops[0].ID, f.users[0].ID
		join(t, s, shop, ports.RoleViewer, user)
		now := ports.Timestamp(time.Now())
		tests := []struct {
			name    string
			expires time.Time
			give    func(stored []byte) []byte
			want    error
		}{
			{"expired before now", now.Add(-time.Second), func(h []byte) []byte { return h }, ports.ErrNotFound},
			{"expired at now", now, func(h []byte) []byte { return h }, ports.ErrNotFound},
			{"unknown token", now.Add(time.Hour), func([]byte) []byte { return tokenHash() }, ports.ErrNotFound},
			{"valid a microsecond more", now.Add(time.Microsecond), func(h []byte) []byte { return h }, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				l := createMagicLink(t, s, shop, newMagicLink(user, tt.expires))
				_, err := consume(s, shop, tt.give(l.TokenHash), now)
				assert.ErrorIs(t, err, tt.want)
			})
		}
	})

	t.Run("ConcurrentConsumeSucceedsOnce", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, user := f.shops[0].ID, f.users[0].ID
		join(t, s, shop, ports.RoleViewer, user)
		l := createMagicLink(t, s, shop, newMagicLink(user, time.Now().Add(time.Hour)))
		const racers = 8
		start := make(chan struct{})
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				<-start
				_, errs[i] = consume(s, shop, l.TokenHash, time.Now())
			})
		}
		close(start)
		wg.Wait()
		var wins, losses int
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case errors.Is(err, ports.ErrNotFound):
				losses++
			}
		}
		assert.Equal(t, 1, wins, "exactly one of %d concurrent Consume calls succeeds: %v", racers, errs)
		assert.Equal(t, racers-1, losses, "the others see the link as consumed (ErrNotFound): %v", errs)
	})

	t.Run("CreateRefusesBadInput", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, user := f.shops[0].ID, f.users[0].ID
		join(t, s, shop, ports.RoleViewer, user)
		tests := []struct {
			name string
			give func(*ports.MagicLink)
		}{
			{"no token hash", func(l *ports.MagicLink) { l.TokenHash = nil }},
			{"short token hash", func(l *ports.MagicLink) { l.TokenHash = l.TokenHash[:ports.TokenHashSize-1] }},
			{"long token hash", func(l *ports.MagicLink) { l.TokenHash = append(l.TokenHash, 0) }},
			{"zero user", func(l *ports.MagicLink) { l.UserID = ports.UserID{} }},
			{"no expiry", func(l *ports.MagicLink) { l.ExpiresAt = time.Time{} }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				give := newMagicLink(user, time.Now().Add(time.Hour))
				tt.give(&give)
				err := refusedInShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.MagicLinks().Create(ctx, give)
					return err
				})
				require.ErrorIs(t, err, ports.ErrInvalid)
				_, err = consume(s, shop, give.TokenHash, time.Now())
				require.ErrorIs(t, err, ports.ErrNotFound, "nothing was written")
			})
		}
		assert.Equal(t, 0, deleteExpiredLinks(t, s, shop, time.Now().Add(1000*time.Hour)), "the shop holds no link")
	})

	t.Run("CreateRefusesTakenHashAndUnknownUser", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 2)
		shop, alice, bob := f.shops[0].ID, f.users[0].ID, f.users[1].ID
		join(t, s, shop, ports.RoleViewer, alice, bob)
		orig := createMagicLink(t, s, shop, newMagicLink(alice, time.Now().Add(time.Hour)))
		dup := newMagicLink(bob, time.Now().Add(2*time.Hour))
		dup.TokenHash = orig.TokenHash
		tests := []struct {
			name string
			give ports.MagicLink
			want error
		}{
			{"taken hash", dup, ports.ErrConflict},
			{"unknown user", newMagicLink(ports.NewUserID(), time.Now().Add(time.Hour)), ports.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.MagicLinks().Create(ctx, tt.give)
					return err
				})
				require.ErrorIs(t, err, tt.want)
			})
		}
		got, err := consume(s, shop, orig.TokenHash, time.Now())
		require.NoError(t, err)
		assert.Equal(t, alice, got.UserID, "the taken link is unchanged")
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, user := f.shops[0].ID, f.users[0].ID
		join(t, s, shop, ports.RoleViewer, user)
		now := ports.Timestamp(time.Now())
		createMagicLink(t, s, shop, newMagicLink(user, now.Add(-time.Second)))
		createMagicLink(t, s, shop, newMagicLink(user, now))
		live := createMagicLink(t, s, shop, newMagicLink(user, now.Add(15*time.Minute)))
		used := createMagicLink(t, s, shop, newMagicLink(user, now.Add(15*time.Minute)))
		_, err := consume(s, shop, used.TokenHash, now)
		require.NoError(t, err)

		counts := []int{deleteExpiredLinks(t, s, shop, now), deleteExpiredLinks(t, s, shop, now)}
		assert.Equal(t, []int{1, 0}, counts, "only the link that expired before now; a second sweep finds nothing")
		assert.Equal(t, 1, deleteExpiredLinks(t, s, shop, now.Add(time.Microsecond)), "the link expiring at now goes next")
		_, err = consume(s, shop, live.TokenHash, now)
		require.NoError(t, err, "an unexpired link survives the sweep")
		assert.Equal(t, 2, deleteExpiredLinks(t, s, shop, now.Add(time.Hour)), "consumed links stay until they expire")
	})
}
