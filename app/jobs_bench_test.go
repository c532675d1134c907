package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/jobs"
	"github.com/stockadehq/stockade/ports"
)

// BenchmarkJobThroughputPostgres and BenchmarkJobThroughputSQLite measure
// the runner end to end: b.N no-op jobs spread over 10 shops are enqueued
// (untimed), then RunOnce rounds run until the queue is drained. Each job
// costs its share of a claim plus one unit of work of its shop (the
// handler and the completion). ns/op is per job; jobs/s is the rate.
// Run with a fixed count, e.g. -benchtime=20000x.
func BenchmarkJobThroughputPostgres(b *testing.B) {
	benchmarkJobThroughput(b, jobBackends[1], []jobs.Config{
		{Concurrency: 1}, {Concurrency: 4}, {Concurrency: 8}, {Concurrency: 8, BatchSize: 200},
	})
}

func BenchmarkJobThroughputSQLite(b *testing.B) {
	benchmarkJobThroughput(b, jobBackends[0], []jobs.Config{
		{Concurrency: 1}, {Concurrency: 1, BatchSize: 100}, {Concurrency: 4},
	})
}

func benchmarkJobThroughput(b *testing.B, be jobBackend, cfgs []jobs.Config) {
	st, _ := be.open(b)
	ts := seedTenants(b, st, 10)
	for _, cfg := range cfgs {
		r, err := app.NewJobRunner(app.JobParts{Store: st}, cfg)
		require.NoError(b, err)
		r.Handle("noop", func(context.Context, ports.ShopTx, ports.Job) error { return nil })
		batch := cfg.BatchSize
		if batch == 0 {
			batch = 10 * cfg.Concurrency
		}
		b.Run(fmt.Sprintf("concurrency=%d/batch=%d", cfg.Concurrency, batch), func(b *testing.B) {
			enqueueNoops(b, st, ts, b.N)
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			done := 0
			for done < b.N {
				n, err := r.RunOnce(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if n == 0 {
					b.Fatalf("drained after %d of %d jobs", done, b.N)
				}
				done += n
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "jobs/s")
		})
	}
}

// enqueueNoops enqueues n no-op jobs round-robin over the shops, 500 per
// unit of work.
func enqueueNoops(b *testing.B, st ports.Store, ts []tenant, n int) {
	b.Helper()
	for i, shop := 0, 0; i < n; shop = (shop + 1) % len(ts) {
		k := min(500, n-i)
		require.NoError(b, st.InShop(context.Background(), ts[shop].shop, func(ctx context.Context, tx ports.ShopTx) error {
			for range k {
				if _, err := tx.Jobs().Enqueue(ctx, ports.Job{ID: ports.NewJobID(), Kind: "noop"}); err != nil {
					return err
				}
			}
			return nil
		}))
		i += k
	}
}
