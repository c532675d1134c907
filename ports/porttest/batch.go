package porttest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// testCompleteAll: JobRepo.CompleteAll marks done exactly the jobs of the
// unit of work's shop that are running the attempt named for them, in one
// call, and reports which; a stale attempt, a queued job and another
// shop's job are left as they are. A batch over the limit or naming a job
// twice is refused and changes nothing.
func testCompleteAll(t *testing.T, newQueue JobQueueHarness) {
	s, q := newQueue(t)
	shops := seed(t, s, 2, 0).shops
	a, b := shops[0].ID, shops[1].ID
	base := time.Now().Add(time.Hour).UTC()
	j1 := enqueue(t, s, a, newJob("batch"))
	j2 := enqueue(t, s, a, newJob("batch"))
	stale := enqueue(t, s, a, newJob("batch"))
	theirs := enqueue(t, s, b, newJob("batch"))
	require.Len(t, claim(t, q, base, 10, time.Minute), 4)
	queued := enqueue(t, s, a, newJob("batch"))

	completeAll := func(shop ports.ShopID, attempts []ports.JobAttempt) ([]ports.JobID, error) {
		var out []ports.JobID
		err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			var err error
			out, err = tx.Jobs().CompleteAll(ctx, attempts)
			return err
		})
		return out, err
	}

	t.Run("Refused", func(t *testing.T) {
		_, err := completeAll(a, []ports.JobAttempt{jobAttempt(j1.ID, 1), jobAttempt(j2.ID, 1), jobAttempt(j1.ID, 1)})
		require.ErrorIs(t, err, ports.ErrInvalid, "a job named twice")
		over := make([]ports.JobAttempt, ports.MaxBatch+1)
		for i := range over {
			over[i] = ports.JobAttempt{ID: ports.NewJobID(), Attempt: 1}
		}
		_, err = completeAll(a, over)
		require.ErrorIs(t, err, ports.ErrInvalid, "more than MaxBatch")
		done, err := completeAll(a, nil)
		require.NoError(t, err)
		assert.Empty(t, done, "none is nothing to do")
		assert.Equal(t, ports.JobRunning, mustGetJob(t, s, a, j1.ID).State, "refused calls changed nothing")
	})

	t.Run("CompletesOnlyCurrentAttemptsOfTheShop", func(t *testing.T) {
		done, err := completeAll(a, []ports.JobAttempt{jobAttempt(j1.ID, 1), jobAttempt(stale.ID, 2), jobAttempt(theirs.ID, 1), jobAttempt(queued.ID, 0), jobAttempt(j2.ID, 1)})
		require.NoError(t, err)
		assert.ElementsMatch(t, []ports.JobID{j1.ID, j2.ID}, done)
		for _, id := range []ports.JobID{j1.ID, j2.ID} {
			got := mustGetJob(t, s, a, id)
			assert.Equal(t, ports.JobDone, got.State)
			assert.True(t, got.LockedUntil.IsZero())
			assert.Equal(t, 1, got.Attempts)
		}
		assert.Equal(t, ports.JobRunning, mustGetJob(t, s, a, stale.ID).State, "another attempt is not completed")
		assert.Equal(t, ports.JobQueued, mustGetJob(t, s, a, queued.ID).State, "a queued job is not completed")
		assert.Equal(t, ports.JobRunning, mustGetJob(t, s, b, theirs.ID).State, "another shop's job is not completed")
		require.ErrorIs(t, completeJob(s, a, j1.ID, 1), ports.ErrNotFound, "done: its attempt cannot complete again")

		again, err := completeAll(a, []ports.JobAttempt{jobAttempt(j1.ID, 1), jobAttempt(stale.ID, 1)})
		require.NoError(t, err)
		assert.Equal(t, []ports.JobID{stale.ID}, again, "completing twice completes nothing")
	})
}

