package porttest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// OutboxQueueHarness returns a fresh, migrated, empty store and the outbox
// queue over the same data (often the store itself). Like StoreHarness it
// registers its own cleanup.
type OutboxQueueHarness func(t *testing.T) (ports.Store, ports.OutboxQueue)

// TestOutboxQueue runs the ports.OutboxQueue conformance suite: the
// claim's order, limit and due-ness, leases and what becomes of a message
// whose last lease ran out, the attempt fencing (of one attempt, and of
// DispatchAll's and MarkAllSent's batches), and concurrent claimers.
// TestStore runs it too when the store itself implements ports.OutboxQueue.
func TestOutboxQueue(t *testing.T, newQueue OutboxQueueHarness) {
	t.Run("ClaimOrderLimitAndDueness", func(t *testing.T) { testOutboxClaimOrder(t, newQueue) })
	t.Run("LeaseExpiryAndLastAttempt", func(t *testing.T) { testOutboxClaimLease(t, newQueue) })
	t.Run("AttemptOutcomes", func(t *testing.T) { testOutboxOutcomes(t, newQueue) })
	t.Run("ConcurrentClaimsNeverShareAMessage", func(t *testing.T) { testOutboxConcurrentClaims(t, newQueue) })
	t.Run("Retention", func(t *testing.T) { testOutboxRetention(t, newQueue) })
	t.Run("BatchDispatchAndMark", func(t *testing.T) { testOutboxBatch(t, newQueue) })
}

// testOutboxRetention: DeleteFinished removes the shop's sent, delivered,
// failed and cancelled messages last updated before the given time, and
// only those; DeleteEventsBefore forgets old inbound event IDs.
func testOutboxRetention(t *testing.T, newQueue OutboxQueueHarness) {
	s, q := newQueue(t)
	f := seed(t, s, 2, 0)
	a, b := f.shops[0].ID, f.shops[1].ID
	ca := createContact(t, s, a, newContact("+15551230001", "a@example.com"))
	cb := createContact(t, s, b, newContact("+15551230002", "b@example.com"))
	sent := enqueueMessage(t, s, a, newSMSMessage(ca))
	dead := enqueueMessage(t, s, a, newSMSMessage(ca))
	otherShops := enqueueMessage(t, s, b, newSMSMessage(cb))
	require.Len(t, claimMessages(t, q, time.Now().Add(time.Hour), 10, time.Minute), 3)
	for _, m := range []struct {
		shop ports.ShopID
		id   ports.MessageID
	}{{a, sent.ID}, {b, otherShops.ID}} {
		_, err := outboxOp(s, m.shop, func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
			if err := r.Dispatch(ctx, m.id, 1); err != nil {
				return ports.OutboxMessage{}, err
			}
			return r.MarkSent(ctx, m.id, 1, "SM"+m.id.String()[:8])
		})
		require.NoError(t, err)
	}
	_, err := outboxOp(s, a, func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
		return r.Fail(ctx, dead.ID, 1, "refused for good", time.Time{}, true)
	})
	require.NoError(t, err)
	cancelled := enqueueMessage(t, s, a, newSMSMessage(ca))
	_, err = outboxOp(s, a, func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
		return r.Cancel(ctx, cancelled.ID, "opted out")
	})
	require.NoError(t, err)
	queued := enqueueMessage(t, s, a, newSMSMessage(ca))
	last := getMessage(t, s, a, cancelled.ID).UpdatedAt

	deleteFinished := func(before time.Time) int {
		t.Helper()
		n, err := outboxOp(s, a, func(ctx context.Context, r ports.OutboxRepo) (int, error) { return r.DeleteFinished(ctx, before) })
		require.NoError(t, err)
		return n
	}
	assert.Zero(t, deleteFinished(getMessage(t, s, a, sent.ID).UpdatedAt), "updated at, not before")
	assert.Equal(t, 2, deleteFinished(last.Add(time.Hour)), "the sent and the cancelled message")
	var left []ports.MessageID
	for _, m := range listMessages(t, s, a, ports.OutboxQuery{}) {
		left = append(left, m.ID)
	}
	assert.ElementsMatch(t, []ports.MessageID{dead.ID, queued.ID}, left, "dead and queued messages are kept")
	assert.Equal(t, ports.MessageSent, getMessage(t, s, b, otherShops.ID).State, "another shop's message is kept")
	assert.Zero(t, deleteFinished(last.Add(time.Hour)))

	record := func(id string) error {
		_, err := outboxOp(s, a, func(ctx context.Context, r ports.OutboxRepo) (struct{}, error) {
			return struct{}{}, r.RecordEvent(ctx, "twilio", id)
		})
		return err
	}
	require.NoError(t, record("SMold"))
	deleteEvents := func(shop ports.ShopID, before time.Time) int {
		t.Helper()
		n, err := outboxOp(s, shop, func(ctx context.Context, r ports.OutboxRepo) (int, error) { return r.DeleteEventsBefore(ctx, before) })
		require.NoError(t, err)
		return n
	}
	assert.Zero(t, deleteEvents(a, time.Now().Add(-time.Hour)), "recorded just now")
	assert.Zero(t, deleteEvents(b, time.Now().Add(time.Hour)), "another shop has none")
	require.ErrorIs(t, record("SMold"), ports.ErrConflict, "still remembered")
	assert.Equal(t, 1, deleteEvents(a, time.Now().Add(time.Hour)))
	require.NoError(t, record("SMold"), "forgotten")
}

