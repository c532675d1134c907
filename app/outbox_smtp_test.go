package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/smtp"
	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/messaging"
	"github.com/stockadehq/stockade/internal/smtptest"
	"github.com/stockadehq/stockade/ports"
)

// killAfterSend is the store with MarkSent failing for chosen messages,
// and MarkAllSent for a batch that holds one: for them the worker "dies"
// between the provider call and the mark (the worker then marks the
// batch's messages one by one, and only the chosen ones fail).
type killAfterSend struct {
	ports.Store
	mu   sync.Mutex
	kill map[ports.MessageID]bool
}

func (s *killAfterSend) ClaimMessages(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]ports.OutboxMessage, error) {
	return s.Store.(ports.OutboxQueue).ClaimMessages(ctx, now, limit, lease)
}

func (s *killAfterSend) InShop(ctx context.Context, shop ports.ShopID, fn func(context.Context, ports.ShopTx) error, opts ...ports.TxOption) error {
	return s.Store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		return fn(ctx, killTx{ShopTx: tx, s: s})
	}, opts...)
}

type killTx struct {
	ports.ShopTx
	s *killAfterSend
}

func (t killTx) Outbox() ports.OutboxRepo { return killOutbox{t.ShopTx.Outbox(), t.s} }

type killOutbox struct {
	ports.OutboxRepo
	s *killAfterSend
}

func (o killOutbox) MarkSent(ctx context.Context, id ports.MessageID, attempt int, providerID string) (ports.OutboxMessage, error) {
	o.s.mu.Lock()
	kill := o.s.kill[id]
	o.s.mu.Unlock()
	if kill {
		return ports.OutboxMessage{}, errKilled
	}
	return o.OutboxRepo.MarkSent(ctx, id, attempt, providerID)
}

func (o killOutbox) MarkAllSent(ctx context.Context, sent []ports.SentAttempt) ([]ports.MessageID, error) {
	o.s.mu.Lock()
	defer o.s.mu.Unlock()
	for _, m := range sent {
		if o.s.kill[m.ID] {
			return nil, errKilled
		}
	}
	return o.OutboxRepo.MarkAllSent(ctx, sent)
}

