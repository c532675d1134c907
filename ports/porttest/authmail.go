package porttest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// testAuthMail checks the auth mail outbox: enqueue in a shop's and in a
// global unit of work (the shop comes from the unit of work, a rollback
// leaves nothing, malformed mail is refused before anything is written)
// and, when the store implements ports.AuthMailOutbox, the worker's side:
// claims across shops, leases, fenced outcomes, bodies wiped when a mail
// ends, and the clean-up of ended mail.
func testAuthMail(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 2, 0)
	a, b := f.shops[0].ID, f.shops[1].ID
	ctx := context.Background()

	inA := newAuthMail(ports.AuthMailMagicLink, "ada@example.com")
	inShop(t, s, a, func(ctx context.Context, tx ports.ShopTx) error {
		got, err := tx.AuthMail().Enqueue(ctx, inA)
		require.NoError(t, err)
		assert.Equal(t, a, got.ShopID, "the shop is the unit of work's")
		assert.Equal(t, ports.AuthMailQueued, got.State)
		assert.Equal(t, ports.DefaultMaxAttempts, got.MaxAttempts)
		assert.Equal(t, inA.Sealed, got.Sealed)
		assert.False(t, got.RunAt.IsZero())
		return nil
	})
	inB := newAuthMail(ports.AuthMailInvitation, "bob@example.com")
	inShop(t, s, b, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.AuthMail().Enqueue(ctx, inB)
		return err
	})
	global := newAuthMail(ports.AuthMailVerify, "cy@example.com")
	require.NoError(t, s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		got, err := tx.AuthMail().Enqueue(ctx, global)
		if err == nil {
			assert.True(t, got.ShopID.IsZero(), "global mail has no shop")
		}
		return err
	}))

	t.Run("RolledBackSendsNothing", func(t *testing.T) {
		boom := errors.New("boom")
		err := s.InShop(ctx, a, func(ctx context.Context, tx ports.ShopTx) error {
			if _, err := tx.AuthMail().Enqueue(ctx, newAuthMail(ports.AuthMailMagicLink, "ghost@example.com")); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom)
		err = s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
			if _, err := tx.AuthMail().Enqueue(ctx, newAuthMail(ports.AuthMailReset, "ghost@example.com")); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom)
	})

	t.Run("RefusesMalformedMail", func(t *testing.T) {
		bad := []func(m *ports.AuthMail){
			func(m *ports.AuthMail) { m.ID = ports.AuthMailID{} },
			func(m *ports.AuthMail) { m.Kind = "spam" },
			func(m *ports.AuthMail) { m.To = "not an address" },
			func(m *ports.AuthMail) { m.Subject = "hi\r\nBcc: eve@example.com" },
			func(m *ports.AuthMail) { m.Subject = "" },
			func(m *ports.AuthMail) { m.Sealed = nil },
			func(m *ports.AuthMail) { m.Sealed = make([]byte, ports.MaxAuthMailSealed+1) },
			func(m *ports.AuthMail) { m.MaxAttempts = -1 },
		}
		for i, mutate := range bad {
			m := newAuthMail(ports.AuthMailMagicLink, "ghost@example.com")
			mutate(&m)
			err := refusedInShop(t, s, a, func(ctx context.Context, tx ports.ShopTx) error {
				_, err := tx.AuthMail().Enqueue(ctx, m)
				return err
			})
			assert.ErrorIs(t, err, ports.ErrInvalid, "case %d", i)
		}
		err := s.InShop(ctx, a, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.AuthMail().Enqueue(ctx, inA)
			return err
		})
		assert.ErrorIs(t, err, ports.ErrConflict, "a taken ID")
	})

	q, ok := s.(ports.AuthMailOutbox)
	if !ok {
		return
	}
	now := time.Now()

	t.Run("ClaimsEveryShopsAndGlobalMailOnce", func(t *testing.T) {
		_, err := q.ClaimAuthMail(ctx, now, 0, time.Minute)
		assert.ErrorIs(t, err, ports.ErrInvalid)
		_, err = q.ClaimAuthMail(ctx, now, 1, 0)
		assert.ErrorIs(t, err, ports.ErrInvalid)
		_, err = q.ClaimAuthMail(ctx, now, 1, 25*time.Hour)
		assert.ErrorIs(t, err, ports.ErrInvalid)

		got, err := q.ClaimAuthMail(ctx, now.Add(time.Second), 10, time.Minute)
		require.NoError(t, err)
		require.Len(t, got, 3, "nothing of the rolled-back or refused units of work")
		byID := map[ports.AuthMailID]ports.AuthMail{}
		for _, m := range got {
			byID[m.ID] = m
			assert.Equal(t, ports.AuthMailSending, m.State)
			assert.Equal(t, 1, m.Attempts)
			assert.False(t, m.LockedUntil.IsZero())
		}
		assert.Equal(t, a, byID[inA.ID].ShopID)
		assert.Equal(t, b, byID[inB.ID].ShopID)
		assert.True(t, byID[global.ID].ShopID.IsZero())
		assert.Equal(t, inA.Sealed, byID[inA.ID].Sealed)
		assert.Equal(t, "ada@example.com", byID[inA.ID].To)
		assert.Equal(t, inA.Subject, byID[inA.ID].Subject)
		assert.Equal(t, ports.AuthMailMagicLink, byID[inA.ID].Kind)

		again, err := q.ClaimAuthMail(ctx, now.Add(time.Second), 10, time.Minute)
		require.NoError(t, err)
		assert.Empty(t, again, "a leased mail is not handed out twice")

		// Outcomes are fenced by the attempt number.
		stale := byID[inA.ID]
		stale.Attempts = 2
		_, err = q.MarkAuthMailSent(ctx, stale, "p-1")
		assert.ErrorIs(t, err, ports.ErrNotFound)
		wrongShop := byID[inA.ID]
		wrongShop.ShopID = b
		_, err = q.MarkAuthMailSent(ctx, wrongShop, "p-1")
		assert.ErrorIs(t, err, ports.ErrNotFound, "the mail is not the named shop's")
		_, err = q.FailAuthMail(ctx, wrongShop, "forged", time.Time{}, true)
		assert.ErrorIs(t, err, ports.ErrNotFound, "a failure named with another shop reaches nothing")
		globalAsA := byID[global.ID]
		globalAsA.ShopID = a
		_, err = q.FailAuthMail(ctx, globalAsA, "forged", time.Time{}, true)
		assert.ErrorIs(t, err, ports.ErrNotFound, "shop-less mail is not shop A's")
		_, err = q.MarkAuthMailSent(ctx, globalAsA, "forged")
		assert.ErrorIs(t, err, ports.ErrNotFound, "shop-less mail is not shop A's")

		sent, err := q.MarkAuthMailSent(ctx, byID[inA.ID], "p-1")
		require.NoError(t, err)
		assert.Equal(t, ports.AuthMailSent, sent.State)
		assert.Equal(t, "p-1", sent.ProviderID)
		assert.Nil(t, sent.Sealed, "the body is wiped when the mail ends")
		_, err = q.MarkAuthMailSent(ctx, byID[inA.ID], "p-1")
		assert.ErrorIs(t, err, ports.ErrNotFound, "sent once")

		retryAt := now.Add(time.Hour)
		failed, err := q.FailAuthMail(ctx, byID[global.ID], "smtp: 451 try later", retryAt, false)
		require.NoError(t, err)
		assert.Equal(t, ports.AuthMailQueued, failed.State)
		assert.Equal(t, "smtp: 451 try later", failed.LastError)
		assert.Equal(t, global.Sealed, failed.Sealed, "kept for the retry")
		// A worker that died: its lease runs out and the mail is claimed
		// again (at least once).
		reclaimed, err := q.ClaimAuthMail(ctx, now.Add(2*time.Minute), 10, time.Minute)
		require.NoError(t, err)
		require.Len(t, reclaimed, 1, "the failed mail waits for its retry time")
		assert.Equal(t, inB.ID, reclaimed[0].ID)
		assert.Equal(t, 2, reclaimed[0].Attempts)
		_, err = q.MarkAuthMailSent(ctx, byID[inB.ID], "late")
		assert.ErrorIs(t, err, ports.ErrNotFound, "the first attempt's worker lost it")
		_, err = q.MarkAuthMailSent(ctx, reclaimed[0], "p-2")
		require.NoError(t, err)

		early, err := q.ClaimAuthMail(ctx, retryAt.Add(-time.Second), 10, time.Minute)
		require.NoError(t, err)
		assert.Empty(t, early, "not before its retry time")
		retry, err := q.ClaimAuthMail(ctx, retryAt, 10, time.Minute)
		require.NoError(t, err)
		require.Len(t, retry, 1)
		assert.Equal(t, global.ID, retry[0].ID)
		assert.Equal(t, 2, retry[0].Attempts)

		dead, err := q.FailAuthMail(ctx, retry[0], "refused for good", time.Time{}, true)
		require.NoError(t, err)
		assert.Equal(t, ports.AuthMailDead, dead.State)
		assert.Nil(t, dead.Sealed, "the body is wiped when the mail ends")
	})

	t.Run("LastLeaseExpiredIsDead", func(t *testing.T) {
		s := newStore(t)
		q := s.(ports.AuthMailOutbox)
		m := newAuthMail(ports.AuthMailReset, "dee@example.com")
		m.MaxAttempts = 1
		require.NoError(t, s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
			_, err := tx.AuthMail().Enqueue(ctx, m)
			return err
		}))
		at := now.Add(time.Hour)
		got, err := q.ClaimAuthMail(ctx, at, 10, time.Minute)
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, m.ID, got[0].ID)
		got, err = q.ClaimAuthMail(ctx, at.Add(2*time.Minute), 10, time.Minute)
		require.NoError(t, err)
		assert.Empty(t, got, "no attempts left")
		_, err = q.FailAuthMail(ctx, got0(t, m), "late", time.Time{}, false)
		assert.ErrorIs(t, err, ports.ErrNotFound, "it ended dead")
		n, err := q.DeleteEndedAuthMail(ctx, time.Now().Add(time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 1, n, "it ended")
	})

	t.Run("DeletesEndedMailOnly", func(t *testing.T) {
		queued := newAuthMail(ports.AuthMailMagicLink, "eve@example.com")
		queued.RunAt = now.Add(48 * time.Hour)
		inShop(t, s, b, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.AuthMail().Enqueue(ctx, queued)
			return err
		})
		n, err := q.DeleteEndedAuthMail(ctx, time.Now().Add(-time.Hour))
		require.NoError(t, err)
		assert.Zero(t, n, "nothing ended that long ago")
		n, err = q.DeleteEndedAuthMail(ctx, time.Now().Add(time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 3, n, "the sent mail of both shops and the dead shop-less mail")
		got, err := q.ClaimAuthMail(ctx, now.Add(49*time.Hour), 10, time.Minute)
		require.NoError(t, err)
		ids := map[ports.AuthMailID]bool{}
		for _, g := range got {
			ids[g.ID] = true
		}
		assert.Equal(t, map[ports.AuthMailID]bool{queued.ID: true}, ids, "queued mail is kept")
	})
}

// got0 is m as its first (and only) attempt.
func got0(t *testing.T, m ports.AuthMail) ports.AuthMail {
	t.Helper()
	m.Attempts = 1
	return m
}

// newAuthMail returns a valid mail; its sealed body is opaque bytes.
func newAuthMail(kind ports.AuthMailKind, to string) ports.AuthMail {
	return ports.AuthMail{ID: ports.NewAuthMailID(), Kind: kind, To: to, Subject: "Your link", Sealed: tokenHash()}
}
