package jobs_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/jobs"
	"github.com/stockadehq/stockade/ports"
)

// txSeen records which unit of work each job's handler ran in, and how
// often each handler ran.
type txSeen struct {
	mu    sync.Mutex
	tx    map[ports.JobID]ports.ShopTx
	calls map[ports.JobID]int
}

func newTxSeen() *txSeen {
	return &txSeen{tx: map[ports.JobID]ports.ShopTx{}, calls: map[ports.JobID]int{}}
}

func (s *txSeen) note(tx ports.ShopTx, j ports.Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tx[j.ID] = tx
	s.calls[j.ID]++
}

func (s *txSeen) of(id ports.JobID) ports.ShopTx {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tx[id]
}

// TestJobsOfAShopShareOneUnitOfWork: a batch's jobs of one shop run in
// one unit of work, completed by one CompleteAll; another shop's run in
// another; a kind registered with HandleAlone never shares.
func TestJobsOfAShopShareOneUnitOfWork(t *testing.T) {
	h := newHarness(t, jobs.Config{BatchSize: 20})
	seen := newTxSeen()
	note := func(_ context.Context, tx ports.ShopTx, j ports.Job) error { seen.note(tx, j); return nil }
	h.runner.Handle("small", note)
	h.runner.HandleAlone("big", note)
	shopA, shopB := ports.NewShopID(), ports.NewShopID()
	var a, b, alone []ports.Job
	for range 5 {
		a = append(a, h.enqueue(t, shopA, job("small")))
	}
	for range 2 {
		b = append(b, h.enqueue(t, shopB, job("small")))
		alone = append(alone, h.enqueue(t, shopA, job("big")))
	}
	n, err := h.runner.RunOnce(context.Background())
	require.NoError(t, err)
	require.Equal(t, 9, n)
	assert.Len(t, h.store.inState(ports.JobDone), 9)
	for _, j := range a[1:] {
		assert.Same(t, seen.of(a[0].ID), seen.of(j.ID), "shop A's jobs share a unit of work")
	}
	assert.Same(t, seen.of(b[0].ID), seen.of(b[1].ID), "so do shop B's")
	assert.NotSame(t, seen.of(a[0].ID), seen.of(b[0].ID), "each shop its own")
	for _, j := range alone {
		assert.NotSame(t, seen.of(a[0].ID), seen.of(j.ID), "HandleAlone: never shared")
	}
	assert.NotSame(t, seen.of(alone[0].ID), seen.of(alone[1].ID))
	assert.Equal(t, 2, h.store.completeAlls, "one CompleteAll per shared unit of work")
}

// TestSharedUnitsSpreadOverConcurrency: with fewer shops than
// Concurrency, one shop's jobs are split into Concurrency units that run
// at once.
func TestSharedUnitsSpreadOverConcurrency(t *testing.T) {
	h := newHarness(t, jobs.Config{Concurrency: 3, BatchSize: 9})
	var inFlight, peak atomic.Int32
	release := make(chan struct{})
	h.runner.Handle("wait", func(ctx context.Context, _ ports.ShopTx, _ ports.Job) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-release
		return nil
	})
	shop := ports.NewShopID()
	for range 9 {
		h.enqueue(t, shop, job("wait"))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		n, err := h.runner.RunOnce(context.Background())
		assert.NoError(t, err)
		assert.Equal(t, 9, n)
	}()
	require.Eventually(t, func() bool { return inFlight.Load() == 3 }, 5*time.Second, time.Millisecond)
	close(release)
	<-done
	assert.Equal(t, int32(3), peak.Load())
	assert.Len(t, h.store.inState(ports.JobDone), 9)
	assert.Equal(t, 3, h.store.completeAlls, "three units of three jobs")
}

