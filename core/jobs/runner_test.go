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

// harness is a runner over a fake store with a fake clock and a back-off
// of attempt minutes (no jitter), so retry times are exact.
type harness struct {
	clock  *fakeClock
	store  *fakeStore
	runner *jobs.Runner
}

func newHarness(t *testing.T, cfg jobs.Config) harness {
	t.Helper()
	clock := &fakeClock{now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	st := newFakeStore(clock)
	if cfg.Backoff == nil {
		cfg.Backoff = func(attempt int) time.Duration { return time.Duration(attempt) * time.Minute }
	}
	r, err := jobs.New(jobs.Deps{Store: st, Queue: st, Clock: clock}, cfg)
	require.NoError(t, err)
	return harness{clock: clock, store: st, runner: r}
}

func (h harness) enqueue(t *testing.T, shop ports.ShopID, j ports.Job) ports.Job {
	t.Helper()
	var out ports.Job
	require.NoError(t, h.store.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Jobs().Enqueue(ctx, j)
		return err
	}))
	return out
}

func job(kind string) ports.Job { return ports.Job{ID: ports.NewJobID(), Kind: kind} }

func TestHandlerRunsInTheJobsShopAndCommitsWithCompletion(t *testing.T) {
	h := newHarness(t, jobs.Config{})
	shopA, shopB := ports.NewShopID(), ports.NewShopID()
	var follow ports.JobID
	h.runner.Handle("parent", func(ctx context.Context, tx ports.ShopTx, j ports.Job) error {
		assert.Equal(t, j.ShopID, tx.ShopID(), "the unit of work is the job's shop's")
		assert.True(t, ports.InUnitOfWork(ctx))
		child, err := tx.Jobs().Enqueue(ctx, job("child"))
		follow = child.ID
		return err
	})
	a := h.enqueue(t, shopA, job("parent"))
	h.enqueue(t, shopB, job("other"))
	h.clock.Add(time.Second)

	h.runner.Handle("other", func(context.Context, ports.ShopTx, ports.Job) error { return nil })
	n, err := h.runner.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, ports.JobDone, h.store.get(a.ID).State)
	child := h.store.get(follow)
	assert.Equal(t, shopA, child.ShopID, "the handler's write landed in the job's shop")
	assert.Equal(t, ports.JobQueued, child.State)
}

func TestFailuresRollBackAndRetryWithBackoff(t *testing.T) {
	tests := []struct {
		name    string
		handler jobs.Handler
		reason  string
	}{
		{"error", func(context.Context, ports.ShopTx, ports.Job) error { return errors.New("smtp: 451 try later") }, "smtp: 451 try later"},
		{"panic", func(context.Context, ports.ShopTx, ports.Job) error { panic("nil map") }, "panic: nil map"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, jobs.Config{})
			shop := ports.NewShopID()
			h.runner.Handle("flaky", func(ctx context.Context, tx ports.ShopTx, j ports.Job) error {
				if _, err := tx.Jobs().Enqueue(ctx, job("side-effect")); err != nil {
					return err
				}
				return tt.handler(ctx, tx, j)
			})
			in := job("flaky")
			in.MaxAttempts = 2
			j := h.enqueue(t, shop, in)

			n, err := h.runner.RunOnce(context.Background())
			require.NoError(t, err, "a job's failure is not the round's")
			assert.Equal(t, 1, n)
			got := h.store.get(j.ID)
			assert.Equal(t, ports.JobQueued, got.State)
			assert.Equal(t, 1, got.Attempts)
			assert.Equal(t, tt.reason, got.LastError)
			assert.Equal(t, h.clock.Now().Add(time.Minute), got.RunAt, "back-off after attempt 1")
			assert.Empty(t, h.store.inState(ports.JobQueued)[1:], "the handler's write was rolled back")

			n, err = h.runner.RunOnce(context.Background())
			require.NoError(t, err)
			assert.Zero(t, n, "not due before the back-off")
			h.clock.Add(time.Minute)
			_, err = h.runner.RunOnce(context.Background())
			require.NoError(t, err)
			got = h.store.get(j.ID)
			assert.Equal(t, ports.JobDead, got.State, "dead after MaxAttempts")
			assert.Equal(t, 2, got.Attempts)
		})
	}
}

func TestDeadAtOnce(t *testing.T) {
	h := newHarness(t, jobs.Config{})
	shop := ports.NewShopID()
	h.runner.Handle("bad-payload", func(context.Context, ports.ShopTx, ports.Job) error {
		return jobs.Permanent(errors.New("payload: no such invoice"))
	})
	unknown := h.enqueue(t, shop, job("nobody.handles.this"))
	perm := h.enqueue(t, shop, job("bad-payload"))
	_, err := h.runner.RunOnce(context.Background())
	require.NoError(t, err)
	got := h.store.get(unknown.ID)
	assert.Equal(t, ports.JobDead, got.State, "an unknown kind is dead, not retried")
	assert.Equal(t, `no handler for job kind "nobody.handles.this"`, got.LastError)
	got = h.store.get(perm.ID)
	assert.Equal(t, ports.JobDead, got.State, "a permanent error is dead at once")
	assert.Equal(t, "payload: no such invoice", got.LastError)
	assert.Equal(t, 1, got.Attempts)
}

