package porttest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// pendingHash is a stand-in for a PasswordHasher's output.
const pendingHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"

// mailToken runs fn on the mail token repository in its own global unit
// of work.
func mailToken[T any](s ports.Store, fn func(ctx context.Context, r ports.MailTokenRepo) (T, error)) (T, error) {
	var out T
	err := s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = fn(ctx, tx.MailTokens())
		return err
	})
	return out, err
}

func consumeMailToken(s ports.Store, hash []byte, purpose ports.MailTokenPurpose, now time.Time) (ports.MailToken, error) {
	return mailToken(s, func(ctx context.Context, r ports.MailTokenRepo) (ports.MailToken, error) {
		return r.Consume(ctx, hash, purpose, now)
	})
}

func createMailToken(t *testing.T, s ports.Store, m ports.MailToken) ports.MailToken {
	t.Helper()
	got, err := mailToken(s, func(ctx context.Context, r ports.MailTokenRepo) (ports.MailToken, error) {
		return r.Create(ctx, m)
	})
	require.NoError(t, err)
	return got
}

func getUser(t *testing.T, s ports.Store, id ports.UserID) ports.User {
	t.Helper()
	var u ports.User
	require.NoError(t, s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		u, err = tx.Users().Get(ctx, id)
		return err
	}, ports.ReadOnly()))
	return u
}

func markVerified(s ports.Store, id ports.UserID, at time.Time) (bool, error) {
	var first bool
	err := s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		first, err = tx.Users().MarkVerified(ctx, id, at)
		return err
	})
	return first, err
}

