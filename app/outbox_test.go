package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/messaging"
	"github.com/stockadehq/stockade/ports"
)

// recordingSender is a provider stand-in: it records what it accepted,
// can fail on a script, and can deduplicate by idempotency key the way
// Resend does (a repeated key returns the first receipt and delivers
// nothing new).
type recordingSender struct {
	mu          sync.Mutex
	dedupe      bool
	fail        func(n int) error // n: calls so far, 1-based; nil error accepts
	calls       int
	delivered   []string          // idempotency keys, in delivery order
	byKey       map[string]string // key → provider ID
	lastService string
}

func (s *recordingSender) accept(key string) (ports.Sent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.fail != nil {
		if err := s.fail(s.calls); err != nil {
			return ports.Sent{}, err
		}
	}
	if s.byKey == nil {
		s.byKey = map[string]string{}
	}
	if id, ok := s.byKey[key]; ok && s.dedupe {
		return ports.Sent{ProviderID: id}, nil
	}
	id := fmt.Sprintf("prov-%d", len(s.delivered)+1)
	s.byKey[key] = id
	s.delivered = append(s.delivered, key)
	return ports.Sent{ProviderID: id}, nil
}

func (s *recordingSender) SendEmail(_ context.Context, m ports.Email) (ports.Sent, error) {
	return s.accept(m.IdempotencyKey)
}

func (s *recordingSender) SendSMS(_ context.Context, m ports.SMS) (ports.Sent, error) {
	s.mu.Lock()
	s.lastService = m.MessagingServiceSID
	s.mu.Unlock()
	return s.accept(m.IdempotencyKey)
}

func (s *recordingSender) keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.delivered...)
}

func (w *msgWorld) worker(t testing.TB, st ports.Store, sender *recordingSender, wc messaging.WorkerConfig) *messaging.Worker {
	t.Helper()
	if wc.Lease == 0 {
		wc.Lease = time.Minute
	}
	if wc.SendTimeout == 0 {
		wc.SendTimeout = 10 * time.Second
	}
	wk, err := app.NewOutboxWorker(w.cfg, app.OutboxParts{Service: w.svc, Store: st, SMS: sender, Email: sender}, wc)
	require.NoError(t, err)
	return wk
}

