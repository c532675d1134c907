package porttest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// TestPasskeys runs the passkey contract (AUTH-12): members' WebAuthn
// credentials and pending ceremonies, one shop's apart from another's, a
// counter that only advances, single-use expiring challenges, and the
// session resolve counting a passkey of the session's shop as a second
// factor.
func TestPasskeys(t *testing.T, s StoreSuite) { s.check(t); testPasskeys(t, s.New) }

func newPasskey(user ports.UserID, cred string) ports.Passkey {
	return ports.Passkey{
		ID: ports.NewPasskeyID(), UserID: user, CredentialID: []byte(cred), RPID: "a.shops.example",
		PublicKey: []byte("cose-key"), SignCount: 5, BackupEligible: true, BackupState: true, UserVerified: true,
		AAGUID: make([]byte, 16), Transports: []string{"hybrid", "internal"}, AttestationFormat: "none", Name: "Laptop",
	}
}

func passkeyOp(s ports.Store, shop ports.ShopID, do func(ctx context.Context, r ports.PasskeyRepo) error) error {
	return s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error { return do(ctx, tx.Passkeys()) })
}

func testPasskeys(t *testing.T, newStore StoreHarness) {
	t.Run("Lifecycle", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 2)
		shop, alice, bob := f.shops[0].ID, f.users[0].ID, f.users[1].ID
		join(t, s, shop, ports.RoleTech, alice, bob)
		k := newPasskey(alice, "cred-1")
		var stored ports.Passkey
		require.NoError(t, passkeyOp(s, shop, func(ctx context.Context, r ports.PasskeyRepo) error {
			var err error
			stored, err = r.Create(ctx, k)
			return err
		}))
		assert.False(t, stored.CreatedAt.IsZero())
		err := passkeyOp(s, shop, func(ctx context.Context, r ports.PasskeyRepo) error {
			_, err := r.Create(ctx, newPasskey(bob, "cred-1"))
			return err
		})
		assert.ErrorIs(t, err, ports.ErrConflict, "a credential ID is the shop's once")
		err = passkeyOp(s, shop, func(ctx context.Context, r ports.PasskeyRepo) error {
			_, err := r.Create(ctx, newPasskey(ports.NewUserID(), "cred-x"))
			return err
		})
		assert.ErrorIs(t, err, ports.ErrNotFound, "unknown user")
		bad := newPasskey(alice, "cred-2")
		bad.AAGUID = []byte{1}
		err = passkeyOp(s, shop, func(ctx context.Context, r ports.PasskeyRepo) error { _, err := r.Create(ctx, bad); return err })
		assert.ErrorIs(t, err, ports.ErrInvalid)

		require.NoError(t, passkeyOp(s, shop, func(ctx context.Context, r ports.PasskeyRepo) error {
			got, err := r.ByCredentialID(ctx, []byte("cred-1"))
			require.NoError(t, err)
			assert.Equal(t, stored.ID, got.ID)
			assert.Equal(t, alice, got.UserID)
			assert.Equal(t, uint32(5), got.SignCount)
			assert.True(t, got.BackupEligible)
			assert.True(t, got.BackupState)
			assert.Equal(t, []string{"hybrid", "internal"}, got.Transports)
			assert.Equal(t, "a.shops.example", got.RPID)
			assert.True(t, got.LastUsedAt.IsZero())
			_, err = r.ByCredentialID(ctx, []byte("nope"))
			assert.ErrorIs(t, err, ports.ErrNotFound)

			list, err := r.ListByUser(ctx, bob)
			require.NoError(t, err)
			assert.Empty(t, list)
			_, err = r.Rename(ctx, bob, stored.ID, "Mine now")
			assert.ErrorIs(t, err, ports.ErrNotFound, "bob cannot rename alice's passkey")
			assert.ErrorIs(t, r.Delete(ctx, bob, stored.ID), ports.ErrNotFound, "bob cannot remove alice's passkey")
			_, err = r.Rename(ctx, alice, stored.ID, "")
			assert.ErrorIs(t, err, ports.ErrInvalid)
			renamed, err := r.Rename(ctx, alice, stored.ID, "Phone")
			require.NoError(t, err)
			assert.Equal(t, "Phone", renamed.Name)
			list, err = r.ListByUser(ctx, alice)
			require.NoError(t, err)
			require.Len(t, list, 1)
			assert.Equal(t, "Phone", list[0].Name)
			return nil
		}))

		// The counter only advances.
		at := time.Now()
		use := func(n uint32, bs bool) error {
			return passkeyOp(s, shop, func(ctx context.Context, r ports.PasskeyRepo) error {
				return r.RecordUse(ctx, stored.ID, ports.PasskeyUse{SignCount: n, BackupState: bs, UserVerified: true, At: at})
			})
		}
		assert.ErrorIs(t, use(4, true), ports.ErrConflict, "a lowered counter")
		assert.ErrorIs(t, use(5, true), ports.ErrConflict, "a repeated counter")
		require.NoError(t, use(6, false))
		assert.ErrorIs(t, use(6, false), ports.ErrConflict)
		err = passkeyOp(s, shop, func(ctx context.Context, r ports.PasskeyRepo) error {
			return r.RecordUse(ctx, ports.NewPasskeyID(), ports.PasskeyUse{SignCount: 9, At: at})
		})
		assert.ErrorIs(t, err, ports.ErrNotFound)
		require.NoError(t, passkeyOp(s, shop, func(ctx context.Context, r ports.PasskeyRepo) error {
			got, err := r.ByCredentialID(ctx, []byte("cred-1"))
			require.NoError(t, err)
			assert.Equal(t, uint32(6), got.SignCount)
			assert.False(t, got.BackupState, "BS follows the last assertion")
			assert.True(t, got.BackupEligible, "BE is kept")
			assert.WithinDuration(t, at, got.LastUsedAt, time.Millisecond)
			return nil
		}))

		require.NoError(t, passkeyOp(s, shop, func(ctx context.Context, r ports.PasskeyRepo) error { return r.Delete(ctx, alice, stored.ID) }))
		err = passkeyOp(s, shop, func(ctx context.Context, r ports.PasskeyRepo) error { return r.Delete(ctx, alice, stored.ID) })
		assert.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("ZeroCounter", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, user := f.shops[0].ID, f.users[0].ID
		join(t, s, shop, ports.RoleTech, user)
		k := newPasskey(user, "no-counter")
		k.SignCount = 0
		require.NoError(t, passkeyOp(s, shop, func(ctx context.Context, r ports.PasskeyRepo) error { _, err := r.Create(ctx, k); return err }))
		for range 2 {
			require.NoError(t, passkeyOp(s, shop, func(ctx context.Context, r ports.PasskeyRepo) error {
				return r.RecordUse(ctx, k.ID, ports.PasskeyUse{At: time.Now()})
			}), "an authenticator without a counter reports zero every time")
		}
	})

	t.Run("ConcurrentUseOfOneCounter", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, user := f.shops[0].ID, f.users[0].ID
		join(t, s, shop, ports.RoleTech, user)
		k := newPasskey(user, "race")
		require.NoError(t, passkeyOp(s, shop, func(ctx context.Context, r ports.PasskeyRepo) error { _, err := r.Create(ctx, k); return err }))
		const n = 4
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = passkeyOp(s, shop, func(ctx context.Context, r ports.PasskeyRepo) error {
					return r.RecordUse(ctx, k.ID, ports.PasskeyUse{SignCount: 7, At: time.Now()})
				})
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else {
				assert.ErrorIs(t, err, ports.ErrConflict)
			}
		}
		assert.Equal(t, 1, ok, "one assertion with a counter of 7 is accepted")
	})

	t.Run("Challenges", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 1)
		shop, user := f.shops[0].ID, f.users[0].ID
		join(t, s, shop, ports.RoleTech, user)
		sess := createSession(t, s, shop, newSession(user))
		now := time.Now()
		signin := ports.WebAuthnChallenge{Hash: tokenHash(), Purpose: ports.ChallengeSignIn, RPID: "a.shops.example", Data: []byte(`{}`), ExpiresAt: now.Add(5 * time.Minute)}
		step := ports.WebAuthnChallenge{Hash: tokenHash(), Purpose: ports.ChallengeStepUp, UserID: user, SessionID: sess.ID, RPID: "a.shops.example", ExpiresAt: now.Add(5 * time.Minute)}
		old := ports.WebAuthnChallenge{Hash: tokenHash(), Purpose: ports.ChallengeSignIn, RPID: "a.shops.example", ExpiresAt: now.Add(time.Second)}
		require.NoError(t, passkeyOp(s, shop, func(ctx context.Context, r ports.PasskeyRepo) error {
			for _, c := range []ports.WebAuthnChallenge{signin, step, old} {
				if err := r.PutChallenge(ctx, c); err != nil {
					return err
				}
			}
			return nil
		}))
		err := passkeyOp(s, shop, func(ctx context.Context, r ports.PasskeyRepo) error { return r.PutChallenge(ctx, signin) })
		assert.ErrorIs(t, err, ports.ErrConflict, "a hash in use")
		bad := step
		bad.Hash, bad.SessionID = tokenHash(), ports.SessionID{}
		err = passkeyOp(s, shop, func(ctx context.Context, r ports.PasskeyRepo) error { return r.PutChallenge(ctx, bad) })
		assert.ErrorIs(t, err, ports.ErrInvalid, "a step-up is bound to a session")

		take := func(c ports.WebAuthnChallenge, purpose string, at time.Time) (ports.WebAuthnChallenge, error) {
			var out ports.WebAuthnChallenge
			err := passkeyOp(s, shop, func(ctx context.Context, r ports.PasskeyRepo) error {
				var err error
				out, err = r.TakeChallenge(ctx, c.Hash, purpose, at)
				return err
			})
			return out, err
		}
		_, err = take(step, ports.ChallengeSignIn, now)
		assert.ErrorIs(t, err, ports.ErrNotFound, "another purpose")
		got, err := take(step, ports.ChallengeStepUp, now)
		require.NoError(t, err)
		assert.Equal(t, user, got.UserID)
		assert.Equal(t, sess.ID, got.SessionID)
		_, err = take(step, ports.ChallengeStepUp, now)
		assert.ErrorIs(t, err, ports.ErrNotFound, "a challenge works once")
		got, err = take(signin, ports.ChallengeSignIn, now)
		require.NoError(t, err)
		assert.True(t, got.UserID.IsZero())
		assert.Equal(t, []byte(`{}`), got.Data)
		_, err = take(old, ports.ChallengeSignIn, now.Add(time.Minute))
		assert.ErrorIs(t, err, ports.ErrNotFound, "an expired challenge")
	})

	t.Run("ResolverCountsPasskeyOfItsShop", func(t *testing.T) {
		s := newStore(t)
		r, ok := s.(ports.SessionResolver)
		require.Truef(t, ok, "%T does not implement ports.SessionResolver", s)
		f := seed(t, s, 2, 1)
		a, b, user := f.shops[0].ID, f.shops[1].ID, f.users[0].ID
		join(t, s, a, ports.RoleTech, user)
		join(t, s, b, ports.RoleTech, user)
		sa := createSession(t, s, a, newSession(user))
		sb := createSession(t, s, b, newSession(user))
		require.NoError(t, passkeyOp(s, a, func(ctx context.Context, r ports.PasskeyRepo) error {
			_, err := r.Create(ctx, newPasskey(user, "a-only"))
			return err
		}))
		got, err := r.ResolveSession(context.Background(), a, sa.ID)
		require.NoError(t, err)
		assert.True(t, got.HasSecondFactor, "a passkey of the shop is a second factor there")
		got, err = r.ResolveSession(context.Background(), b, sb.ID)
		require.NoError(t, err)
		assert.False(t, got.HasSecondFactor, "shop A's passkey is no factor on shop B")
	})
}