// TestLostLeaseRollsBack: a worker whose attempt is no longer the job's
// current one (its lease ran out and the job was claimed again) cannot
// commit its work, and records no failure over the newer attempt.
func TestLostLeaseRollsBack(t *testing.T) {
	h := newHarness(t, jobs.Config{})
	shop := ports.NewShopID()
	var stolen ports.Job
	h.runner.Handle("slow", func(ctx context.Context, tx ports.ShopTx, j ports.Job) error {
		// Meanwhile the lease ran out and another runner claimed the job.
		h.clock.Add(time.Hour)
		again, err := h.store.Claim(ctx, h.clock.Now(), 1, time.Minute)
		require.NoError(t, err)
		stolen = again[0]
		_, err = tx.Jobs().Enqueue(ctx, job("side-effect"))
		return err
	})
	j := h.enqueue(t, shop, job("slow"))
	_, err := h.runner.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, stolen, h.store.get(j.ID), "the newer attempt is untouched")
	assert.Equal(t, 2, stolen.Attempts)
	assert.Empty(t, h.store.inState(ports.JobQueued), "the stale attempt's write was rolled back")
}

func TestConcurrencyBoundsJobsInFlight(t *testing.T) {
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
	for range 9 {
		h.enqueue(t, ports.NewShopID(), job("wait"))
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
}

func TestRunLoopsOnFullBatchesAndStopsOnCancel(t *testing.T) {
	h := newHarness(t, jobs.Config{BatchSize: 2, PollInterval: time.Hour})
	var ran atomic.Int32
	h.runner.Handle("x", func(context.Context, ports.ShopTx, ports.Job) error { ran.Add(1); return nil })
	for range 5 {
		h.enqueue(t, ports.NewShopID(), job("x"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error)
	go func() { stopped <- h.runner.Run(ctx) }()
	require.Eventually(t, func() bool { return ran.Load() == 5 }, 5*time.Second, time.Millisecond,
		"two full batches and a partial one without waiting for the hour-long poll")

	h.enqueue(t, ports.NewShopID(), job("x"))
	h.runner.Wake()
	require.Eventually(t, func() bool { return ran.Load() == 6 }, 5*time.Second, time.Millisecond, "Wake ends the wait")

	cancel()
	select {
	case err := <-stopped:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop on cancel")
	}
}

// TestStopHandsRunningJobsBack: stopping cancels the handlers in hand and
// makes their jobs due again at once, for the next runner.
func TestStopHandsRunningJobsBack(t *testing.T) {
	h := newHarness(t, jobs.Config{})
	started := make(chan struct{})
	h.runner.Handle("long", func(ctx context.Context, _ ports.ShopTx, _ ports.Job) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	j := h.enqueue(t, ports.NewShopID(), job("long"))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { assert.NoError(t, h.runner.Run(ctx)) })
	<-started
	cancel()
	wg.Wait()
	got := h.store.get(j.ID)
	assert.Equal(t, ports.JobQueued, got.State)
	assert.Equal(t, h.clock.Now(), got.RunAt, "due again at once, not after a back-off")
	assert.Contains(t, got.LastError, "context canceled")
}

func TestNewRefusesBadDepsAndConfig(t *testing.T) {
	st := newFakeStore(ports.SystemClock{})
	tests := []struct {
		name string
		deps jobs.Deps
		cfg  jobs.Config
	}{
		{"no store", jobs.Deps{Queue: st}, jobs.Config{}},
		{"no queue", jobs.Deps{Store: st}, jobs.Config{}},
		{"negative concurrency", jobs.Deps{Store: st, Queue: st}, jobs.Config{Concurrency: -1}},
		{"huge batch", jobs.Deps{Store: st, Queue: st}, jobs.Config{BatchSize: 1001}},
		{"short lease", jobs.Deps{Store: st, Queue: st}, jobs.Config{Lease: time.Millisecond}},
		{"lease over MaxLease", jobs.Deps{Store: st, Queue: st}, jobs.Config{Lease: ports.MaxLease + time.Second}},
		{"negative poll", jobs.Deps{Store: st, Queue: st}, jobs.Config{PollInterval: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := jobs.New(tt.deps, tt.cfg)
			require.ErrorIs(t, err, ports.ErrInvalid)
		})
	}
}

func TestHandlePanicsOnMisuse(t *testing.T) {
	h := newHarness(t, jobs.Config{})
	noop := func(context.Context, ports.ShopTx, ports.Job) error { return nil }
	h.runner.Handle("x", noop)
	assert.Panics(t, func() { h.runner.Handle("x", noop) }, "registered twice")
	assert.Panics(t, func() { h.runner.Handle("", noop) }, "empty kind")
	assert.Panics(t, func() { h.runner.Handle("y", nil) }, "nil handler")
}

func TestExponentialBackoff(t *testing.T) {
	b := jobs.ExponentialBackoff(time.Second, time.Minute)
	tests := []struct {
		attempt int
		want    time.Duration // the delay before jitter; the result is in [want/2, want)
	}{
		{0, time.Second}, {1, time.Second}, {2, 2 * time.Second}, {4, 8 * time.Second},
		{6, 32 * time.Second}, {7, time.Minute}, {100, time.Minute},
	}
	for _, tt := range tests {
		seen := map[time.Duration]bool{}
		for range 50 {
			got := b(tt.attempt)
			seen[got] = true
			assert.GreaterOrEqual(t, got, tt.want/2, "attempt %d", tt.attempt)
			assert.Less(t, got, tt.want, "attempt %d", tt.attempt)
		}
		assert.Greater(t, len(seen), 1, "attempt %d: jittered", tt.attempt)
	}
	assert.True(t, jobs.IsPermanent(errors.Join(errors.New("x"), jobs.Permanent(errors.New("y")))))
	assert.False(t, jobs.IsPermanent(errors.New("x")))
	assert.NoError(t, jobs.Permanent(nil))
}