func storeOutboxQueue(newStore StoreHarness) OutboxQueueHarness {
	return func(t *testing.T) (ports.Store, ports.OutboxQueue) {
		t.Helper()
		s := newStore(t)
		q, ok := s.(ports.OutboxQueue)
		if !ok {
			t.Skipf("%T does not implement ports.OutboxQueue; run porttest.TestOutboxQueue with the queue that goes with it", s)
		}
		return s, q
	}
}

func newSMSMessage(c ports.Contact) ports.OutboxMessage {
	id := ports.NewMessageID()
	return ports.OutboxMessage{ID: id, Contact: c.ID, Channel: ports.ChannelSMS, Category: ports.CategoryMarketing,
		SMS: ports.SMS{MessagingServiceSID: "MG1", To: c.Phone, Body: "Spring sale: 20% off. Reply STOP to opt out.",
			IdempotencyKey: id.String(), StatusCallback: "https://hooks.example.com/webhooks/twilio/status"}}
}

func newEmailMessage(c ports.Contact) ports.OutboxMessage {
	id := ports.NewMessageID()
	return ports.OutboxMessage{ID: id, Contact: c.ID, Channel: ports.ChannelEmail, Category: ports.CategoryTransactional,
		Email: ports.Email{From: "Acme <shop@acme.example>", To: c.Email, ReplyTo: "help@acme.example", Subject: "Your receipt",
			Text: "Thanks!", HTML: "<p>Thanks!</p>", IdempotencyKey: id.String(),
			Headers: map[string]string{"List-Unsubscribe": "<https://acme.example/u/t>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}}}
}

func enqueueMessage(t *testing.T, s ports.Store, shop ports.ShopID, m ports.OutboxMessage) ports.OutboxMessage {
	t.Helper()
	var out ports.OutboxMessage
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Outbox().Enqueue(ctx, m)
		return err
	})
	return out
}

func outboxOp[T any](s ports.Store, shop ports.ShopID, do func(ctx context.Context, r ports.OutboxRepo) (T, error)) (T, error) {
	var out T
	err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = do(ctx, tx.Outbox())
		return err
	})
	return out, err
}

func getMessage(t *testing.T, s ports.Store, shop ports.ShopID, id ports.MessageID) ports.OutboxMessage {
	t.Helper()
	m, err := outboxOp(s, shop, func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) { return r.Get(ctx, id) })
	require.NoError(t, err)
	return m
}

func listMessages(t *testing.T, s ports.Store, shop ports.ShopID, q ports.OutboxQuery) []ports.OutboxMessage {
	t.Helper()
	out, err := outboxOp(s, shop, func(ctx context.Context, r ports.OutboxRepo) ([]ports.OutboxMessage, error) { return r.List(ctx, q) })
	require.NoError(t, err)
	return out
}

func claimMessages(t *testing.T, q ports.OutboxQueue, now time.Time, limit int, lease time.Duration) []ports.OutboxMessage {
	t.Helper()
	ms, err := q.ClaimMessages(context.Background(), now, limit, lease)
	require.NoError(t, err)
	return ms
}