// TestFailureInASharedUnitDoesNotRollBackItsMates: a handler that fails
// in a shared unit of work rolls it back; its batch-mates run again, each
// alone, and commit once. The failing job runs again alone too when jobs
// ran before it in the transaction (their work may have caused its
// failure); as the first job, its failure is recorded at once.
func TestFailureInASharedUnitDoesNotRollBackItsMates(t *testing.T) {
	for _, first := range []bool{false, true} {
		name := "failing job in the middle"
		if first {
			name = "failing job first"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, jobs.Config{})
			seen := newTxSeen()
			h.runner.Handle("work", func(ctx context.Context, tx ports.ShopTx, j ports.Job) error {
				seen.note(tx, j)
				_, err := tx.Jobs().Enqueue(ctx, job("side-effect"))
				return err
			})
			h.runner.Handle("flaky", func(ctx context.Context, tx ports.ShopTx, j ports.Job) error {
				seen.note(tx, j)
				if _, err := tx.Jobs().Enqueue(ctx, job("side-effect")); err != nil {
					return err
				}
				return errors.New("smtp: 451 try later")
			})
			shop := ports.NewShopID()
			var ok1, bad, ok2 ports.Job
			if first {
				bad, ok1, ok2 = h.enqueue(t, shop, job("flaky")), h.enqueue(t, shop, job("work")), h.enqueue(t, shop, job("work"))
			} else {
				ok1, bad, ok2 = h.enqueue(t, shop, job("work")), h.enqueue(t, shop, job("flaky")), h.enqueue(t, shop, job("work"))
			}
			n, err := h.runner.RunOnce(context.Background())
			require.NoError(t, err, "a job's failure is not the round's")
			require.Equal(t, 3, n)

			for _, j := range []ports.Job{ok1, ok2} {
				assert.Equal(t, ports.JobDone, h.store.get(j.ID).State)
			}
			got := h.store.get(bad.ID)
			assert.Equal(t, ports.JobQueued, got.State, "the failure is recorded: queued for a retry")
			assert.Equal(t, 1, got.Attempts)
			assert.Equal(t, "smtp: 451 try later", got.LastError)
			var effects int
			for _, j := range h.store.inState(ports.JobQueued) {
				if j.Kind == "side-effect" {
					effects++
				}
			}
			assert.Equal(t, 2, effects, "the mates' work committed once each; the failing job's rolled back")

			seen.mu.Lock()
			defer seen.mu.Unlock()
			if first {
				assert.Equal(t, 1, seen.calls[bad.ID], "the first job's failure was its own: recorded, not run again")
				assert.Equal(t, 1, seen.calls[ok1.ID], "a job after the failure had not run yet")
			} else {
				assert.Equal(t, 2, seen.calls[bad.ID], "run again alone: a mate's work ran before it")
				assert.Equal(t, 2, seen.calls[ok1.ID], "rolled back with the failure, run again alone")
				assert.NotSame(t, seen.tx[ok1.ID], seen.tx[ok2.ID], "the mates ran again, each alone")
			}
			assert.Equal(t, 1, seen.calls[ok2.ID])
		})
	}
}

// TestLostLeaseInASharedUnit: a job whose lease ran out while its shared
// unit of work ran (another runner claimed it) is left out of
// CompleteAll; the unit of work rolls back, that job's newer attempt is
// untouched, and its mates run again alone and commit.
func TestLostLeaseInASharedUnit(t *testing.T) {
	h := newHarness(t, jobs.Config{})
	shop := ports.NewShopID()
	var stolen ports.Job
	h.runner.Handle("work", func(ctx context.Context, tx ports.ShopTx, j ports.Job) error {
		_, err := tx.Jobs().Enqueue(ctx, job("side-effect"))
		return err
	})
	h.runner.Handle("slow", func(ctx context.Context, tx ports.ShopTx, j ports.Job) error {
		if stolen.ID.IsZero() {
			// Meanwhile the lease ran out and another runner claimed the
			// first job.
			h.clock.Add(time.Hour)
			again, err := h.store.Claim(ctx, h.clock.Now(), 1, time.Minute)
			require.NoError(t, err)
			require.Len(t, again, 1)
			stolen = again[0]
		}
		_, err := tx.Jobs().Enqueue(ctx, job("side-effect"))
		return err
	})
	first := h.enqueue(t, shop, job("work"))
	h.clock.Add(time.Second)
	second := h.enqueue(t, shop, job("slow"))
	_, err := h.runner.RunOnce(context.Background())
	require.NoError(t, err)
	require.Equal(t, first.ID, stolen.ID, "the oldest job was claimed again")
	assert.Equal(t, stolen, h.store.get(first.ID), "the newer attempt is untouched")
	assert.Equal(t, ports.JobDone, h.store.get(second.ID).State, "the mate ran again alone and committed")
	var effects int
	for _, j := range h.store.inState(ports.JobQueued) {
		if j.Kind == "side-effect" {
			effects++
		}
	}
	assert.Equal(t, 1, effects, "only the mate's second run committed")
}