func smtpSender(t testing.TB, srv *smtptest.Server) *smtp.Sender {
	t.Helper()
	s, err := smtp.New(smtp.Config{Host: "localhost", Port: srv.Port(), RootCAs: srv.RootCAs(), Timeout: 5 * time.Second, HELO: "stockade.test"})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// onTheWire counts a header of every message the server accepted.
func onTheWire(t testing.TB, srv *smtptest.Server, header string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, m := range srv.Messages() {
		h, err := m.Header()
		require.NoError(t, err)
		out[h.Get(header)]++
	}
	return out
}

// TestOutboxExactlyOnceOverSMTP is MSG-6's acceptance 4 against the
// in-process SMTP server through adapters/smtp (STARTTLS): the worker is
// killed between the provider call and the mark for three of twenty
// messages (a failing hook), a new worker starts after the lease ran out,
// and every message reached the server exactly once — the three killed
// ones are left unknown rather than sent twice, since SMTP cannot
// deduplicate. Marketing mail arrives with its RFC 8058 headers; a change
// that rolled back put nothing on the wire.
func TestOutboxExactlyOnceOverSMTP(t *testing.T) {
	for _, b := range jobBackends {
		t.Run(b.name, func(t *testing.T) {
			srv := smtptest.Start(t, smtptest.Options{TLS: true, RequireTLS: true})
			w := newMsgWorld(t, b, 2)
			var all []ports.OutboxMessage
			for i, tn := range w.tenants {
				for j := range 10 {
					m := receipt(fmt.Sprintf("c%d@example.com", j))
					if j%3 == 0 {
						m = marketingEmail(fmt.Sprintf("c%d@example.com", j))
					}
					m.Subject += fmt.Sprintf(" #%d-%d", i, j) // tells the copies on the wire apart
					out, err := w.enqueue(w.as(i, ports.RoleSales), tn.shop, m)
					require.NoError(t, err)
					all = append(all, out)
				}
			}
			err := w.st.InShop(w.as(0, ports.RoleSales), w.tenants[0].shop, func(ctx context.Context, tx ports.ShopTx) error {
				if _, err := w.svc.Enqueue(ctx, tx, receipt("rolled-back@example.com")); err != nil {
					return err
				}
				return fmt.Errorf("the business change failed")
			})
			require.Error(t, err)

			killed := map[ports.MessageID]bool{all[2].ID: true, all[7].ID: true, all[15].ID: true}
			faulty := &killAfterSend{Store: w.st, kill: killed}
			sender := smtpSender(t, srv)
			first, err := app.NewOutboxWorker(w.cfg, app.OutboxParts{Service: w.svc, Store: faulty, Email: sender},
				messaging.WorkerConfig{Lease: time.Minute, SendTimeout: 10 * time.Second, BatchSize: 50})
			require.NoError(t, err)
			n, err := first.RunOnce(context.Background())
			require.Equal(t, 20, n)
			require.ErrorIs(t, err, errKilled)

			w.clock.Add(time.Minute) // the dead worker's lease runs out
			second, err := app.NewOutboxWorker(w.cfg, app.OutboxParts{Service: w.svc, Store: w.st, Email: smtpSender(t, srv)},
				messaging.WorkerConfig{Lease: time.Minute, SendTimeout: 10 * time.Second})
			require.NoError(t, err)
			drainOutbox(t, second)

			subjects := onTheWire(t, srv, "Subject")
			require.Len(t, srv.Messages(), 20, "twenty messages on the wire, the rolled-back one not among them")
			require.Len(t, onTheWire(t, srv, "Message-Id"), 20, "twenty distinct Message-IDs")
			for _, m := range all {
				got := w.message(t, m.ShopID, m.ID)
				assert.Equal(t, 1, subjects[m.Email.Subject], "%q delivered exactly once", m.Email.Subject)
				if killed[m.ID] {
					assert.Equal(t, ports.MessageUnknown, got.State, "killed after the send: unknown, never sent twice")
					assert.Empty(t, got.ProviderID)
				} else {
					assert.Equal(t, ports.MessageSent, got.State)
				}
			}
			for _, m := range srv.Messages() {
				assert.True(t, m.TLS, "STARTTLS on every delivery")
				h, err := m.Header()
				require.NoError(t, err)
				assert.NotEqual(t, "rolled-back@example.com", h.Get("To"))
				if strings.HasPrefix(h.Get("Subject"), "Spring sale") {
					assert.Regexp(t, `^<https://shop-\d\.example\.test/u/[A-Za-z0-9_-]{64}>$`, h.Get("List-Unsubscribe"))
					assert.Equal(t, "List-Unsubscribe=One-Click", h.Get("List-Unsubscribe-Post"))
				} else {
					assert.Empty(t, h.Get("List-Unsubscribe"), "transactional mail carries no unsubscribe header")
				}
			}
		})
	}
}

// TestOutboxSMTPDuplicateWindow documents the window no outbox closes: the
// server keeps a message and the connection drops before its 250 reaches
// the client. The worker sees a failure and retries; the message arrives
// twice, both copies with the same Message-ID.
func TestOutboxSMTPDuplicateWindow(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{TLS: true})
	w := newMsgWorld(t, jobBackends[0], 1)
	m, err := w.enqueue(w.as(0, ports.RoleSales), w.tenants[0].shop, receipt("ann@example.com"))
	require.NoError(t, err)
	srv.FailNext(smtptest.FaultDropAfterAccept)
	wk, err := app.NewOutboxWorker(w.cfg, app.OutboxParts{Service: w.svc, Store: w.st, Email: smtpSender(t, srv)},
		messaging.WorkerConfig{Lease: time.Minute, SendTimeout: 10 * time.Second, Backoff: func(int) time.Duration { return time.Second }})
	require.NoError(t, err)
	drainOutbox(t, wk)
	assert.Equal(t, ports.MessageQueued, w.message(t, w.tenants[0].shop, m.ID).State, "the client saw an error")
	w.clock.Add(time.Second)
	drainOutbox(t, wk)
	assert.Equal(t, ports.MessageSent, w.message(t, w.tenants[0].shop, m.ID).State)
	ids := onTheWire(t, srv, "Message-Id")
	require.Len(t, ids, 1, "one Message-ID")
	for _, n := range ids {
		assert.Equal(t, 2, n, "two copies: the documented duplicate window of SMTP")
	}
}