// testMailProof covers what mailbox proof (AUTH-16) and password reset
// (AUTH-17) need of the store: a user's VerifiedAt and MarkVerified, the
// shops of a user, deleting a password and identity links, and mail
// tokens.
func testMailProof(t *testing.T, newStore StoreHarness) {
	t.Run("VerifiedAt", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 1)
		plain := f.users[0]
		assert.True(t, plain.VerifiedAt.IsZero(), "a user created without VerifiedAt is unverified")
		assert.True(t, getUser(t, s, plain.ID).VerifiedAt.IsZero())

		at := time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.UTC)
		var vouched ports.User
		require.NoError(t, global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			var err error
			vouched, err = tx.Users().Create(ctx, ports.User{ID: ports.NewUserID(), Email: "vouched@example.com", VerifiedAt: at})
			return err
		}))
		assert.Equal(t, ports.Timestamp(at), vouched.VerifiedAt)
		got := getUser(t, s, vouched.ID)
		assert.Equal(t, ports.Timestamp(at), got.VerifiedAt, "Create stores VerifiedAt as given")
		var byMail ports.User
		require.NoError(t, global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			var err error
			byMail, err = tx.Users().GetByEmail(ctx, "Vouched@Example.com")
			return err
		}))
		assert.Equal(t, got, byMail)

		first, err := markVerified(s, plain.ID, at)
		require.NoError(t, err)
		assert.True(t, first, "the first MarkVerified sets it")
		assert.Equal(t, ports.Timestamp(at), getUser(t, s, plain.ID).VerifiedAt)
		first, err = markVerified(s, plain.ID, at.Add(time.Hour))
		require.NoError(t, err)
		assert.False(t, first, "a second MarkVerified changes nothing")
		assert.Equal(t, ports.Timestamp(at), getUser(t, s, plain.ID).VerifiedAt, "the first proof's time stays")

		_, err = markVerified(s, ports.NewUserID(), at)
		require.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("MarkVerifiedConcurrentlyIsFirstOnce", func(t *testing.T) {
		s := newStore(t)
		user := seed(t, s, 0, 1).users[0].ID
		const racers = 8
		start := make(chan struct{})
		firsts := make([]bool, racers)
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				<-start
				firsts[i], errs[i] = markVerified(s, user, time.Now())
			})
		}
		close(start)
		wg.Wait()
		n := 0
		for i := range racers {
			if errs[i] == nil && firsts[i] {
				n++
			}
			if errs[i] != nil {
				// A store may answer a lost race with a retryable conflict; it must not claim a first proof.
				require.ErrorIs(t, errs[i], ports.ErrConflict)
			}
		}
		assert.Equal(t, 1, n, "exactly one concurrent MarkVerified is the first proof: %v %v", firsts, errs)
	})

	t.Run("ShopsOfAUser", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 3, 2)
		alice, bob := f.users[0].ID, f.users[1].ID
		join(t, s, f.shops[0].ID, ports.RoleOwner, alice)
		join(t, s, f.shops[2].ID, ports.RoleViewer, alice, bob)
		var got []ports.ShopID
		require.NoError(t, global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			var err error
			got, err = tx.Users().Shops(ctx, alice)
			return err
		}))
		assert.ElementsMatch(t, []ports.ShopID{f.shops[0].ID, f.shops[2].ID}, got)
		require.NoError(t, global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			var err error
			got, err = tx.Users().Shops(ctx, ports.NewUserID())
			return err
		}))
		assert.Empty(t, got, "an unknown user has no shops")
	})

	t.Run("DeletePasswordAndIdentities", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 2)
		alice, bob := f.users[0].ID, f.users[1].ID
		require.NoError(t, setPassword(s, alice, pendingHash))
		require.NoError(t, setPassword(s, bob, pendingHash))
		var n int
		require.NoError(t, global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			for i, u := range []ports.UserID{alice, alice, bob} {
				if _, err := tx.Identities().Link(ctx, ports.Identity{Issuer: "https://idp.example", Subject: "s" + string(rune('a'+i)), UserID: u}); err != nil {
					return err
				}
			}
			if err := tx.Passwords().Delete(ctx, alice); err != nil {
				return err
			}
			if err := tx.Passwords().Delete(ctx, alice); err != nil {
				return err // deleting none is not an error
			}
			var err error
			n, err = tx.Identities().DeleteByUser(ctx, alice)
			return err
		}))
		assert.Equal(t, 2, n)
		_, err := passwordOf(s, alice)
		require.ErrorIs(t, err, ports.ErrNotFound, "alice's password is gone")
		got, err := passwordOf(s, bob)
		require.NoError(t, err)
		assert.Equal(t, pendingHash, got, "bob's is untouched")
		require.NoError(t, global(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
			a, err := tx.Identities().ListByUser(ctx, alice)
			assert.Empty(t, a)
			b, err2 := tx.Identities().ListByUser(ctx, bob)
			assert.Len(t, b, 1, "bob's link is untouched")
			return errors.Join(err, err2)
		}))
	})

	t.Run("MailTokens", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 0, 1)
		user := f.users[0]
		now := time.Now()
		verify := createMailToken(t, s, ports.MailToken{TokenHash: tokenHash(), Purpose: ports.MailTokenVerify, Email: "New@Example.com",
			Name: "New", PasswordHash: pendingHash, ExpiresAt: now.Add(time.Hour)})
		assert.Equal(t, "new@example.com", verify.Email, "the address is normalised")
		assert.False(t, verify.CreatedAt.IsZero())
		sibling := createMailToken(t, s, ports.MailToken{TokenHash: tokenHash(), Purpose: ports.MailTokenVerify, Email: "new@example.com",
			PasswordHash: pendingHash, ExpiresAt: now.Add(time.Hour)})
		otherMail := createMailToken(t, s, ports.MailToken{TokenHash: tokenHash(), Purpose: ports.MailTokenVerify, Email: "other@example.com",
			PasswordHash: pendingHash, ExpiresAt: now.Add(time.Hour)})
		reset := createMailToken(t, s, ports.MailToken{TokenHash: tokenHash(), Purpose: ports.MailTokenReset, Email: "new@example.com",
			UserID: user.ID, ExpiresAt: now.Add(time.Hour)})

		_, err := consumeMailToken(s, verify.TokenHash, ports.MailTokenReset, now)
		require.ErrorIs(t, err, ports.ErrNotFound, "a verify token is no reset token")
		got, err := consumeMailToken(s, verify.TokenHash, ports.MailTokenVerify, now)
		require.NoError(t, err)
		assert.Equal(t, verify, got, "Consume returns the stored token, pending hash and name included")
		_, err = consumeMailToken(s, verify.TokenHash, ports.MailTokenVerify, now)
		require.ErrorIs(t, err, ports.ErrNotFound, "single use")
		_, err = consumeMailToken(s, sibling.TokenHash, ports.MailTokenVerify, now)
		require.ErrorIs(t, err, ports.ErrNotFound, "one proof spends every sign-up link mailed to the address")
		got, err = consumeMailToken(s, otherMail.TokenHash, ports.MailTokenVerify, now)
		require.NoError(t, err, "another address's link stays")
		assert.Equal(t, otherMail.Email, got.Email)
		got, err = consumeMailToken(s, reset.TokenHash, ports.MailTokenReset, now)
		require.NoError(t, err, "a reset link to the address stays")
		assert.Equal(t, user.ID, got.UserID)
		assert.Empty(t, got.PasswordHash)
	})

	t.Run("MailTokensExpire", func(t *testing.T) {
		s := newStore(t)
		now := time.Now()
		live := createMailToken(t, s, ports.MailToken{TokenHash: tokenHash(), Purpose: ports.MailTokenVerify, Email: "a@example.com", PasswordHash: pendingHash, ExpiresAt: now.Add(time.Minute)})
		dead := createMailToken(t, s, ports.MailToken{TokenHash: tokenHash(), Purpose: ports.MailTokenVerify, Email: "b@example.com", PasswordHash: pendingHash, ExpiresAt: now})
		_, err := consumeMailToken(s, dead.TokenHash, ports.MailTokenVerify, now)
		require.ErrorIs(t, err, ports.ErrNotFound, "a token that expires at now is spent")
		n, err := mailToken(s, func(ctx context.Context, r ports.MailTokenRepo) (int, error) { return r.DeleteExpired(ctx, now) })
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		_, err = consumeMailToken(s, dead.TokenHash, ports.MailTokenVerify, now.Add(-time.Hour))
		require.ErrorIs(t, err, ports.ErrNotFound, "DeleteExpired removed it")
		_, err = consumeMailToken(s, live.TokenHash, ports.MailTokenVerify, now)
		require.NoError(t, err)
	})

	t.Run("MailTokenConsumedOnceConcurrently", func(t *testing.T) {
		s := newStore(t)
		tok := createMailToken(t, s, ports.MailToken{TokenHash: tokenHash(), Purpose: ports.MailTokenVerify, Email: "race@example.com", PasswordHash: pendingHash, ExpiresAt: time.Now().Add(time.Hour)})
		const racers = 8
		start := make(chan struct{})
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() {
				<-start
				_, errs[i] = consumeMailToken(s, tok.TokenHash, ports.MailTokenVerify, time.Now())
			})
		}
		close(start)
		wg.Wait()
		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
			} else {
				require.ErrorIs(t, err, ports.ErrNotFound)
			}
		}
		assert.Equal(t, 1, wins, "%v", errs)
	})

	t.Run("MailTokensRefuseBadInput", func(t *testing.T) {
		s := newStore(t)
		user := seed(t, s, 0, 1).users[0].ID
		exp := time.Now().Add(time.Hour)
		ok := ports.MailToken{TokenHash: tokenHash(), Purpose: ports.MailTokenVerify, Email: "ok@example.com", PasswordHash: pendingHash, ExpiresAt: exp}
		tests := []struct {
			name string
			edit func(m *ports.MailToken)
			want error
		}{
			{"short hash", func(m *ports.MailToken) { m.TokenHash = m.TokenHash[:31] }, ports.ErrInvalid},
			{"unknown purpose", func(m *ports.MailToken) { m.Purpose = "login" }, ports.ErrInvalid},
			{"bad e-mail", func(m *ports.MailToken) { m.Email = "nobody" }, ports.ErrInvalid},
			{"no expiry", func(m *ports.MailToken) { m.ExpiresAt = time.Time{} }, ports.ErrInvalid},
			{"sign-up without a password", func(m *ports.MailToken) { m.PasswordHash = "" }, ports.ErrInvalid},
			{"long hash", func(m *ports.MailToken) { m.PasswordHash = strings.Repeat("h", 1025) }, ports.ErrInvalid},
			{"reset without a user", func(m *ports.MailToken) { m.Purpose, m.PasswordHash = ports.MailTokenReset, "" }, ports.ErrInvalid},
			{"reset with a password", func(m *ports.MailToken) { m.Purpose, m.UserID = ports.MailTokenReset, user }, ports.ErrInvalid},
			{"reset for an unknown user", func(m *ports.MailToken) {
				m.Purpose, m.UserID, m.PasswordHash = ports.MailTokenReset, ports.NewUserID(), ""
			}, ports.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				m := ok
				m.TokenHash = slices.Clone(ok.TokenHash)
				tt.edit(&m)
				var err error
				if errors.Is(tt.want, ports.ErrInvalid) {
					err = refusedGlobal(t, s, func(ctx context.Context, tx ports.GlobalTx) error {
						_, err := tx.MailTokens().Create(ctx, m)
						return err
					})
				} else {
					_, err = mailToken(s, func(ctx context.Context, r ports.MailTokenRepo) (ports.MailToken, error) { return r.Create(ctx, m) })
				}
				require.ErrorIs(t, err, tt.want)
			})
		}
		_, err := consumeMailToken(s, ok.TokenHash, ports.MailTokenVerify, time.Now())
		require.ErrorIs(t, err, ports.ErrNotFound, "nothing was written")
		createMailToken(t, s, ok)
		_, err = mailToken(s, func(ctx context.Context, r ports.MailTokenRepo) (ports.MailToken, error) { return r.Create(ctx, ok) })
		require.ErrorIs(t, err, ports.ErrConflict, "a taken hash")
		_, err = consumeMailToken(s, []byte("short"), ports.MailTokenVerify, time.Now())
		require.ErrorIs(t, err, ports.ErrNotFound)
	})
}
