package jobs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/jobs"
	"github.com/stockadehq/stockade/ports"
)

// newObservedHarness is newHarness with an Observer.
func newObservedHarness(t *testing.T) (harness, *recorder) {
	t.Helper()
	clock := &fakeClock{now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	st := newFakeStore(clock)
	rec := &recorder{seen: map[string]int{}}
	r, err := jobs.New(jobs.Deps{Store: st, Queue: st, Clock: clock, Observer: rec},
		jobs.Config{Backoff: func(attempt int) time.Duration { return time.Duration(attempt) * time.Minute }})
	require.NoError(t, err)
	return harness{clock: clock, store: st, runner: r}, rec
}

// sideEffect is what the outside handlers of these tests do: a write in a
// unit of work of their own, which the runner cannot roll back: a job
// due only in a year, so that no round claims it.
func (h harness) sideEffect(ctx context.Context, shop ports.ShopID) error {
	return h.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		j := job("side-effect")
		j.RunAt = h.clock.Now().AddDate(1, 0, 0)
		_, err := tx.Jobs().Enqueue(ctx, j)
		return err
	})
}

func TestOutsideHandlerRunsWithNoUnitOfWorkAndCompletes(t *testing.T) {
	h, rec := newObservedHarness(t)
	shop := ports.NewShopID()
	var seen []ports.Job
	h.runner.HandleOutside("hook", func(ctx context.Context, j ports.Job) error {
		assert.False(t, ports.InUnitOfWork(ctx), "an outside handler runs with no unit of work open")
		seen = append(seen, j)
		return h.sideEffect(ctx, j.ShopID) // would be ErrNestedUnitOfWork inside one
	})
	j := h.enqueue(t, shop, job("hook"))

	n, err := h.runner.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.Len(t, seen, 1)
	assert.Equal(t, j.ID, seen[0].ID)
	assert.Equal(t, shop, seen[0].ShopID)
	assert.Equal(t, 1, seen[0].Attempts)
	got := h.store.get(j.ID)
	assert.Equal(t, ports.JobDone, got.State, "the completion was recorded")
	assert.Empty(t, got.LastError)
	assert.Len(t, h.store.inState(ports.JobQueued), 1, "the handler's own write stays")
	assert.Equal(t, map[string]int{"hook done": 1}, rec.seen)

	n, err = h.runner.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "done: not claimed again")
	assert.Len(t, seen, 1)
}

func TestOutsideHandlerFailuresRetryAndAreNotRolledBack(t *testing.T) {
	tests := []struct {
		name    string
		handler jobs.OutsideHandler
		reason  string
	}{
		{"error", func(context.Context, ports.Job) error { return errors.New("post: 503") }, "post: 503"},
		{"panic", func(context.Context, ports.Job) error { panic("nil map") }, "panic: nil map"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, rec := newObservedHarness(t)
			shop := ports.NewShopID()
			h.runner.HandleOutside("flaky", func(ctx context.Context, j ports.Job) error {
				if err := h.sideEffect(ctx, j.ShopID); err != nil {
					return err
				}
				return tt.handler(ctx, j)
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
			assert.Len(t, h.store.inState(ports.JobQueued), 2, "the job and the handler's write, which is not rolled back")

			h.clock.Add(time.Minute)
			_, err = h.runner.RunOnce(context.Background())
			require.NoError(t, err)
			got = h.store.get(j.ID)
			assert.Equal(t, ports.JobDead, got.State, "dead after MaxAttempts")
			assert.Equal(t, 2, got.Attempts)
			assert.Equal(t, map[string]int{"flaky retry": 1, "flaky dead": 1}, rec.seen)
		})
	}
}

func TestOutsideHandlerPermanentErrorIsDeadAtOnce(t *testing.T) {
	h := newHarness(t, jobs.Config{})
	h.runner.HandleOutside("bad-payload", func(context.Context, ports.Job) error {
		return jobs.Permanent(errors.New("payload: malformed"))
	})
	j := h.enqueue(t, ports.NewShopID(), job("bad-payload"))
	_, err := h.runner.RunOnce(context.Background())
	require.NoError(t, err)
	got := h.store.get(j.ID)
	assert.Equal(t, ports.JobDead, got.State)
	assert.Equal(t, "payload: malformed", got.LastError)
	assert.Equal(t, 1, got.Attempts)
}

// TestOutsideHandlerLostLease: an outside handler whose lease ran out
// cannot complete the job, which is the newer attempt's; its effects
// stay (at least once).
func TestOutsideHandlerLostLease(t *testing.T) {
	h, rec := newObservedHarness(t)
	var stolen ports.Job
	h.runner.HandleOutside("slow", func(ctx context.Context, j ports.Job) error {
		h.clock.Add(time.Hour)
		again, err := h.store.Claim(ctx, h.clock.Now(), 1, time.Minute)
		require.NoError(t, err)
		require.Len(t, again, 1)
		stolen = again[0]
		return h.sideEffect(ctx, j.ShopID)
	})
	j := h.enqueue(t, ports.NewShopID(), job("slow"))
	_, err := h.runner.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, stolen, h.store.get(j.ID), "the newer attempt is untouched")
	assert.Equal(t, 2, stolen.Attempts)
	assert.Len(t, h.store.inState(ports.JobQueued), 1, "the stale attempt's effect is not rolled back")
	assert.Equal(t, map[string]int{"slow lost": 1}, rec.seen)
}

func TestHandleOutsideSharesKindsAndPanicsLikeHandle(t *testing.T) {
	h := newHarness(t, jobs.Config{})
	inside := func(context.Context, ports.ShopTx, ports.Job) error { return nil }
	outside := func(context.Context, ports.Job) error { return nil }
	h.runner.Handle("in", inside)
	h.runner.HandleOutside("out", outside)
	assert.PanicsWithValue(t, `jobs: HandleOutside("out"): kind registered twice`,
		func() { h.runner.HandleOutside("out", outside) })
	assert.PanicsWithValue(t, `jobs: HandleOutside("in"): kind registered twice`,
		func() { h.runner.HandleOutside("in", outside) }, "Handle's kinds are taken")
	assert.PanicsWithValue(t, `jobs: Handle("out"): kind registered twice`,
		func() { h.runner.Handle("out", inside) }, "HandleOutside's kinds are taken")
	assert.Panics(t, func() { h.runner.HandleOutside("", outside) }, "empty kind")
	assert.Panics(t, func() { h.runner.HandleOutside(string(make([]byte, 65)), outside) }, "over-long kind")
	assert.Panics(t, func() { h.runner.HandleOutside("y", nil) }, "nil handler")
}