func messageIDs(ms []ports.OutboxMessage) []ports.MessageID {
	out := make([]ports.MessageID, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func testOutbox(t *testing.T, newStore StoreHarness) {
	t.Run("EnqueueGetList", func(t *testing.T) {
		s := newStore(t)
		shop := seed(t, s, 1, 0).shops[0].ID
		c := createContact(t, s, shop, newContact("+15551230001", "ann@example.com"))
		before := time.Now().Add(-time.Minute)
		in := newSMSMessage(c)
		in.State, in.Attempts, in.Dispatched, in.LastError, in.ProviderID = ports.MessageSent, 4, 4, "ignored", "SMignored"
		in.LockedUntil, in.SentAt = time.Now(), time.Now()
		sms := enqueueMessage(t, s, shop, in)
		after := time.Now().Add(time.Minute)
		assert.Equal(t, shop, sms.ShopID, "the store sets the shop from the unit of work")
		assert.Equal(t, ports.MessageQueued, sms.State)
		assert.Zero(t, sms.Attempts)
		assert.Zero(t, sms.Dispatched)
		assert.Equal(t, ports.DefaultMaxAttempts, sms.MaxAttempts)
		assert.True(t, sms.RunAt.After(before) && sms.RunAt.Before(after), "a zero RunAt is the store's now")
		assert.True(t, sms.LockedUntil.IsZero() && sms.SentAt.IsZero())
		assert.Empty(t, sms.LastError)
		assert.Empty(t, sms.ProviderID)
		assert.Equal(t, in.SMS, sms.SMS, "the content round-trips")
		assert.Equal(t, ports.Email{}, sms.Email)
		assert.Equal(t, c.Phone, sms.To())
		assert.Equal(t, sms, getMessage(t, s, shop, sms.ID), "Enqueue returns the message as stored")

		at := time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.FixedZone("X", 3600))
		em := newEmailMessage(c)
		em.RunAt, em.MaxAttempts, em.HeldFor = at, 3, "quiet hours"
		mail := enqueueMessage(t, s, shop, em)
		assert.Equal(t, ports.Timestamp(at), mail.RunAt)
		assert.Equal(t, 3, mail.MaxAttempts)
		assert.Equal(t, "quiet hours", mail.HeldFor)
		assert.Equal(t, em.Email, mail.Email, "headers and bodies round-trip")
		assert.Equal(t, ports.SMS{}, mail.SMS)
		assert.Equal(t, mail, getMessage(t, s, shop, mail.ID))

		other := createContact(t, s, shop, newContact("+15551230002", ""))
		third := enqueueMessage(t, s, shop, newSMSMessage(other))
		assert.Equal(t, []ports.MessageID{sms.ID, mail.ID, third.ID}, messageIDs(listMessages(t, s, shop, ports.OutboxQuery{})), "oldest first")
		assert.Equal(t, []ports.MessageID{third.ID}, messageIDs(listMessages(t, s, shop, ports.OutboxQuery{Contact: other.ID})), "by contact")
		assert.Equal(t, []ports.MessageID{sms.ID}, messageIDs(listMessages(t, s, shop, ports.OutboxQuery{State: ports.MessageQueued, Limit: 1})))
		assert.Empty(t, listMessages(t, s, shop, ports.OutboxQuery{State: ports.MessageSent}))

		tests := []struct {
			name string
			do   func(ctx context.Context, r ports.OutboxRepo) error
			want error
		}{
			{"get unknown", func(ctx context.Context, r ports.OutboxRepo) error {
				_, err := r.Get(ctx, ports.NewMessageID())
				return err
			}, ports.ErrNotFound},
			{"list bad state", func(ctx context.Context, r ports.OutboxRepo) error {
				_, err := r.List(ctx, ports.OutboxQuery{State: "lost"})
				return err
			}, ports.ErrInvalid},
			{"dispatch queued", func(ctx context.Context, r ports.OutboxRepo) error { return r.Dispatch(ctx, sms.ID, 0) }, ports.ErrNotFound},
			{"mark queued sent", func(ctx context.Context, r ports.OutboxRepo) error {
				_, err := r.MarkSent(ctx, sms.ID, 0, "SM1")
				return err
			}, ports.ErrNotFound},
			{"fail queued", func(ctx context.Context, r ports.OutboxRepo) error {
				_, err := r.Fail(ctx, sms.ID, 0, "x", time.Time{}, false)
				return err
			}, ports.ErrNotFound},
			{"settle queued", func(ctx context.Context, r ports.OutboxRepo) error {
				_, err := r.Settle(ctx, sms.ID, 0, ports.MessageCancelled, "x")
				return err
			}, ports.ErrNotFound},
			{"defer queued", func(ctx context.Context, r ports.OutboxRepo) error {
				_, err := r.Defer(ctx, sms.ID, 0, time.Now(), "x")
				return err
			}, ports.ErrNotFound},
			{"retry queued", func(ctx context.Context, r ports.OutboxRepo) error {
				_, err := r.Retry(ctx, sms.ID, time.Time{})
				return err
			}, ports.ErrNotFound},
			{"report on queued", func(ctx context.Context, r ports.OutboxRepo) error {
				_, err := r.ReportStatus(ctx, sms.ID, "delivered", ports.MessageDelivered)
				return err
			}, ports.ErrNotFound},
			{"report a bad state", func(ctx context.Context, r ports.OutboxRepo) error {
				_, err := r.ReportStatus(ctx, sms.ID, "x", ports.MessageQueued)
				return err
			}, ports.ErrInvalid},
			{"settle as sent", func(ctx context.Context, r ports.OutboxRepo) error {
				_, err := r.Settle(ctx, sms.ID, 0, ports.MessageSent, "x")
				return err
			}, ports.ErrInvalid},
			{"by provider id unknown", func(ctx context.Context, r ports.OutboxRepo) error {
				_, err := r.ByProviderID(ctx, ports.ChannelSMS, "SMnone")
				return err
			}, ports.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := refusedInShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error { return tt.do(ctx, tx.Outbox()) })
				require.ErrorIs(t, err, tt.want)
			})
		}
		assert.Equal(t, sms, getMessage(t, s, shop, sms.ID), "refused calls changed nothing")
	})

	t.Run("EnqueueRefusesBadInput", func(t *testing.T) {
		s := newStore(t)
		shop := seed(t, s, 1, 0).shops[0].ID
		c := createContact(t, s, shop, newContact("+15551230001", "ann@example.com"))
		tests := []struct {
			name string
			give func(*ports.OutboxMessage)
			want error
		}{
			{"zero id", func(m *ports.OutboxMessage) { m.ID = ports.MessageID{} }, ports.ErrInvalid},
			{"no contact", func(m *ports.OutboxMessage) { m.Contact = ports.ContactID{} }, ports.ErrInvalid},
			{"bad channel", func(m *ports.OutboxMessage) { m.Channel = "fax" }, ports.ErrInvalid},
			{"bad category", func(m *ports.OutboxMessage) { m.Category = "spam" }, ports.ErrInvalid},
			{"bad number", func(m *ports.OutboxMessage) { m.SMS.To = "555-1234" }, ports.ErrInvalid},
			{"empty body", func(m *ports.OutboxMessage) { m.SMS.Body = "" }, ports.ErrInvalid},
			{"e-mail content on an SMS", func(m *ports.OutboxMessage) { m.Email.Subject = "x" }, ports.ErrInvalid},
			{"body too large", func(m *ports.OutboxMessage) { m.SMS.Body = strings.Repeat("x", ports.MaxMessageBody+1) }, ports.ErrInvalid},
			{"NUL in the body", func(m *ports.OutboxMessage) { m.SMS.Body = "a\x00b" }, ports.ErrInvalid},
			{"invalid UTF-8", func(m *ports.OutboxMessage) { m.SMS.Body = "a\xffb" }, ports.ErrInvalid},
			{"too many attempts", func(m *ports.OutboxMessage) { m.MaxAttempts = 1001 }, ports.ErrInvalid},
			{"unknown contact", func(m *ports.OutboxMessage) { m.Contact = ports.NewContactID() }, ports.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				give := newSMSMessage(c)
				tt.give(&give)
				err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.Outbox().Enqueue(ctx, give)
					return err
				})
				require.ErrorIs(t, err, tt.want)
			})
		}
		for name, give := range map[string]func(*ports.OutboxMessage){
			"no subject":         func(m *ports.OutboxMessage) { m.Email.Subject = "" },
			"no body":            func(m *ports.OutboxMessage) { m.Email.Text, m.Email.HTML = "", "" },
			"bad address":        func(m *ports.OutboxMessage) { m.Email.To = "ann" },
			"NUL in a header":    func(m *ports.OutboxMessage) { m.Email.Headers = map[string]string{"X": "a\x00"} },
			"SMS content on one": func(m *ports.OutboxMessage) { m.SMS.Body = "x" },
		} {
			t.Run(name, func(t *testing.T) {
				m := newEmailMessage(c)
				give(&m)
				err := refusedInShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.Outbox().Enqueue(ctx, m)
					return err
				})
				require.ErrorIs(t, err, ports.ErrInvalid)
			})
		}
		assert.Empty(t, listMessages(t, s, shop, ports.OutboxQuery{}), "nothing was written")
		taken := enqueueMessage(t, s, shop, newSMSMessage(c))
		_, err := outboxOp(s, shop, func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
			return r.Enqueue(ctx, taken)
		})
		require.ErrorIs(t, err, ports.ErrConflict, "a taken ID")
	})

	t.Run("EnqueueRollsBackWithItsUnitOfWork", func(t *testing.T) {
		s := newStore(t)
		shop := seed(t, s, 1, 0).shops[0].ID
		var m ports.OutboxMessage
		err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			c, err := tx.Consent().CreateContact(ctx, newContact("+15551230001", ""))
			if err != nil {
				return err
			}
			if m, err = tx.Outbox().Enqueue(ctx, newSMSMessage(c)); err != nil {
				return err
			}
			return ports.ErrConflict // the change that caused the message failed
		})
		require.ErrorIs(t, err, ports.ErrConflict)
		assert.Empty(t, listMessages(t, s, shop, ports.OutboxQuery{}), "no message without its change")
		_, err = outboxOp(s, shop, func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) { return r.Get(ctx, m.ID) })
		require.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("EventsAreRecordedOnce", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 2, 0)
		a, b := f.shops[0].ID, f.shops[1].ID
		record := func(shop ports.ShopID, provider, id string) error {
			_, err := outboxOp(s, shop, func(ctx context.Context, r ports.OutboxRepo) (struct{}, error) {
				return struct{}{}, r.RecordEvent(ctx, provider, id)
			})
			return err
		}
		require.NoError(t, record(a, "twilio", "SM123"))
		require.ErrorIs(t, record(a, "twilio", "SM123"), ports.ErrConflict, "a replay")
		inShop(t, s, a, func(ctx context.Context, tx ports.ShopTx) error {
			require.ErrorIs(t, tx.Outbox().RecordEvent(ctx, "twilio", "SM123"), ports.ErrConflict)
			_, err := tx.Outbox().List(ctx, ports.OutboxQuery{})
			return err // the unit of work is still usable and commits
		})
		require.NoError(t, record(a, "resend", "SM123"), "event IDs are per provider")
		require.NoError(t, record(b, "twilio", "SM123"), "and per shop")
		for _, bad := range [][2]string{{"", "x"}, {"twilio", ""}, {strings.Repeat("p", 256), "x"}, {"twilio", strings.Repeat("e", 256)}} {
			require.ErrorIs(t, record(a, bad[0], bad[1]), ports.ErrInvalid)
		}
		err := s.InShop(context.Background(), a, func(ctx context.Context, tx ports.ShopTx) error {
			if err := tx.Outbox().RecordEvent(ctx, "twilio", "SM999"); err != nil {
				return err
			}
			return ports.ErrUnavailable // applying the event failed
		})
		require.ErrorIs(t, err, ports.ErrUnavailable)
		require.NoError(t, record(a, "twilio", "SM999"), "an event whose unit of work rolled back was not recorded")
	})

	t.Run("Queue", func(t *testing.T) { TestOutboxQueue(t, storeOutboxQueue(newStore)) })
}

