package porttest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// newSession returns a valid session of user that expires in a day.
func newSession(user ports.UserID) ports.Session {
	return ports.Session{
		ID: ports.NewSessionID(), UserID: user, TokenHash: tokenHash(), Method: "password",
		ExpiresAt: time.Now().Add(24 * time.Hour),
	}
}

// createSession stores in through shop's unit of work and requires success.
func createSession(t *testing.T, s ports.Store, shop ports.ShopID, in ports.Session) ports.Session {
	t.Helper()
	var out ports.Session
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Sessions().Create(ctx, in)
		return err
	})
	return out
}

// getSession reads one session in a read-only unit of work of shop.
func getSession(s ports.Store, shop ports.ShopID, id ports.SessionID) (ports.Session, error) {
	var out ports.Session
	err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Sessions().Get(ctx, id)
		return err
	}, ports.ReadOnly())
	return out, err
}

// sessionsOf lists user's sessions in shop.
func sessionsOf(t *testing.T, s ports.Store, shop ports.ShopID, user ports.UserID) []ports.Session {
	t.Helper()
	var out []ports.Session
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Sessions().ListByUser(ctx, user)
		return err
	}, ports.ReadOnly())
	return out
}

// sessionIDs returns the IDs of list, in order.
func sessionIDs(list []ports.Session) []ports.SessionID {
	out := make([]ports.SessionID, len(list))
	for i, s := range list {
		out[i] = s.ID
	}
	return out
}

// sessionCount runs one counting SessionRepo method in shop and requires success.
func sessionCount(t *testing.T, s ports.Store, shop ports.ShopID, do func(ctx context.Context, r ports.SessionRepo) (int, error)) int {
	t.Helper()
	var n int
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		n, err = do(ctx, tx.Sessions())
		return err
	})
	return n
}