func (w *msgWorld) message(t testing.TB, shop ports.ShopID, id ports.MessageID) ports.OutboxMessage {
	t.Helper()
	for _, m := range w.messages(t, shop) {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("message %s not found", id)
	return ports.OutboxMessage{}
}

// drainOutbox runs the worker until a round claims nothing.
func drainOutbox(t testing.TB, wk *messaging.Worker) {
	t.Helper()
	for {
		n, err := wk.RunOnce(context.Background())
		require.NoError(t, err)
		if n == 0 {
			return
		}
	}
}

func TestOutboxDelivers(t *testing.T) {
	for _, b := range jobBackends {
		t.Run(b.name, func(t *testing.T) {
			w := newMsgWorld(t, b, 2)
			sender := &recordingSender{}
			var want []string
			for i, tn := range w.tenants {
				for j := range 3 {
					m, err := w.enqueue(w.as(i, ports.RoleSales), tn.shop, receipt(fmt.Sprintf("c%d@example.com", j)))
					require.NoError(t, err)
					want = append(want, m.ID.String())
				}
				m, err := w.enqueue(w.as(i, ports.RoleSales), tn.shop, marketingSMS("+1555123000"+fmt.Sprint(i)))
				require.NoError(t, err)
				want = append(want, m.ID.String())
			}
			drainOutbox(t, w.worker(t, w.st, sender, messaging.WorkerConfig{Concurrency: 2}))
			assert.ElementsMatch(t, want, sender.keys(), "each message once, with its ID as idempotency key")
			for _, tn := range w.tenants {
				for _, m := range w.messages(t, tn.shop) {
					assert.Equal(t, ports.MessageSent, m.State)
					assert.Equal(t, sender.byKey[m.ID.String()], m.ProviderID)
					assert.Equal(t, 1, m.Attempts)
					assert.Equal(t, 1, m.Dispatched)
				}
			}
		})
	}
}

func TestOutboxRetriesWithBackoffThenDeadLetters(t *testing.T) {
	w := newMsgWorld(t, jobBackends[0], 1)
	shop := w.tenants[0].shop
	sender := &recordingSender{fail: func(n int) error {
		if n <= 2 {
			return fmt.Errorf("provider answered 503: %w", ports.ErrUnavailable)
		}
		return nil
	}}
	wk := w.worker(t, w.st, sender, messaging.WorkerConfig{Backoff: func(attempt int) time.Duration { return time.Duration(attempt) * time.Minute }})
	m, err := w.enqueue(w.as(0, ports.RoleSales), shop, receipt("ann@example.com"))
	require.NoError(t, err)

	drainOutbox(t, wk)
	got := w.message(t, shop, m.ID)
	assert.Equal(t, ports.MessageQueued, got.State)
	assert.Contains(t, got.LastError, "503")
	assert.True(t, got.RunAt.Equal(ports.Timestamp(w.clock.Now().Add(time.Minute))), "retry after the back-off of attempt 1")
	drainOutbox(t, wk)
	assert.Empty(t, sender.keys(), "not before the back-off has passed")
	w.clock.Add(time.Minute)
	drainOutbox(t, wk)
	got = w.message(t, shop, m.ID)
	assert.True(t, got.RunAt.Equal(ports.Timestamp(w.clock.Now().Add(2*time.Minute))), "the back-off grows")
	w.clock.Add(2 * time.Minute)
	drainOutbox(t, wk)
	got = w.message(t, shop, m.ID)
	assert.Equal(t, ports.MessageSent, got.State)
	assert.Equal(t, 3, got.Attempts)
	assert.Equal(t, []string{m.ID.String()}, sender.keys())

	// Dead letter, then an admin's retry.
	sender.fail = func(int) error { return fmt.Errorf("timeout: %w", ports.ErrUnavailable) }
	dl, err := w.enqueue(w.as(0, ports.RoleSales), shop, messaging.Message{Channel: ports.ChannelEmail, Category: ports.CategoryTransactional,
		To: messaging.Address{Email: "bo@example.com"}, Subject: "Hi", Body: "x", MaxAttempts: 2})
	require.NoError(t, err)
	drainOutbox(t, wk)
	w.clock.Add(time.Hour)
	drainOutbox(t, wk)
	got = w.message(t, shop, dl.ID)
	assert.Equal(t, ports.MessageDead, got.State, "attempts used up")
	assert.Equal(t, 2, got.Attempts)
	_, err = w.svc.RetryMessage(w.as(0, ports.RoleSales), dl.ID)
	require.ErrorIs(t, err, ports.ErrForbidden, "sales cannot retry")
	sender.fail = nil
	_, err = w.svc.RetryMessage(w.as(0, ports.RoleAdmin), dl.ID)
	require.NoError(t, err)
	drainOutbox(t, wk)
	assert.Equal(t, ports.MessageSent, w.message(t, shop, dl.ID).State)
	var retried int
	for _, ev := range w.audit(t, shop) {
		if ev.Action == "messaging.message.retried" && ev.Target == "message:"+dl.ID.String() {
			retried++
		}
	}
	assert.Equal(t, 1, retried, "the retry is audited")

	// A permanent refusal is dead at once.
	sender.fail = func(int) error { return ports.Invalid("to", "mailbox does not exist") }
	bad, err := w.enqueue(w.as(0, ports.RoleSales), shop, receipt("gone@example.com"))
	require.NoError(t, err)
	drainOutbox(t, wk)
	got = w.message(t, shop, bad.ID)
	assert.Equal(t, ports.MessageDead, got.State)
	assert.Equal(t, 1, got.Attempts)
}

func TestOutboxChecksConsentAgainAtDelivery(t *testing.T) {
	w := newMsgWorld(t, jobBackends[0], 1)
	shop := w.tenants[0].shop
	sender := &recordingSender{}
	wk := w.worker(t, w.st, sender, messaging.WorkerConfig{})
	m, err := w.enqueue(w.as(0, ports.RoleSales), shop, marketingSMS("+15551230001"))
	require.NoError(t, err)
	_, err = w.svc.ReceiveSMS(context.Background(), messaging.InboundSMS{Shop: shop, Provider: "twilio", EventID: "SM1", From: "+15551230001", Body: "STOP"})
	require.NoError(t, err)
	drainOutbox(t, wk)
	got := w.message(t, shop, m.ID)
	assert.Equal(t, ports.MessageCancelled, got.State, "the STOP arrived while the message waited")
	assert.Contains(t, got.LastError, "opted out")
	assert.Empty(t, sender.keys(), "nothing was sent")

	// The provider's own opt-out list (Twilio's 21610) cancels and records.
	sender.fail = func(int) error { return fmt.Errorf("twilio 21610: %w", ports.ErrOptedOut) }
	m2, err := w.enqueue(w.as(0, ports.RoleSales), shop, marketingSMS("+15551230002"))
	require.NoError(t, err)
	drainOutbox(t, wk)
	assert.Equal(t, ports.MessageCancelled, w.message(t, shop, m2.ID).State)
	st, err := w.svc.FindContact(w.as(0, ports.RoleOwner), "+15551230002")
	require.NoError(t, err)
	assert.True(t, st.OptedOut(ports.TopicSMS), "the provider's opt-out is recorded (source provider)")
	assert.Equal(t, ports.SourceProvider, st.Records[len(st.Records)-1].Source)
}

func TestOutboxQuietHoursAtDelivery(t *testing.T) {
	w := newMsgWorld(t, jobBackends[0], 1)
	shop := w.tenants[0].shop
	owner := w.as(0, ports.RoleOwner)
	_, err := w.svc.SaveSettings(owner, ports.MessagingSettings{MessagingServiceSID: "MGq", TimeZone: "Europe/Berlin"})
	require.NoError(t, err)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	w.clock.now = time.Date(2026, 11, 23, 20, 59, 0, 0, berlin)
	sender := &recordingSender{fail: func(n int) error {
		if n == 1 {
			return fmt.Errorf("busy: %w", ports.ErrUnavailable)
		}
		return nil
	}}
	wk := w.worker(t, w.st, sender, messaging.WorkerConfig{Backoff: func(int) time.Duration { return 5 * time.Minute }})
	m, err := w.enqueue(owner, shop, marketingSMS("+4915123456789"))
	require.NoError(t, err)
	assert.Empty(t, m.HeldFor, "20:59 is inside the window")
	drainOutbox(t, wk) // fails, retry at 21:04
	w.clock.Add(5 * time.Minute)
	drainOutbox(t, wk)
	got := w.message(t, shop, m.ID)
	assert.Equal(t, ports.MessageQueued, got.State)
	assert.Equal(t, "quiet hours", got.HeldFor, "the retry fell into the night: held")
	assert.Equal(t, 1, got.Attempts, "holding does not spend an attempt")
	assert.True(t, time.Date(2026, 11, 24, 8, 0, 0, 0, berlin).Equal(got.RunAt))
	assert.Equal(t, 1, sender.calls)
	w.clock.now = time.Date(2026, 11, 24, 8, 0, 0, 0, berlin)
	drainOutbox(t, wk)
	assert.Equal(t, ports.MessageSent, w.message(t, shop, m.ID).State)
	assert.Equal(t, "MGq", sender.lastService, "sent through the shop's own Messaging Service")
}

// markFailingStore is the store with MarkSent and MarkAllSent failing
// while broken is set: the worker "dies" between the provider call and
// the mark.
type markFailingStore struct {
	ports.Store
	mu     sync.Mutex
	broken bool
}

func (s *markFailingStore) ClaimMessages(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]ports.OutboxMessage, error) {
	return s.Store.(ports.OutboxQueue).ClaimMessages(ctx, now, limit, lease)
}