func testOutboxClaimOrder(t *testing.T, newQueue OutboxQueueHarness) {
	s, q := newQueue(t)
	f := seed(t, s, 2, 0)
	shopA, shopB := f.shops[0].ID, f.shops[1].ID
	ca := createContact(t, s, shopA, newContact("+15551230001", "a@example.com"))
	cb := createContact(t, s, shopB, newContact("+15551230001", "a@example.com"))
	base := time.Now().Add(time.Hour).UTC()
	lease := time.Minute
	at := func(c ports.Contact, d time.Duration) ports.OutboxMessage {
		m := newSMSMessage(c)
		m.RunAt = base.Add(d)
		return m
	}
	m1 := enqueueMessage(t, s, shopA, at(ca, -3*time.Minute))
	m3 := enqueueMessage(t, s, shopA, at(ca, -time.Minute))
	m2 := enqueueMessage(t, s, shopB, at(cb, -2*time.Minute))
	m4 := enqueueMessage(t, s, shopB, at(cb, time.Minute))

	got := claimMessages(t, q, base, 2, lease)
	require.Equal(t, []ports.MessageID{m1.ID, m2.ID}, messageIDs(got), "oldest RunAt first, across shops, at most limit")
	for i, want := range []ports.OutboxMessage{m1, m2} {
		assert.Equal(t, want.ShopID, got[i].ShopID, "a claimed message carries its shop")
		assert.Equal(t, ports.MessageSending, got[i].State)
		assert.Equal(t, 1, got[i].Attempts)
		assert.Equal(t, ports.Timestamp(base.Add(lease)), got[i].LockedUntil)
		assert.Equal(t, want.SMS, got[i].SMS, "the claim hands out the content")
		assert.Equal(t, got[i], getMessage(t, s, want.ShopID, want.ID), "the claim is stored")
	}
	assert.Equal(t, []ports.MessageID{m3.ID}, messageIDs(claimMessages(t, q, base, 10, lease)), "m4 is not due; m1 and m2 are leased")
	assert.Empty(t, claimMessages(t, q, base, 10, lease))
	later := claimMessages(t, q, base.Add(lease), 10, lease)
	require.Equal(t, []ports.MessageID{m1.ID, m2.ID, m3.ID, m4.ID}, messageIDs(later), "leases that ran out, and m4 now due")
	assert.Equal(t, []int{2, 2, 2, 1}, []int{later[0].Attempts, later[1].Attempts, later[2].Attempts, later[3].Attempts})

	for _, tt := range []struct {
		name  string
		limit int
		lease time.Duration
	}{{"zero limit", 0, lease}, {"huge limit", 1001, lease}, {"zero lease", 1, 0}, {"lease over MaxLease", 1, ports.MaxLease + time.Microsecond}} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := q.ClaimMessages(context.Background(), base, tt.limit, tt.lease)
			require.ErrorIs(t, err, ports.ErrInvalid)
		})
	}
}

