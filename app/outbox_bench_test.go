package app_test

import (
	"context"
	"fmt"
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
				for i := 0; i < b.N; {
					n := min(b.N-i, 500)
					tn := w.tenants[i%len(w.tenants)]
					require.NoError(b, w.st.InShop(w.as(i%len(w.tenants), ports.RoleOwner), tn.shop, func(ctx context.Context, tx ports.ShopTx) error {
						for j := range n {
							if _, err := w.svc.Enqueue(ctx, tx, receipt(fmt.Sprintf("c%d@example.com", (i+j)%100))); err != nil {
								return err
							}
						}
						return nil
					}))
					i += n
				}
				sender, err := smtpSenderPooled(b, srv, c)
				require.NoError(b, err)
				wk, err := app.NewOutboxWorker(w.cfg, app.OutboxParts{Service: w.svc, Store: w.st, Email: sender},
					messaging.WorkerConfig{Concurrency: c, Lease: 5 * time.Minute, SendTimeout: 30 * time.Second})
				require.NoError(b, err)
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
				if got := len(srv.Messages()); got != b.N {
					b.Fatalf("the server got %d messages, want %d", got, b.N)
				}
			})
		}
	}
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