func (s *markFailingStore) InShop(ctx context.Context, shop ports.ShopID, fn func(context.Context, ports.ShopTx) error, opts ...ports.TxOption) error {
	return s.Store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		return fn(ctx, markFailingTx{ShopTx: tx, s: s})
	}, opts...)
}

type markFailingTx struct {
	ports.ShopTx
	s *markFailingStore
}

func (t markFailingTx) Outbox() ports.OutboxRepo { return markFailingOutbox{t.ShopTx.Outbox(), t.s} }

type markFailingOutbox struct {
	ports.OutboxRepo
	s *markFailingStore
}

var errKilled = errors.New("killed between the provider call and the mark")

func (o markFailingOutbox) MarkSent(ctx context.Context, id ports.MessageID, attempt int, providerID string) (ports.OutboxMessage, error) {
	o.s.mu.Lock()
	broken := o.s.broken
	o.s.mu.Unlock()
	if broken {
		return ports.OutboxMessage{}, errKilled
	}
	return o.OutboxRepo.MarkSent(ctx, id, attempt, providerID)
}

func (o markFailingOutbox) MarkAllSent(ctx context.Context, sent []ports.SentAttempt) ([]ports.MessageID, error) {
	o.s.mu.Lock()
	broken := o.s.broken
	o.s.mu.Unlock()
	if broken {
		return nil, errKilled
	}
	return o.OutboxRepo.MarkAllSent(ctx, sent)
}