func testOutboxClaimLease(t *testing.T, newQueue OutboxQueueHarness) {
	s, q := newQueue(t)
	shop := seed(t, s, 1, 0).shops[0].ID
	c := createContact(t, s, shop, newContact("+15551230001", "a@example.com"))
	base := time.Now().Add(time.Hour).UTC()
	lease := 30 * time.Second
	dispatch := func(id ports.MessageID, attempt int) {
		_, err := outboxOp(s, shop, func(ctx context.Context, r ports.OutboxRepo) (struct{}, error) {
			return struct{}{}, r.Dispatch(ctx, id, attempt)
		})
		require.NoError(t, err)
	}
	in := newSMSMessage(c)
	in.MaxAttempts = 2
	inDoubt := enqueueMessage(t, s, shop, in)
	in = newEmailMessage(c)
	in.MaxAttempts = 2
	undispatched := enqueueMessage(t, s, shop, in)

	first := claimMessages(t, q, base, 10, lease)
	require.Len(t, first, 2)
	dispatch(inDoubt.ID, 1)
	second := claimMessages(t, q, base.Add(lease), 10, lease)
	require.Len(t, second, 2, "both leases ran out with an attempt left: handed out again")
	for _, m := range second {
		assert.Equal(t, 2, m.Attempts)
	}
	assert.Equal(t, 1, second[0].Dispatched, "the previous attempt's dispatch shows: it is in doubt")
	dispatch(inDoubt.ID, 2)

	assert.Empty(t, claimMessages(t, q, base.Add(2*lease), 10, lease), "the last attempts' leases ran out: nothing is handed out")
	got := getMessage(t, s, shop, inDoubt.ID)
	assert.Equal(t, ports.MessageUnknown, got.State, "dispatched in its last attempt: it may have gone out")
	assert.Equal(t, "lease expired during the provider call", got.LastError)
	assert.True(t, got.LockedUntil.IsZero())
	got = getMessage(t, s, shop, undispatched.ID)
	assert.Equal(t, ports.MessageDead, got.State, "never dispatched in its last attempt: dead")
	assert.Equal(t, "lease expired", got.LastError)

	retried, err := outboxOp(s, shop, func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
		return r.Retry(ctx, inDoubt.ID, base)
	})
	require.NoError(t, err, "an unknown message can be put back by hand")
	assert.Equal(t, ports.MessageQueued, retried.State)
	assert.Zero(t, retried.Attempts)
	assert.Zero(t, retried.Dispatched)
	_, err = outboxOp(s, shop, func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
		return r.Retry(ctx, undispatched.ID, time.Time{})
	})
	require.NoError(t, err, "so can a dead one")
	assert.Len(t, claimMessages(t, q, base.Add(3*lease), 10, lease), 2)
}

