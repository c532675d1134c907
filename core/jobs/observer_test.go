package jobs_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/jobs"
	"github.com/stockadehq/stockade/ports"
)

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu   sync.Mutex
	seen map[string]int // "kind outcome" → count
}

func (r *recorder) JobEnded(kind string, o jobs.Outcome, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if took < 0 {
		panic("negative duration")
	}
	r.seen[kind+" "+string(o)]++
}

func TestObserverIsToldEveryAttemptsOutcome(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	st := newFakeStore(clock)
	rec := &recorder{seen: map[string]int{}}
	r, err := jobs.New(jobs.Deps{Store: st, Queue: st, Clock: clock, Observer: rec},
		jobs.Config{Backoff: func(int) time.Duration { return 0 }})
	require.NoError(t, err)
	r.Handle("ok", func(context.Context, ports.ShopTx, ports.Job) error { return nil })
	r.Handle("flaky", func(context.Context, ports.ShopTx, ports.Job) error { return errors.New("try later") })
	r.Handle("bad", func(context.Context, ports.ShopTx, ports.Job) error { return jobs.Permanent(errors.New("no")) })

	shop := ports.NewShopID()
	enqueue := func(kind string, maxAttempts int) {
		require.NoError(t, st.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Jobs().Enqueue(ctx, ports.Job{ID: ports.NewJobID(), Kind: kind, MaxAttempts: maxAttempts})
			return err
		}))
	}
	enqueue("ok", 0)
	enqueue("flaky", 2)
	enqueue("bad", 0)
	enqueue("written-by-anyone-"+ports.NewJobID().String(), 0)

	for range 3 {
		_, err := r.RunOnce(context.Background())
		require.NoError(t, err)
	}
	assert.Equal(t, map[string]int{
		"ok done":           1,
		"flaky retry":       1,
		"flaky dead":        1,
		"bad dead":          1,
		"unregistered dead": 1, // jobs.UnregisteredKind, not the stored kind
	}, rec.seen)
}