// TestOutboxFaultBetweenSendAndMark is MSG-6's fault test with stand-in
// providers (the SMTP server test is TestOutboxExactlyOnceOverSMTP): the
// worker "dies" after the provider accepted each message and before the
// mark; a new worker after the lease ran out sends nothing twice. With a
// provider that deduplicates, the message is sent again with the same key
// and ends sent with the first receipt; without, it ends unknown.
func TestOutboxFaultBetweenSendAndMark(t *testing.T) {
	for _, b := range jobBackends {
		for _, dedupe := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/dedupe=%v", b.name, dedupe), func(t *testing.T) {
				w := newMsgWorld(t, b, 1)
				shop := w.tenants[0].shop
				var ids []ports.MessageID
				for i := range 5 {
					m, err := w.enqueue(w.as(0, ports.RoleSales), shop, receipt(fmt.Sprintf("c%d@example.com", i)))
					require.NoError(t, err)
					ids = append(ids, m.ID)
				}
				sender := &recordingSender{dedupe: dedupe}
				faulty := &markFailingStore{Store: w.st, broken: true}
				first := w.worker(t, faulty, sender, messaging.WorkerConfig{EmailDeduplicates: dedupe})
				n, err := first.RunOnce(context.Background())
				require.Equal(t, 5, n)
				require.ErrorIs(t, err, errKilled, "every mark failed")
				require.Len(t, sender.keys(), 5, "the provider accepted all five")
				for _, id := range ids {
					m := w.message(t, shop, id)
					assert.Equal(t, ports.MessageSending, m.State, "not marked: in doubt until the lease runs out")
					assert.Equal(t, 1, m.Dispatched)
				}

				// Restart: a fresh worker on the healthy store, after the lease.
				second := w.worker(t, w.st, sender, messaging.WorkerConfig{EmailDeduplicates: dedupe})
				drainOutbox(t, second)
				assert.Len(t, sender.keys(), 5, "nothing is claimed before the lease runs out")
				w.clock.Add(time.Minute)
				drainOutbox(t, second)
				keys := sender.keys()
				assert.Len(t, keys, 5, "each message delivered exactly once")
				seen := map[string]int{}
				for _, k := range keys {
					seen[k]++
				}
				for _, id := range ids {
					assert.Equal(t, 1, seen[id.String()], "message %s", id)
					m := w.message(t, shop, id)
					if dedupe {
						assert.Equal(t, ports.MessageSent, m.State, "sent again with the same key; the provider returned the first receipt")
						assert.Equal(t, sender.byKey[id.String()], m.ProviderID)
						assert.Equal(t, 2, m.Attempts)
					} else {
						assert.Equal(t, ports.MessageUnknown, m.State, "the provider cannot deduplicate: not sent again")
						assert.Contains(t, m.LastError, "may have been sent")
					}
				}
				if dedupe {
					assert.Equal(t, 10, sender.calls, "five first sends, five repeats the provider deduplicated")
				} else {
					assert.Equal(t, 5, sender.calls)
				}
			})
		}
	}
}