func testOutboxOutcomes(t *testing.T, newQueue OutboxQueueHarness) {
	s, q := newQueue(t)
	shop := seed(t, s, 1, 0).shops[0].ID
	c := createContact(t, s, shop, newContact("+15551230001", "a@example.com"))
	base := time.Now().Add(time.Hour).UTC()
	lease := time.Minute
	op := func(do func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error)) (ports.OutboxMessage, error) {
		return outboxOp(s, shop, do)
	}
	in := newSMSMessage(c)
	in.MaxAttempts = 3
	m := enqueueMessage(t, s, shop, in)
	claimed := claimMessages(t, q, base, 1, lease)
	require.Len(t, claimed, 1)

	// Fail, back off, claim again: the first attempt's outcome can no
	// longer be written.
	retryAt := base.Add(10 * time.Second)
	require.NoError(t, s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		return tx.Outbox().Dispatch(ctx, m.ID, 1)
	}))
	failed, err := op(func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
		return r.Fail(ctx, m.ID, 1, "provider 503 "+strings.Repeat("é", 600), retryAt, false)
	})
	require.NoError(t, err)
	assert.Equal(t, ports.MessageQueued, failed.State)
	assert.Zero(t, failed.Dispatched, "a recorded failure settles the dispatched attempt: the next claim is not in doubt")
	assert.Equal(t, ports.Timestamp(retryAt), failed.RunAt)
	assert.LessOrEqual(t, len(failed.LastError), 1000, "the reason is cut to 1000 bytes")
	assert.True(t, strings.HasPrefix(failed.LastError, "provider 503 "))
	assert.Empty(t, claimMessages(t, q, base, 1, lease), "not before retryAt")
	require.Len(t, claimMessages(t, q, retryAt, 1, lease), 1)
	_, err = op(func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
		return r.MarkSent(ctx, m.ID, 1, "SMstale")
	})
	require.ErrorIs(t, err, ports.ErrNotFound, "attempt 1 is over: its worker cannot mark the message")

	// Quiet hours: deferred without spending the attempt.
	held := retryAt.Add(8 * time.Hour)
	deferred, err := op(func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
		return r.Defer(ctx, m.ID, 2, held, "quiet hours")
	})
	require.NoError(t, err)
	assert.Equal(t, ports.MessageQueued, deferred.State)
	assert.Equal(t, 1, deferred.Attempts, "a deferral does not spend an attempt")
	assert.Equal(t, ports.Timestamp(held), deferred.RunAt)
	assert.Equal(t, "quiet hours", deferred.HeldFor)
	assert.Empty(t, claimMessages(t, q, held.Add(-time.Second), 1, lease))
	again := claimMessages(t, q, held, 1, lease)
	require.Len(t, again, 1)
	assert.Equal(t, 2, again[0].Attempts)

	require.NoError(t, s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		return tx.Outbox().Dispatch(ctx, m.ID, 2)
	}))
	sent, err := op(func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
		return r.MarkSent(ctx, m.ID, 2, "SM0001")
	})
	require.NoError(t, err)
	assert.Equal(t, ports.MessageSent, sent.State)
	assert.Equal(t, "SM0001", sent.ProviderID)
	assert.Equal(t, 2, sent.Dispatched)
	assert.False(t, sent.SentAt.IsZero())
	assert.True(t, sent.LockedUntil.IsZero())
	assert.Empty(t, sent.LastError)
	byProvider, err := op(func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
		return r.ByProviderID(ctx, ports.ChannelSMS, "SM0001")
	})
	require.NoError(t, err)
	assert.Equal(t, sent, byProvider)
	_, err = op(func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
		return r.ByProviderID(ctx, ports.ChannelEmail, "SM0001")
	})
	require.ErrorIs(t, err, ports.ErrNotFound, "provider IDs are per channel")
	shopOf, err := directoryOp(s, func(ctx context.Context, r ports.MessagingDirectoryRepo) (ports.ShopID, error) {
		return r.ShopByProviderMessage(ctx, ports.ChannelSMS, "SM0001")
	})
	require.NoError(t, err)
	assert.Equal(t, shop, shopOf, "status reports route to the message's shop")

	delivered, err := op(func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
		return r.ReportStatus(ctx, m.ID, "delivered", ports.MessageDelivered)
	})
	require.NoError(t, err)
	assert.Equal(t, ports.MessageDelivered, delivered.State)
	assert.Equal(t, "delivered", delivered.ProviderStatus)
	_, err = op(func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
		return r.Retry(ctx, m.ID, time.Time{})
	})
	require.ErrorIs(t, err, ports.ErrNotFound, "a delivered message is not retried")

	// Settle and dead-letter.
	in2 := newEmailMessage(c)
	in2.MaxAttempts = 2
	m2 := enqueueMessage(t, s, shop, in2)
	in3 := newEmailMessage(c)
	m3 := enqueueMessage(t, s, shop, in3)
	m4 := enqueueMessage(t, s, shop, newEmailMessage(c))
	cancelled, err := op(func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
		return r.Cancel(ctx, m4.ID, "opted out")
	})
	require.NoError(t, err)
	assert.Equal(t, ports.MessageCancelled, cancelled.State)
	assert.Equal(t, "opted out", cancelled.LastError)
	require.Len(t, claimMessages(t, q, base.Add(24*time.Hour), 10, lease), 2, "the cancelled message is not claimed")
	dead, err := op(func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
		return r.Fail(ctx, m2.ID, 1, "mailbox does not exist", time.Time{}, true)
	})
	require.NoError(t, err)
	assert.Equal(t, ports.MessageDead, dead.State, "a permanent failure is dead at once")
	settled, err := op(func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
		return r.Settle(ctx, m3.ID, 1, ports.MessageCancelled, "consent withdrawn")
	})
	require.NoError(t, err)
	assert.Equal(t, ports.MessageCancelled, settled.State)
	assert.Equal(t, "consent withdrawn", settled.LastError)
	assert.True(t, settled.LockedUntil.IsZero())
	_, err = op(func(ctx context.Context, r ports.OutboxRepo) (ports.OutboxMessage, error) {
		return r.Cancel(ctx, m3.ID, "again")
	})
	require.ErrorIs(t, err, ports.ErrNotFound, "only a queued message is cancelled")
	assert.Len(t, listMessages(t, s, shop, ports.OutboxQuery{State: ports.MessageCancelled}), 2)
	assert.Len(t, listMessages(t, s, shop, ports.OutboxQuery{State: ports.MessageDead}), 1)
}

func testOutboxConcurrentClaims(t *testing.T, newQueue OutboxQueueHarness) {
	s, q := newQueue(t)
	f := seed(t, s, 2, 0)
	base := time.Now().Add(time.Hour).UTC()
	const perShop = 40
	for _, sh := range f.shops {
		inShop(t, s, sh.ID, func(ctx context.Context, tx ports.ShopTx) error {
			c, err := tx.Consent().CreateContact(ctx, newContact("+15551230001", ""))
			if err != nil {
				return err
			}
			for range perShop {
				if _, err := tx.Outbox().Enqueue(ctx, newSMSMessage(c)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	var (
		mu   sync.Mutex
		seen = map[ports.MessageID]int{}
		wg   sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for {
				ms, err := q.ClaimMessages(context.Background(), base, 7, time.Hour)
				if !assert.NoError(t, err) || len(ms) == 0 {
					return
				}
				mu.Lock()
				for _, m := range ms {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Len(t, seen, 2*perShop, "every message was claimed")
	for id, n := range seen {
		assert.Equal(t, 1, n, "message %s was handed to %d claimers", id, n)
	}
}