func testSessions(t *testing.T, newStore StoreHarness) {
	t.Run("CreateGetRoundTrip", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, user := f.shops[0].ID, f.users[0].ID
		join(t, s, shop, ports.RoleTech, user)
		before := time.Now().Add(-time.Minute)
		stale := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		in := ports.Session{
			ID: ports.NewSessionID(), UserID: user, TokenHash: tokenHash(), Method: "magic_link",
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", IP: "2001:db8::7",
			CreatedAt: stale, LastSeenAt: stale, // ignored: the store stamps both
			ExpiresAt: time.Date(2031, 1, 2, 3, 4, 5, 123456789, time.FixedZone("x", -5*3600)),
		}
		created := createSession(t, s, shop, in)
		assert.True(t, created.CreatedAt.After(before), "the store stamps CreatedAt")
		assert.Equal(t, ports.Timestamp(created.CreatedAt), created.CreatedAt, "times are kept as ports.Timestamp")
		assert.Equal(t, created.CreatedAt, created.LastSeenAt, "LastSeenAt starts at CreatedAt")
		want := in
		want.CreatedAt, want.LastSeenAt, want.ExpiresAt = created.CreatedAt, created.CreatedAt, ports.Timestamp(in.ExpiresAt)
		// A session stored without a level is AAL1, and signing in is its
		// first authentication (AUTH-13).
		want.AAL, want.ReauthenticatedAt = ports.AAL1, created.CreatedAt
		assert.Equal(t, want, created, "Create returns the session as stored")
		got, err := getSession(s, shop, in.ID)
		require.NoError(t, err)
		assert.Equal(t, created, got, "every field round-trips")
		assert.Equal(t, []ports.Session{created}, sessionsOf(t, s, shop, user))
		_, err = getSession(s, shop, ports.NewSessionID())
		require.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("AcceptsFieldsAtTheirLimits", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, user := f.shops[0].ID, f.users[0].ID
		join(t, s, shop, ports.RoleTech, user)
		in := newSession(user)
		in.Method, in.UserAgent, in.IP = strings.Repeat("m", 32), strings.Repeat("u", 512), strings.Repeat("1", 64)
		created := createSession(t, s, shop, in)
		got, err := getSession(s, shop, in.ID)
		require.NoError(t, err)
		assert.Equal(t, created, got)
		assert.Equal(t, in.UserAgent, got.UserAgent)
	})

	t.Run("ListByUserNewestFirstAndOnlyTheirs", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 2, 2)
		shopA, shopB := f.shops[0].ID, f.shops[1].ID
		alice, bob := f.users[0].ID, f.users[1].ID
		join(t, s, shopA, ports.RoleTech, alice, bob)
		join(t, s, shopB, ports.RoleTech, alice)
		first := createSession(t, s, shopA, newSession(alice))
		second := createSession(t, s, shopA, newSession(alice))
		third := createSession(t, s, shopA, newSession(alice))
		bobs := createSession(t, s, shopA, newSession(bob))
		createSession(t, s, shopB, newSession(alice))
		assert.Equal(t, []ports.Session{third, second, first}, sessionsOf(t, s, shopA, alice),
			"newest first; another user's and another shop's sessions are not listed")
		assert.Equal(t, []ports.Session{bobs}, sessionsOf(t, s, shopA, bob))
		assert.Empty(t, sessionsOf(t, s, shopA, ports.NewUserID()), "an unknown user has no sessions, not an error")
	})

	t.Run("TouchSetsLastSeen", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop := f.shops[0].ID
		join(t, s, shop, ports.RoleTech, f.users[0].ID)
		sess := createSession(t, s, shop, newSession(f.users[0].ID))
		at := time.Now().Add(7*time.Minute + 789*time.Nanosecond).In(time.FixedZone("y", 7200))
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error { return tx.Sessions().Touch(ctx, sess.ID, at) })
		want := sess
		want.LastSeenAt = ports.Timestamp(at)
		got, err := getSession(s, shop, sess.ID)
		require.NoError(t, err)
		assert.Equal(t, want, got, "Touch changes LastSeenAt and nothing else")
		err = s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			return tx.Sessions().Touch(ctx, ports.NewSessionID(), at)
		})
		require.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("RotateReplacesTheTokenHash", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop := f.shops[0].ID
		join(t, s, shop, ports.RoleTech, f.users[0].ID)
		sess := createSession(t, s, shop, newSession(f.users[0].ID))
		fresh := tokenHash()
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error { return tx.Sessions().Rotate(ctx, sess.ID, fresh) })
		got, err := getSession(s, shop, sess.ID)
		require.NoError(t, err)
		assert.NotEqual(t, sess.TokenHash, got.TokenHash, "the old hash is gone")
		want := sess
		want.TokenHash = fresh
		assert.Equal(t, want, got, "Rotate changes the token hash and nothing else")

		tests := []struct {
			name string
			id   ports.SessionID
			give []byte
			want error
		}{
			{"unknown session", ports.NewSessionID(), tokenHash(), ports.ErrNotFound},
			{"no hash", sess.ID, nil, ports.ErrInvalid},
			{"short hash", sess.ID, fresh[:ports.TokenHashSize-1], ports.ErrInvalid},
			{"long hash", sess.ID, append(tokenHash(), 0), ports.ErrInvalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
					return tx.Sessions().Rotate(ctx, tt.id, tt.give)
				})
				require.ErrorIs(t, err, tt.want)
			})
		}
		err = refusedInShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			return tx.Sessions().Rotate(ctx, sess.ID, []byte("short"))
		})
		require.ErrorIs(t, err, ports.ErrInvalid)
		got, err = getSession(s, shop, sess.ID)
		require.NoError(t, err)
		assert.Equal(t, fresh, got.TokenHash, "a refused rotation wrote nothing")
	})

	t.Run("Delete", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop := f.shops[0].ID
		join(t, s, shop, ports.RoleTech, f.users[0].ID)
		gone := createSession(t, s, shop, newSession(f.users[0].ID))
		kept := createSession(t, s, shop, newSession(f.users[0].ID))
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error { return tx.Sessions().Delete(ctx, gone.ID) })
		_, err := getSession(s, shop, gone.ID)
		require.ErrorIs(t, err, ports.ErrNotFound)
		assert.Equal(t, []ports.Session{kept}, sessionsOf(t, s, shop, f.users[0].ID))
		err = s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			return tx.Sessions().Delete(ctx, gone.ID)
		})
		require.ErrorIs(t, err, ports.ErrNotFound, "deleting twice")
	})

	t.Run("DeleteByUser", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 2)
		shop, alice, bob := f.shops[0].ID, f.users[0].ID, f.users[1].ID
		join(t, s, shop, ports.RoleTech, alice, bob)
		createSession(t, s, shop, newSession(alice))
		current := createSession(t, s, shop, newSession(alice))
		createSession(t, s, shop, newSession(alice))
		bobs := createSession(t, s, shop, newSession(bob))

		n := sessionCount(t, s, shop, func(ctx context.Context, r ports.SessionRepo) (int, error) {
			return r.DeleteByUser(ctx, alice, current.ID)
		})
		assert.Equal(t, 2, n, "revoke all others")
		assert.Equal(t, []ports.Session{current}, sessionsOf(t, s, shop, alice), "keep survives")
		n = sessionCount(t, s, shop, func(ctx context.Context, r ports.SessionRepo) (int, error) {
			return r.DeleteByUser(ctx, alice, ports.SessionID{})
		})
		assert.Equal(t, 1, n, "a zero keep keeps none")
		assert.Empty(t, sessionsOf(t, s, shop, alice))
		n = sessionCount(t, s, shop, func(ctx context.Context, r ports.SessionRepo) (int, error) {
			return r.DeleteByUser(ctx, alice, ports.SessionID{})
		})
		assert.Equal(t, 0, n, "a user without sessions is not an error")
		assert.Equal(t, []ports.Session{bobs}, sessionsOf(t, s, shop, bob), "another user's sessions are untouched")
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, user := f.shops[0].ID, f.users[0].ID
		join(t, s, shop, ports.RoleTech, user)
		now := ports.Timestamp(time.Now())
		idleBefore := now.Add(-time.Hour)
		expiring := func(at time.Time) ports.Session { in := newSession(user); in.ExpiresAt = at; return in }
		expired := createSession(t, s, shop, expiring(now.Add(-time.Second)))
		atNow := createSession(t, s, shop, expiring(now))
		idle := createSession(t, s, shop, expiring(now.Add(24*time.Hour)))
		idleEdge := createSession(t, s, shop, expiring(now.Add(24*time.Hour)))
		live := createSession(t, s, shop, expiring(now.Add(24*time.Hour)))
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			if err := tx.Sessions().Touch(ctx, idle.ID, idleBefore.Add(-time.Hour)); err != nil {
				return err
			}
			return tx.Sessions().Touch(ctx, idleEdge.ID, idleBefore)
		})

		deleteExpired := func(ctx context.Context, r ports.SessionRepo) (int, error) {
			return r.DeleteExpired(ctx, now, idleBefore)
		}
		assert.Equal(t, 2, sessionCount(t, s, shop, deleteExpired), "past its absolute end, or idle since before idleBefore")
		assert.Equal(t, []ports.SessionID{live.ID, idleEdge.ID, atNow.ID}, sessionIDs(sessionsOf(t, s, shop, user)),
			"expiring at now or last seen at idleBefore is not before it")
		for _, id := range []ports.SessionID{expired.ID, idle.ID} {
			_, err := getSession(s, shop, id)
			require.ErrorIs(t, err, ports.ErrNotFound)
		}
		assert.Equal(t, 0, sessionCount(t, s, shop, deleteExpired), "a second sweep finds nothing")
	})

	t.Run("CreateRefusesBadInput", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, user := f.shops[0].ID, f.users[0].ID
		join(t, s, shop, ports.RoleTech, user)
		tests := []struct {
			name string
			give func(*ports.Session)
		}{
			{"zero id", func(s *ports.Session) { s.ID = ports.SessionID{} }},
			{"zero user", func(s *ports.Session) { s.UserID = ports.UserID{} }},
			{"no token hash", func(s *ports.Session) { s.TokenHash = nil }},
			{"short token hash", func(s *ports.Session) { s.TokenHash = s.TokenHash[:ports.TokenHashSize-1] }},
			{"long token hash", func(s *ports.Session) { s.TokenHash = append(s.TokenHash, 0) }},
			{"no method", func(s *ports.Session) { s.Method = "" }},
			{"method over 32 bytes", func(s *ports.Session) { s.Method = strings.Repeat("m", 33) }},
			{"user agent over 512 bytes", func(s *ports.Session) { s.UserAgent = strings.Repeat("u", 513) }},
			{"ip over 64 bytes", func(s *ports.Session) { s.IP = strings.Repeat("1", 65) }},
			{"no expiry", func(s *ports.Session) { s.ExpiresAt = time.Time{} }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				give := newSession(user)
				tt.give(&give)
				err := refusedInShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.Sessions().Create(ctx, give)
					return err
				})
				require.ErrorIs(t, err, ports.ErrInvalid)
				_, err = getSession(s, shop, give.ID)
				require.ErrorIs(t, err, ports.ErrNotFound, "nothing was written")
			})
		}
		assert.Empty(t, sessionsOf(t, s, shop, user), "refused sessions left nothing behind")
	})

	t.Run("CreateRefusesTakenIDAndNonMembers", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 2, 2)
		shopA, shopB := f.shops[0].ID, f.shops[1].ID
		alice, bob := f.users[0].ID, f.users[1].ID
		join(t, s, shopA, ports.RoleTech, alice)
		join(t, s, shopB, ports.RoleTech, bob)
		orig := createSession(t, s, shopA, newSession(alice))
		dup := newSession(alice)
		dup.ID = orig.ID
		tests := []struct {
			name string
			shop ports.ShopID
			give ports.Session
			want error
		}{
			{"taken id", shopA, dup, ports.ErrConflict},
			{"unknown user", shopA, newSession(ports.NewUserID()), ports.ErrNotFound},
			{"member of another shop only", shopA, newSession(bob), ports.ErrNotFound},
			{"missing shop", ports.NewShopID(), newSession(alice), ports.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.InShop(context.Background(), tt.shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.Sessions().Create(ctx, tt.give)
					return err
				})
				require.ErrorIs(t, err, tt.want)
			})
		}
		got, err := getSession(s, shopA, orig.ID)
		require.NoError(t, err)
		assert.Equal(t, orig, got, "the taken session is unchanged")
		assert.Equal(t, []ports.Session{orig}, sessionsOf(t, s, shopA, alice))
		assert.Empty(t, sessionsOf(t, s, shopA, bob))
	})

	t.Run("EndingAMembershipDeletesItsSessionsInThatShopOnly", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 2, 2)
		shopA, shopB := f.shops[0].ID, f.shops[1].ID
		alice, bob := f.users[0].ID, f.users[1].ID
		join(t, s, shopA, ports.RoleTech, alice, bob)
		join(t, s, shopB, ports.RoleTech, alice)
		inA := createSession(t, s, shopA, newSession(alice))
		createSession(t, s, shopA, newSession(alice))
		bobs := createSession(t, s, shopA, newSession(bob))
		inB := createSession(t, s, shopB, newSession(alice))
		inShop(t, s, shopA, func(ctx context.Context, tx ports.ShopTx) error { return tx.Memberships().Remove(ctx, alice) })

		assert.Empty(t, sessionsOf(t, s, shopA, alice), "the member's sessions in A are gone")
		_, err := getSession(s, shopA, inA.ID)
		require.ErrorIs(t, err, ports.ErrNotFound)
		assert.Equal(t, []ports.Session{inB}, sessionsOf(t, s, shopB, alice), "her membership in B keeps its sessions")
		assert.Equal(t, []ports.Session{bobs}, sessionsOf(t, s, shopA, bob), "other members keep theirs")
		join(t, s, shopA, ports.RoleTech, alice)
		assert.Empty(t, sessionsOf(t, s, shopA, alice), "joining again does not bring sessions back")
	})
}
