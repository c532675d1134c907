package app_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/smtp"
	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/messaging"
	"github.com/stockadehq/stockade/internal/smtptest"
	"github.com/stockadehq/stockade/ports"
)

// BenchmarkOutboxToSMTP measures MSG-6's delivery end to end: b.N
// transactional e-mails over 10 shops are enqueued (untimed), then the
// worker drains them to the in-process SMTP server through adapters/smtp
// (STARTTLS, pooled connections). Each message costs its share of a claim,
// the unit of work that re-checks consent and records the dispatch, the
// SMTP transaction, and the unit of work that marks it sent. ns/op is per
// message; msgs/s is the rate. Run with a fixed count, e.g.
// -benchtime=2000x.
func BenchmarkOutboxToSMTP(b *testing.B) {
	for _, be := range jobBackends {
		concurrencies := []int{1, 4}
		if be.name == "postgres" {
			concurrencies = []int{1, 4, 8}
		}
		for _, c := range concurrencies {
			b.Run(fmt.Sprintf("%s/concurrency=%d", be.name, c), func(b *testing.B) {
				srv := smtptest.Start(b, smtptest.Options{TLS: true})
				w := newMsgWorld(b, be, 10)
				enqueueReceipts(b, w, b.N)
				sender, err := smtpSenderPooled(b, srv, c)
				require.NoError(b, err)
				wk, err := app.NewOutboxWorker(w.cfg, app.OutboxParts{Service: w.svc, Store: w.st, Email: sender},
					messaging.WorkerConfig{Concurrency: c, Lease: 5 * time.Minute, SendTimeout: 30 * time.Second})
				require.NoError(b, err)
				drainOutboxTimed(b, wk)
				if got := len(srv.Messages()); got != b.N {
					b.Fatalf("the server got %d messages, want %d", got, b.N)
				}
			})
		}
	}
}

// BenchmarkOutboxNoopSender measures what the outbox itself costs per
// message, without a provider's latency: b.N transactional e-mails over
// 10 shops are enqueued (untimed), then the worker drains them to a
// sender that accepts every message at once. Each message costs its share
// of a claim, of the consent check and dispatch record, and of the sent
// mark. ns/op is per message; msgs/s is the rate. Run with a fixed count,
// e.g. -benchtime=5000x.
func BenchmarkOutboxNoopSender(b *testing.B) {
	for _, be := range jobBackends {
		for _, cfg := range []messaging.WorkerConfig{{Concurrency: 1}, {Concurrency: 8}, {Concurrency: 8, BatchSize: 200}} {
			batch := cfg.BatchSize
			if batch == 0 {
				batch = 10 * cfg.Concurrency
			}
			b.Run(fmt.Sprintf("%s/concurrency=%d/batch=%d", be.name, cfg.Concurrency, batch), func(b *testing.B) {
				w := newMsgWorld(b, be, 10)
				enqueueReceipts(b, w, b.N)
				sender := &noopSender{}
				cfg.Lease, cfg.SendTimeout = 5*time.Minute, 30*time.Second
				wk, err := app.NewOutboxWorker(w.cfg, app.OutboxParts{Service: w.svc, Store: w.st, Email: sender}, cfg)
				require.NoError(b, err)
				drainOutboxTimed(b, wk)
				if got := sender.n.Load(); got != int64(b.N) {
					b.Fatalf("the sender got %d messages, want %d", got, b.N)
				}
			})
		}
	}
}

// noopSender accepts every e-mail at once and counts them.
type noopSender struct{ n atomic.Int64 }

func (s *noopSender) SendEmail(_ context.Context, m ports.Email) (ports.Sent, error) {
	s.n.Add(1)
	return ports.Sent{ProviderID: "noop-" + m.IdempotencyKey}, nil
}

// enqueueReceipts enqueues n transactional e-mails round-robin over the
// world's shops, to 100 contacts, 500 per unit of work (untimed).
func enqueueReceipts(b *testing.B, w *msgWorld, n int) {
	b.Helper()
	for i := 0; i < n; {
		k := min(n-i, 500)
		tn := w.tenants[i%len(w.tenants)]
		require.NoError(b, w.st.InShop(w.as(i%len(w.tenants), ports.RoleOwner), tn.shop, func(ctx context.Context, tx ports.ShopTx) error {
			for j := range k {
				if _, err := w.svc.Enqueue(ctx, tx, receipt(fmt.Sprintf("c%d@example.com", (i+j)%100))); err != nil {
					return err
				}
			}
			return nil
		}))
		i += k
	}
}

// drainOutboxTimed resets the timer, runs the worker until it has
// claimed b.N messages and reports the rate as msgs/s.
func drainOutboxTimed(b *testing.B, wk *messaging.Worker) {
	b.Helper()
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	done := 0
	for done < b.N {
		n, err := wk.RunOnce(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			b.Fatalf("drained after %d of %d messages", done, b.N)
		}
		done += n
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

// BenchmarkEnqueueInUnitOfWork measures what enqueueing adds to a
// business change's unit of work: "change" is a unit of work that makes
// one change (a background job row, standing in for the app's own write);
// "change+enqueue" makes it and enqueues one transactional e-mail to a
// known contact (contact lookup, consent check, settings read, insert);
// "change+enqueue-new-contact" enqueues to an address never seen (the
// contact is created too). ns/op is per unit of work.
func BenchmarkEnqueueInUnitOfWork(b *testing.B) {
	for _, be := range jobBackends {
		b.Run(be.name, func(b *testing.B) {
			w := newMsgWorld(b, be, 1)
			shop := w.tenants[0].shop
			ctx := w.as(0, ports.RoleOwner)
			change := func(ctx context.Context, tx ports.ShopTx) error {
				_, err := tx.Jobs().Enqueue(ctx, ports.Job{ID: ports.NewJobID(), Kind: "quote.saved"})
				return err
			}
			_, err := w.enqueue(ctx, shop, receipt("known@example.com"))
			require.NoError(b, err)
			b.Run("change", func(b *testing.B) {
				for range b.N {
					if err := w.st.InShop(ctx, shop, change); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("change+enqueue", func(b *testing.B) {
				for range b.N {
					err := w.st.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
						if err := change(ctx, tx); err != nil {
							return err
						}
						_, err := w.svc.Enqueue(ctx, tx, receipt("known@example.com"))
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("change+enqueue-new-contact", func(b *testing.B) {
				for i := range b.N {
					err := w.st.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
						if err := change(ctx, tx); err != nil {
							return err
						}
						_, err := w.svc.Enqueue(ctx, tx, receipt(fmt.Sprintf("new-%d-%d@example.com", b.N, i)))
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// smtpSenderPooled is the SMTP adapter on srv keeping up to idle
// connections for reuse.
func smtpSenderPooled(b *testing.B, srv *smtptest.Server, idle int) (*smtp.Sender, error) {
	s, err := smtp.New(smtp.Config{Host: "localhost", Port: srv.Port(), RootCAs: srv.RootCAs(), Timeout: 10 * time.Second, HELO: "stockade.test", MaxIdle: idle})
	if err == nil {
		b.Cleanup(func() { s.Close() })
	}
	return s, err
}