// testOutboxBatch: OutboxRepo.DispatchAll and MarkAllSent record exactly
// the attempts of the unit of work's shop that are sending, each with its
// own provider ID, in one call, and report which; a stale attempt, a
// queued message and another shop's message are left as they are. A batch
// over the limit or naming a message twice is refused and changes nothing.
func testOutboxBatch(t *testing.T, newQueue OutboxQueueHarness) {
	s, q := newQueue(t)
	shops := seed(t, s, 2, 0).shops
	a, b := shops[0].ID, shops[1].ID
	ca := createContact(t, s, a, newContact("+15551230001", "a@example.com"))
	cb := createContact(t, s, b, newContact("+15551230002", "b@example.com"))
	base := time.Now().Add(time.Hour).UTC()
	m1 := enqueueMessage(t, s, a, newSMSMessage(ca))
	m2 := enqueueMessage(t, s, a, newEmailMessage(ca))
	stale := enqueueMessage(t, s, a, newEmailMessage(ca))
	theirs := enqueueMessage(t, s, b, newSMSMessage(cb))
	require.Len(t, claimMessages(t, q, base, 10, time.Minute), 4)
	queued := enqueueMessage(t, s, a, newEmailMessage(ca))

	dispatchAll := func(shop ports.ShopID, attempts []ports.MessageAttempt) ([]ports.MessageID, error) {
		return outboxOp(s, shop, func(ctx context.Context, r ports.OutboxRepo) ([]ports.MessageID, error) {
			return r.DispatchAll(ctx, attempts)
		})
	}
	markAllSent := func(shop ports.ShopID, sent []ports.SentAttempt) ([]ports.MessageID, error) {
		return outboxOp(s, shop, func(ctx context.Context, r ports.OutboxRepo) ([]ports.MessageID, error) {
			return r.MarkAllSent(ctx, sent)
		})
	}

	t.Run("Refused", func(t *testing.T) {
		_, err := dispatchAll(a, []ports.MessageAttempt{messageAttempt(m1.ID, 1), messageAttempt(m1.ID, 1)})
		require.ErrorIs(t, err, ports.ErrInvalid, "dispatch: a message named twice")
		_, err = markAllSent(a, []ports.SentAttempt{sentAttempt(m1.ID, 1, "SM1"), sentAttempt(m1.ID, 1, "SM2")})
		require.ErrorIs(t, err, ports.ErrInvalid, "mark: a message named twice")
		overD, overM := make([]ports.MessageAttempt, ports.MaxBatch+1), make([]ports.SentAttempt, ports.MaxBatch+1)
		for i := range overD {
			overD[i] = ports.MessageAttempt{ID: ports.NewMessageID(), Attempt: 1}
			overM[i] = ports.SentAttempt{ID: overD[i].ID, Attempt: 1}
		}
		_, err = dispatchAll(a, overD)
		require.ErrorIs(t, err, ports.ErrInvalid, "dispatch: more than MaxBatch")
		_, err = markAllSent(a, overM)
		require.ErrorIs(t, err, ports.ErrInvalid, "mark: more than MaxBatch")
		none, err := dispatchAll(a, nil)
		require.NoError(t, err)
		assert.Empty(t, none)
		none, err = markAllSent(a, nil)
		require.NoError(t, err)
		assert.Empty(t, none)
		got := getMessage(t, s, a, m1.ID)
		assert.Equal(t, ports.MessageSending, got.State, "refused calls changed nothing")
		assert.Zero(t, got.Dispatched)
	})

	t.Run("DispatchesOnlyCurrentAttemptsOfTheShop", func(t *testing.T) {
		got, err := dispatchAll(a, []ports.MessageAttempt{messageAttempt(m1.ID, 1), messageAttempt(stale.ID, 2), messageAttempt(theirs.ID, 1), messageAttempt(queued.ID, 0), messageAttempt(m2.ID, 1)})
		require.NoError(t, err)
		assert.ElementsMatch(t, []ports.MessageID{m1.ID, m2.ID}, got)
		for _, id := range []ports.MessageID{m1.ID, m2.ID} {
			m := getMessage(t, s, a, id)
			assert.Equal(t, 1, m.Dispatched, "dispatched as Dispatch records it")
			assert.Equal(t, ports.MessageSending, m.State)
		}
		assert.Zero(t, getMessage(t, s, a, stale.ID).Dispatched, "another attempt is not dispatched")
		assert.Zero(t, getMessage(t, s, a, queued.ID).Dispatched)
		assert.Zero(t, getMessage(t, s, b, theirs.ID).Dispatched, "another shop's message is not dispatched")
	})

	t.Run("MarksOnlyCurrentAttemptsOfTheShop", func(t *testing.T) {
		got, err := markAllSent(a, []ports.SentAttempt{sentAttempt(m1.ID, 1, "SM0001"), sentAttempt(stale.ID, 2, "x"), sentAttempt(theirs.ID, 1, "y"), sentAttempt(queued.ID, 0, "z"), sentAttempt(m2.ID, 1, "")})
		require.NoError(t, err)
		assert.ElementsMatch(t, []ports.MessageID{m1.ID, m2.ID}, got)
		sent1, sent2 := getMessage(t, s, a, m1.ID), getMessage(t, s, a, m2.ID)
		for _, m := range []ports.OutboxMessage{sent1, sent2} {
			assert.Equal(t, ports.MessageSent, m.State)
			assert.False(t, m.SentAt.IsZero())
			assert.True(t, m.LockedUntil.IsZero())
			assert.Empty(t, m.LastError)
			assert.Equal(t, 1, m.Dispatched)
		}
		assert.Equal(t, "SM0001", sent1.ProviderID, "each message its own provider ID")
		assert.Empty(t, sent2.ProviderID, "no provider ID: none stored")
		byProvider, err := outboxOp(s, a, func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
			return r.ByProviderID(ctx, ports.ChannelSMS, "SM0001")
		})
		require.NoError(t, err)
		assert.Equal(t, sent1, byProvider)
		assert.Equal(t, ports.MessageSending, getMessage(t, s, a, stale.ID).State, "another attempt is not marked")
		assert.Equal(t, ports.MessageQueued, getMessage(t, s, a, queued.ID).State)
		assert.Equal(t, ports.MessageSending, getMessage(t, s, b, theirs.ID).State, "another shop's message is not marked")
		_, err = outboxOp(s, a, func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
			return r.MarkSent(ctx, m1.ID, 1, "SM0002")
		})
		require.ErrorIs(t, err, ports.ErrNotFound, "sent: its attempt cannot be marked again")
		again, err := markAllSent(a, []ports.SentAttempt{sentAttempt(m1.ID, 1, "SM0003")})
		require.NoError(t, err)
		assert.Empty(t, again, "marking twice marks nothing")
		assert.Equal(t, "SM0001", getMessage(t, s, a, m1.ID).ProviderID)
	})
}