// testPasskeyTenantBoundary: one shop's passkeys and challenges are
// neither read, changed nor taken from another shop's unit of work.
func testPasskeyTenantBoundary(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 2, 1)
	a, b, user := f.shops[0].ID, f.shops[1].ID, f.users[0].ID
	join(t, s, a, ports.RoleTech, user)
	join(t, s, b, ports.RoleTech, user)
	k := newPasskey(user, "cred-of-a")
	c := ports.WebAuthnChallenge{Hash: tokenHash(), Purpose: ports.ChallengeSignIn, RPID: "a.shops.example", ExpiresAt: time.Now().Add(time.Minute)}
	require.NoError(t, passkeyOp(s, a, func(ctx context.Context, r ports.PasskeyRepo) error {
		if _, err := r.Create(ctx, k); err != nil {
			return err
		}
		return r.PutChallenge(ctx, c)
	}))
	require.NoError(t, passkeyOp(s, b, func(ctx context.Context, r ports.PasskeyRepo) error {
		_, err := r.ByCredentialID(ctx, k.CredentialID)
		assert.ErrorIs(t, err, ports.ErrNotFound, "B does not see A's credential")
		list, err := r.ListByUser(ctx, user)
		require.NoError(t, err)
		assert.Empty(t, list)
		_, err = r.Rename(ctx, user, k.ID, "stolen")
		assert.ErrorIs(t, err, ports.ErrNotFound)
		assert.ErrorIs(t, r.Delete(ctx, user, k.ID), ports.ErrNotFound)
		assert.ErrorIs(t, r.RecordUse(ctx, k.ID, ports.PasskeyUse{SignCount: 100, At: time.Now()}), ports.ErrNotFound)
		_, err = r.TakeChallenge(ctx, c.Hash, c.Purpose, time.Now())
		assert.ErrorIs(t, err, ports.ErrNotFound, "B cannot take A's challenge")
		// The same credential ID may exist in B: it is another relying party.
		other := newPasskey(user, "cred-of-a")
		other.RPID = "b.shops.example"
		_, err = r.Create(ctx, other)
		return err
	}))
	require.NoError(t, passkeyOp(s, a, func(ctx context.Context, r ports.PasskeyRepo) error {
		got, err := r.ByCredentialID(ctx, k.CredentialID)
		require.NoError(t, err)
		assert.Equal(t, k.ID, got.ID)
		assert.Equal(t, "Laptop", got.Name)
		assert.Equal(t, uint32(5), got.SignCount)
		_, err = r.TakeChallenge(ctx, c.Hash, c.Purpose, time.Now())
		return err
	}))
}