// countingStore counts the units of work opened on it, and can make
// ConsentOf fail (a chunk's first statement).
type countingStore struct {
	ports.Store
	units         atomic.Int32
	failConsentOf bool
}

func (s *countingStore) ClaimMessages(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]ports.OutboxMessage, error) {
	return s.Store.(ports.OutboxQueue).ClaimMessages(ctx, now, limit, lease)
}

func (s *countingStore) InShop(ctx context.Context, shop ports.ShopID, fn func(context.Context, ports.ShopTx) error, opts ...ports.TxOption) error {
	s.units.Add(1)
	return s.Store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		return fn(ctx, countingTx{ShopTx: tx, s: s})
	}, opts...)
}

type countingTx struct {
	ports.ShopTx
	s *countingStore
}

func (t countingTx) Consent() ports.ConsentRepo { return countingConsent{t.ShopTx.Consent(), t.s} }

type countingConsent struct {
	ports.ConsentRepo
	s *countingStore
}

func (c countingConsent) ConsentOf(ctx context.Context, ids []ports.ContactID) (map[ports.ContactID][]ports.Consent, error) {
	if c.s.failConsentOf {
		return nil, fmt.Errorf("consent of %d contacts: %w", len(ids), ports.ErrUnavailable)
	}
	return c.ConsentRepo.ConsentOf(ctx, ids)
}

// TestOutboxBatchesUnitsOfWork: a shop's claimed messages are dispatched
// in one unit of work per chunk and marked sent in one, not two units of
// work per message. The first chunk is Concurrency messages (no provider
// call has been timed yet); with a fast provider and a long BatchWindow
// the rest is one chunk: 20 messages in 4 units of work. When a chunk's
// unit of work fails, its messages are prepared one by one and still
// delivered exactly once.
func TestOutboxBatchesUnitsOfWork(t *testing.T) {
	for _, b := range jobBackends {
		t.Run(b.name, func(t *testing.T) {
			w := newMsgWorld(t, b, 1)
			shop := w.tenants[0].shop
			enqueue := func(n int) []string {
				var ids []string
				for i := range n {
					m, err := w.enqueue(w.as(0, ports.RoleSales), shop, receipt(fmt.Sprintf("c%d@example.com", i%7)))
					require.NoError(t, err)
					ids = append(ids, m.ID.String())
				}
				return ids
			}
			want := enqueue(20)
			counting := &countingStore{Store: w.st}
			sender := &recordingSender{}
			wk := w.worker(t, counting, sender, messaging.WorkerConfig{BatchSize: 20, BatchWindow: 50 * time.Second})
			n, err := wk.RunOnce(context.Background())
			require.NoError(t, err)
			require.Equal(t, 20, n)
			assert.ElementsMatch(t, want, sender.keys(), "each message once")
			assert.Equal(t, int32(4), counting.units.Load(), "two chunks (1 and 19 messages), two units of work each")
			for _, m := range w.messages(t, shop) {
				assert.Equal(t, ports.MessageSent, m.State)
				assert.Equal(t, sender.byKey[m.ID.String()], m.ProviderID, "each message its own provider ID")
				assert.Equal(t, 1, m.Dispatched)
			}

			more := enqueue(5)
			counting.failConsentOf = true
			drainOutbox(t, wk)
			assert.ElementsMatch(t, append(want, more...), sender.keys(), "prepared one by one, delivered once each")
			for _, m := range w.messages(t, shop) {
				assert.Equal(t, ports.MessageSent, m.State)
			}
		})
	}
}