// testConsentOf: ConsentRepo.ConsentOf reads several contacts' records
// at once, each as Consent reads it; an unknown contact, or another
// shop's, is missing from the result.
func testConsentOf(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	shops := seed(t, s, 2, 0).shops
	a, b := shops[0].ID, shops[1].ID
	ann := createContact(t, s, a, newContact("+15551230001", "ann@example.com"))
	bo := createContact(t, s, a, newContact("+15551230002", "bo@example.com"))
	theirs := createContact(t, s, b, newContact("+15551230003", "cy@example.com"))
	_, sms := setConsent(t, s, a, ports.Consent{Contact: ann.ID, Topic: ports.TopicSMS, OptedOut: true, Source: ports.SourceKeyword})
	_, mkt := setConsent(t, s, a, ports.Consent{Contact: ann.ID, Topic: ports.TopicMarketing, OptedOut: false, Source: ports.SourceAdmin})
	setConsent(t, s, b, ports.Consent{Contact: theirs.ID, Topic: ports.TopicSMS, OptedOut: true, Source: ports.SourceKeyword})

	consentOfAll := func(ids []ports.ContactID) (map[ports.ContactID][]ports.Consent, error) {
		return consentOp(s, a, func(ctx context.Context, r ports.ConsentRepo) (map[ports.ContactID][]ports.Consent, error) {
			return r.ConsentOf(ctx, ids)
		})
	}
	got, err := consentOfAll([]ports.ContactID{ann.ID, bo.ID, theirs.ID, ports.NewContactID(), ann.ID})
	require.NoError(t, err)
	assert.Equal(t, map[ports.ContactID][]ports.Consent{ann.ID: {mkt, sms}, bo.ID: {}}, got,
		"known contacts by ID, records by topic; unknown and other shops' contacts missing")
	assert.Equal(t, consentOf(t, s, a, ann.ID), got[ann.ID], "as Consent reads them")

	none, err := consentOfAll(nil)
	require.NoError(t, err)
	assert.Empty(t, none)
	over := make([]ports.ContactID, ports.MaxBatch+1)
	for i := range over {
		over[i] = ports.NewContactID()
	}
	_, err = consentOfAll(over)
	require.ErrorIs(t, err, ports.ErrInvalid, "more than MaxBatch")
}

func jobAttempt(id ports.JobID, n int) ports.JobAttempt { return ports.JobAttempt{ID: id, Attempt: n} }

func messageAttempt(id ports.MessageID, n int) ports.MessageAttempt {
	return ports.MessageAttempt{ID: id, Attempt: n}
}

func sentAttempt(id ports.MessageID, n int, providerID string) ports.SentAttempt {
	return ports.SentAttempt{ID: id, Attempt: n, ProviderID: providerID}
}
