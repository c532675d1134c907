package porttest

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// JobQueueHarness returns a fresh, migrated, empty store and the job queue
// over the same data (often the store itself). Like StoreHarness it
// registers its own cleanup.
type JobQueueHarness func(t *testing.T) (ports.Store, ports.JobQueue)

// TestJobQueue runs the ports.JobQueue conformance suite: the claim's
// order, limit and due-ness, leases, the attempt fencing of Complete,
// CompleteAll and Fail, dead-lettering and concurrent claimers. TestStore runs it too when
// the store itself implements ports.JobQueue.
func TestJobQueue(t *testing.T, newQueue JobQueueHarness) {
	t.Run("ClaimOrderLimitAndDueness", func(t *testing.T) { testClaimOrder(t, newQueue) })
	t.Run("LeaseExpiryAndLastAttempt", func(t *testing.T) { testClaimLease(t, newQueue) })
	t.Run("CompleteFailRetry", func(t *testing.T) { testJobOutcomes(t, newQueue) })
	t.Run("ConcurrentClaimsNeverShareAJob", func(t *testing.T) { testConcurrentClaims(t, newQueue) })
	t.Run("DeleteDone", func(t *testing.T) { testDeleteDone(t, newQueue) })
	t.Run("CompleteAll", func(t *testing.T) { testCompleteAll(t, newQueue) })
}

// testDeleteDone: DeleteDone removes the shop's done jobs that finished
// before the given time, and only those: not queued or dead jobs, not
// another shop's.
func testDeleteDone(t *testing.T, newQueue JobQueueHarness) {
	s, q := newQueue(t)
	shops := seed(t, s, 2, 0).shops
	a, b := shops[0].ID, shops[1].ID
	done := enqueue(t, s, a, newJob("retention"))
	dead := enqueue(t, s, a, newJob("retention"))
	otherShops := enqueue(t, s, b, newJob("retention"))
	claimed := claim(t, q, time.Now().Add(time.Hour), 10, time.Minute)
	require.Len(t, claimed, 3)
	require.NoError(t, completeJob(s, a, done.ID, 1))
	require.NoError(t, completeJob(s, b, otherShops.ID, 1))
	_, err := failJob(s, a, dead.ID, 1, "gave up", time.Time{}, true)
	require.NoError(t, err)
	queued := enqueue(t, s, a, newJob("retention"))
	finished := mustGetJob(t, s, a, done.ID).UpdatedAt

	deleteDone := func(shop ports.ShopID, before time.Time) int {
		t.Helper()
		var n int
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			var err error
			n, err = tx.Jobs().DeleteDone(ctx, before)
			return err
		})
		return n
	}
	assert.Zero(t, deleteDone(a, finished), "finished at, not before")
	assert.Equal(t, 1, deleteDone(a, finished.Add(time.Hour)))
	_, err = getJob(s, a, done.ID)
	assert.ErrorIs(t, err, ports.ErrNotFound)
	assert.Equal(t, ports.JobDead, mustGetJob(t, s, a, dead.ID).State, "a dead job is kept")
	assert.Equal(t, ports.JobQueued, mustGetJob(t, s, a, queued.ID).State, "a queued job is kept")
	assert.Equal(t, ports.JobDone, mustGetJob(t, s, b, otherShops.ID).State, "another shop's done job is kept")
	assert.Zero(t, deleteDone(a, finished.Add(time.Hour)), "nothing left to delete")
}

// storeQueue adapts a StoreHarness whose stores implement ports.JobQueue.
func storeQueue(newStore StoreHarness) JobQueueHarness {
	return func(t *testing.T) (ports.Store, ports.JobQueue) {
		t.Helper()
		s := newStore(t)
		q, ok := s.(ports.JobQueue)
		if !ok {
			t.Skipf("%T does not implement ports.JobQueue; run porttest.TestJobQueue with the queue that goes with it", s)
		}
		return s, q
	}
}

func newJob(kind string) ports.Job {
	return ports.Job{ID: ports.NewJobID(), Kind: kind, Payload: json.RawMessage(`{"n": 1, "tags": ["a", "b"]}`)}
}

func enqueue(t *testing.T, s ports.Store, shop ports.ShopID, j ports.Job) ports.Job {
	t.Helper()
	var out ports.Job
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Jobs().Enqueue(ctx, j)
		return err
	})
	return out
}

func getJob(s ports.Store, shop ports.ShopID, id ports.JobID) (ports.Job, error) {
	var out ports.Job
	err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Jobs().Get(ctx, id)
		return err
	}, ports.ReadOnly())
	return out, err
}

func mustGetJob(t *testing.T, s ports.Store, shop ports.ShopID, id ports.JobID) ports.Job {
	t.Helper()
	j, err := getJob(s, shop, id)
	require.NoError(t, err)
	return j
}

func listJobs(t *testing.T, s ports.Store, shop ports.ShopID, state ports.JobState, limit int) []ports.Job {
	t.Helper()
	var out []ports.Job
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Jobs().List(ctx, state, limit)
		return err
	}, ports.ReadOnly())
	return out
}

func completeJob(s ports.Store, shop ports.ShopID, id ports.JobID, attempt int) error {
	return s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		return tx.Jobs().Complete(ctx, id, attempt)
	})
}

func failJob(s ports.Store, shop ports.ShopID, id ports.JobID, attempt int, reason string, retryAt time.Time, dead bool) (ports.Job, error) {
	var out ports.Job
	err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Jobs().Fail(ctx, id, attempt, reason, retryAt, dead)
		return err
	})
	return out, err
}

func retryJob(s ports.Store, shop ports.ShopID, id ports.JobID, runAt time.Time) (ports.Job, error) {
	var out ports.Job
	err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Jobs().Retry(ctx, id, runAt)
		return err
	})
	return out, err
}

func claim(t *testing.T, q ports.JobQueue, now time.Time, limit int, lease time.Duration) []ports.Job {
	t.Helper()
	js, err := q.Claim(context.Background(), now, limit, lease)
	require.NoError(t, err)
	return js
}

func jobIDs(js []ports.Job) []ports.JobID {
	out := make([]ports.JobID, len(js))
	for i, j := range js {
		out[i] = j.ID
	}
	return out
}

func testJobs(t *testing.T, newStore StoreHarness) {
	t.Run("EnqueueGetList", func(t *testing.T) {
		s := newStore(t)
		shop := seed(t, s, 1, 0).shops[0].ID
		before := time.Now().Add(-time.Minute)
		in := newJob("mail.send")
		in.State, in.Attempts, in.LastError = ports.JobDead, 7, "ignored"
		in.LockedUntil = time.Now().Add(time.Hour)
		in.CreatedAt = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		first := enqueue(t, s, shop, in)
		after := time.Now().Add(time.Minute)

		assert.Equal(t, in.ID, first.ID)
		assert.Equal(t, shop, first.ShopID, "the store sets the shop from the unit of work")
		assert.Equal(t, "mail.send", first.Kind)
		assert.JSONEq(t, string(in.Payload), string(first.Payload))
		assert.Equal(t, ports.JobQueued, first.State)
		assert.Zero(t, first.Attempts)
		assert.Equal(t, ports.DefaultMaxAttempts, first.MaxAttempts, "MaxAttempts 0 means the default")
		assert.True(t, first.RunAt.After(before) && first.RunAt.Before(after), "a zero RunAt is the store's now: %v", first.RunAt)
		assert.Equal(t, ports.Timestamp(first.RunAt), first.RunAt, "times are kept as ports.Timestamp")
		assert.True(t, first.LockedUntil.IsZero())
		assert.Empty(t, first.LastError)
		assert.True(t, first.CreatedAt.After(before), "the store stamps CreatedAt")
		assert.Equal(t, first.CreatedAt, first.UpdatedAt)
		got := mustGetJob(t, s, shop, in.ID)
		assert.Equal(t, first, got, "Enqueue returns the job as stored")

		at := time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.FixedZone("X", 3600))
		second := enqueue(t, s, shop, ports.Job{ID: ports.NewJobID(), Kind: "report.build", MaxAttempts: 3, RunAt: at})
		assert.Equal(t, ports.Timestamp(at), second.RunAt, "RunAt is kept, in UTC, to the microsecond")
		assert.Equal(t, 3, second.MaxAttempts)
		assert.Nil(t, second.Payload, "no payload stays no payload")
		assert.Equal(t, second, mustGetJob(t, s, shop, second.ID))

		assert.Equal(t, []ports.JobID{first.ID, second.ID}, jobIDs(listJobs(t, s, shop, "", 0)), "oldest first")
		assert.Equal(t, []ports.JobID{first.ID}, jobIDs(listJobs(t, s, shop, ports.JobQueued, 1)), "limit")
		assert.Empty(t, listJobs(t, s, shop, ports.JobDone, 0), "state filter")

		tests := []struct {
			name string
			do   func(ctx context.Context, r ports.JobRepo) error
			want error
		}{
			{"get unknown", func(ctx context.Context, r ports.JobRepo) error { _, err := r.Get(ctx, ports.NewJobID()); return err }, ports.ErrNotFound},
			{"list bad state", func(ctx context.Context, r ports.JobRepo) error { _, err := r.List(ctx, "lost", 0); return err }, ports.ErrInvalid},
			{"list negative limit", func(ctx context.Context, r ports.JobRepo) error { _, err := r.List(ctx, "", -1); return err }, ports.ErrInvalid},
			{"complete queued", func(ctx context.Context, r ports.JobRepo) error { return r.Complete(ctx, first.ID, 0) }, ports.ErrNotFound},
			{"fail queued", func(ctx context.Context, r ports.JobRepo) error {
				_, err := r.Fail(ctx, first.ID, 0, "x", time.Time{}, false)
				return err
			}, ports.ErrNotFound},
			{"retry queued", func(ctx context.Context, r ports.JobRepo) error {
				_, err := r.Retry(ctx, first.ID, time.Time{})
				return err
			}, ports.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := refusedInShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error { return tt.do(ctx, tx.Jobs()) })
				require.ErrorIs(t, err, tt.want)
			})
		}
		assert.Equal(t, first, mustGetJob(t, s, shop, first.ID), "refused calls changed nothing")
	})

	t.Run("ListCapsTheLimit", func(t *testing.T) {
		s := newStore(t)
		shop := seed(t, s, 1, 0).shops[0].ID
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			for range 101 {
				if _, err := tx.Jobs().Enqueue(ctx, ports.Job{ID: ports.NewJobID(), Kind: "bulk"}); err != nil {
					return err
				}
			}
			return nil
		})
		assert.Len(t, listJobs(t, s, shop, "", 0), 100, "limit 0 means 100")
		assert.Len(t, listJobs(t, s, shop, "", 5000), 101, "a large limit is capped, not refused")
	})

	t.Run("EnqueueRefusesBadInput", func(t *testing.T) {
		s := newStore(t)
		shop := seed(t, s, 1, 0).shops[0].ID
		tests := []struct {
			name string
			give func(*ports.Job)
			want error
		}{
			{"zero id", func(j *ports.Job) { j.ID = ports.JobID{} }, ports.ErrInvalid},
			{"empty kind", func(j *ports.Job) { j.Kind = "" }, ports.ErrInvalid},
			{"long kind", func(j *ports.Job) { j.Kind = strings.Repeat("k", 65) }, ports.ErrInvalid},
			{"negative max attempts", func(j *ports.Job) { j.MaxAttempts = -1 }, ports.ErrInvalid},
			{"too many attempts", func(j *ports.Job) { j.MaxAttempts = 1001 }, ports.ErrInvalid},
			{"payload not JSON", func(j *ports.Job) { j.Payload = json.RawMessage(`{"a":`) }, ports.ErrInvalid},
			{"payload too large", func(j *ports.Job) {
				j.Payload = json.RawMessage(`"` + strings.Repeat("x", 64<<10) + `"`)
			}, ports.ErrInvalid},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				give := newJob("x")
				tt.give(&give)
				err := refusedInShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.Jobs().Enqueue(ctx, give)
					return err
				})
				require.ErrorIs(t, err, tt.want)
			})
		}
		assert.Empty(t, listJobs(t, s, shop, "", 0), "nothing was written")

		taken := enqueue(t, s, shop, newJob("x"))
		err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Jobs().Enqueue(ctx, taken)
			return err
		})
		require.ErrorIs(t, err, ports.ErrConflict, "a taken ID")
		err = s.InShop(context.Background(), ports.NewShopID(), func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Jobs().Enqueue(ctx, newJob("x"))
			return err
		})
		require.ErrorIs(t, err, ports.ErrNotFound, "a shop that does not exist")
	})

	t.Run("EnqueueRollsBackWithItsUnitOfWork", func(t *testing.T) {
		s := newStore(t)
		shop := seed(t, s, 1, 0).shops[0].ID
		j := newJob("x")
		err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			if _, err := tx.Jobs().Enqueue(ctx, j); err != nil {
				return err
			}
			return ports.ErrConflict // the change that caused the job failed
		})
		require.ErrorIs(t, err, ports.ErrConflict)
		_, err = getJob(s, shop, j.ID)
		require.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("Queue", func(t *testing.T) { TestJobQueue(t, storeQueue(newStore)) })
}

func testClaimOrder(t *testing.T, newQueue JobQueueHarness) {
	s, q := newQueue(t)
	f := seed(t, s, 2, 0)
	shopA, shopB := f.shops[0].ID, f.shops[1].ID
	base := time.Now().Add(time.Hour).UTC()
	lease := time.Minute
	at := func(d time.Duration) ports.Job {
		j := newJob("order")
		j.RunAt = base.Add(d)
		return j
	}
	j1 := enqueue(t, s, shopA, at(-3*time.Minute))
	j3 := enqueue(t, s, shopA, at(-time.Minute))
	j2 := enqueue(t, s, shopB, at(-2*time.Minute))
	j4 := enqueue(t, s, shopB, at(time.Minute))

	got := claim(t, q, base, 2, lease)
	require.Equal(t, []ports.JobID{j1.ID, j2.ID}, jobIDs(got), "oldest RunAt first, across shops, at most limit")
	for i, want := range []ports.Job{j1, j2} {
		assert.Equal(t, want.ShopID, got[i].ShopID, "a claimed job carries its shop")
		assert.Equal(t, ports.JobRunning, got[i].State)
		assert.Equal(t, 1, got[i].Attempts)
		assert.Equal(t, ports.Timestamp(base.Add(lease)), got[i].LockedUntil)
		assert.Equal(t, want.RunAt, got[i].RunAt)
		assert.Equal(t, want.Kind, got[i].Kind)
		assert.JSONEq(t, string(want.Payload), string(got[i].Payload))
		assert.Equal(t, got[i], mustGetJob(t, s, want.ShopID, want.ID), "the claim is stored")
	}
	assert.Equal(t, []ports.JobID{j3.ID}, jobIDs(claim(t, q, base, 10, lease)), "j4 is not due yet; j1 and j2 are leased")
	assert.Empty(t, claim(t, q, base, 10, lease))

	later := claim(t, q, base.Add(lease), 10, lease)
	require.Equal(t, []ports.JobID{j1.ID, j2.ID, j3.ID, j4.ID}, jobIDs(later), "leases that ran out at now, and j4 now due, by RunAt")
	assert.Equal(t, []int{2, 2, 2, 1}, []int{later[0].Attempts, later[1].Attempts, later[2].Attempts, later[3].Attempts})

	for _, tt := range []struct {
		name  string
		limit int
		lease time.Duration
	}{{"zero limit", 0, lease}, {"huge limit", 1001, lease}, {"zero lease", 1, 0}, {"negative lease", 1, -time.Second}, {"lease over MaxLease", 1, ports.MaxLease + time.Microsecond}} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := q.Claim(context.Background(), base, tt.limit, tt.lease)
			require.ErrorIs(t, err, ports.ErrInvalid)
		})
	}
}

func testClaimLease(t *testing.T, newQueue JobQueueHarness) {
	s, q := newQueue(t)
	shop := seed(t, s, 1, 0).shops[0].ID
	base := time.Now().Add(time.Hour).UTC()
	lease := 30 * time.Second
	in := newJob("lease")
	in.MaxAttempts = 2
	j := enqueue(t, s, shop, in)

	first := claim(t, q, base, 10, lease)
	require.Len(t, first, 1)
	assert.Empty(t, claim(t, q, base.Add(lease-time.Microsecond), 10, lease), "still leased")
	second := claim(t, q, base.Add(lease), 10, lease)
	require.Len(t, second, 1, "the first worker's lease ran out: claimable again")
	assert.Equal(t, 2, second[0].Attempts)

	require.ErrorIs(t, completeJob(s, shop, j.ID, 1), ports.ErrNotFound, "the stale worker cannot complete the newer attempt")
	_, err := failJob(s, shop, j.ID, 1, "late", time.Time{}, false)
	require.ErrorIs(t, err, ports.ErrNotFound, "nor fail it")
	assert.Equal(t, second[0], mustGetJob(t, s, shop, j.ID), "the newer attempt is untouched")

	assert.Empty(t, claim(t, q, base.Add(3*lease), 10, lease), "the lease of the last attempt ran out: not handed out")
	dead := mustGetJob(t, s, shop, j.ID)
	assert.Equal(t, ports.JobDead, dead.State)
	assert.Equal(t, "lease expired", dead.LastError)
	assert.Equal(t, 2, dead.Attempts)
	assert.True(t, dead.LockedUntil.IsZero())
	require.ErrorIs(t, completeJob(s, shop, j.ID, 2), ports.ErrNotFound, "a dead job cannot be completed")

	retried, err := retryJob(s, shop, j.ID, base.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, ports.JobQueued, retried.State)
	assert.Zero(t, retried.Attempts, "a fresh attempt budget")
	assert.Equal(t, ports.Timestamp(base.Add(time.Minute)), retried.RunAt)
	assert.Empty(t, claim(t, q, base.Add(time.Minute-time.Microsecond), 10, lease), "not before runAt")
	again := claim(t, q, base.Add(time.Minute), 10, lease)
	require.Len(t, again, 1)
	assert.Equal(t, 1, again[0].Attempts)
}

func testJobOutcomes(t *testing.T, newQueue JobQueueHarness) {
	s, q := newQueue(t)
	shop := seed(t, s, 1, 0).shops[0].ID
	base := time.Now().Add(time.Hour).UTC()
	lease := time.Minute

	t.Run("FailRequeuesThenComplete", func(t *testing.T) {
		in := newJob("outcome")
		in.MaxAttempts = 3
		j := enqueue(t, s, shop, in)
		require.Len(t, claim(t, q, base, 10, lease), 1)
		failed, err := failJob(s, shop, j.ID, 1, "boom", base.Add(5*time.Minute), false)
		require.NoError(t, err)
		assert.Equal(t, ports.JobQueued, failed.State)
		assert.Equal(t, ports.Timestamp(base.Add(5*time.Minute)), failed.RunAt, "queued again for retryAt")
		assert.Equal(t, "boom", failed.LastError)
		assert.Equal(t, 1, failed.Attempts)
		assert.True(t, failed.LockedUntil.IsZero())
		assert.False(t, failed.UpdatedAt.Before(failed.CreatedAt))
		assert.Equal(t, failed, mustGetJob(t, s, shop, j.ID), "Fail returns the job as stored")

		assert.Empty(t, claim(t, q, base, 10, lease), "not due before retryAt")
		second := claim(t, q, base.Add(5*time.Minute), 10, lease)
		require.Len(t, second, 1)
		assert.Equal(t, 2, second[0].Attempts)
		require.NoError(t, completeJob(s, shop, j.ID, 2))
		done := mustGetJob(t, s, shop, j.ID)
		assert.Equal(t, ports.JobDone, done.State)
		assert.True(t, done.LockedUntil.IsZero())

		require.ErrorIs(t, completeJob(s, shop, j.ID, 2), ports.ErrNotFound, "completing twice")
		_, err = failJob(s, shop, j.ID, 2, "x", time.Time{}, false)
		require.ErrorIs(t, err, ports.ErrNotFound, "a done job cannot fail")
		_, err = retryJob(s, shop, j.ID, time.Time{})
		require.ErrorIs(t, err, ports.ErrNotFound, "only a dead job is retried")
		assert.Empty(t, claim(t, q, base.Add(time.Hour), 10, lease), "a done job is never claimed")
	})

	t.Run("DeadWhenAskedOrOutOfAttempts", func(t *testing.T) {
		asked := enqueue(t, s, shop, newJob("outcome"))
		once := newJob("outcome")
		once.MaxAttempts = 1
		last := enqueue(t, s, shop, once)
		require.Len(t, claim(t, q, base, 10, lease), 2)

		dead, err := failJob(s, shop, asked.ID, 1, "no handler", base.Add(time.Minute), true)
		require.NoError(t, err)
		assert.Equal(t, ports.JobDead, dead.State, "dead when the caller says so")
		assert.Equal(t, asked.RunAt, dead.RunAt, "a dead job keeps its RunAt")
		out, err := failJob(s, shop, last.ID, 1, "boom", base.Add(time.Minute), false)
		require.NoError(t, err)
		assert.Equal(t, ports.JobDead, out.State, "dead after its last attempt")
		assert.ElementsMatch(t, []ports.JobID{asked.ID, last.ID}, jobIDs(listJobs(t, s, shop, ports.JobDead, 0)))
		assert.Empty(t, claim(t, q, base.Add(time.Hour), 10, lease), "dead jobs are never claimed")

		before := time.Now().Add(-time.Minute)
		retried, err := retryJob(s, shop, asked.ID, time.Time{})
		require.NoError(t, err)
		assert.True(t, retried.RunAt.After(before), "a zero runAt is now")
		assert.Equal(t, []ports.JobID{asked.ID}, jobIDs(claim(t, q, base, 10, lease)))
	})

	t.Run("ReasonsAreKeptStorable", func(t *testing.T) {
		j := enqueue(t, s, shop, newJob("outcome"))
		require.Len(t, claim(t, q, base, 10, lease), 1)
		reason := "nul\x00 bad\xff " + strings.Repeat("é", 1000)
		before := time.Now().Add(-time.Minute)
		failed, err := failJob(s, shop, j.ID, 1, reason, time.Time{}, false)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(failed.LastError), 1000, "truncated to 1000 bytes")
		assert.Greater(t, len(failed.LastError), 990)
		assert.True(t, utf8.ValidString(failed.LastError), "cut on a rune boundary, invalid bytes replaced")
		assert.True(t, strings.HasPrefix(failed.LastError, "nul"))
		assert.NotContains(t, failed.LastError, "\x00")
		assert.True(t, failed.RunAt.After(before), "a zero retryAt is now")
	})
}

// testConcurrentClaims races claimers over one backlog: every job is handed
// out exactly once.
func testConcurrentClaims(t *testing.T, newQueue JobQueueHarness) {
	s, q := newQueue(t)
	f := seed(t, s, 3, 0)
	const perShop = 40
	want := map[ports.JobID]bool{}
	for _, sh := range f.shops {
		inShop(t, s, sh.ID, func(ctx context.Context, tx ports.ShopTx) error {
			for range perShop {
				j, err := tx.Jobs().Enqueue(ctx, ports.Job{ID: ports.NewJobID(), Kind: "race"})
				if err != nil {
					return err
				}
				want[j.ID] = true
			}
			return nil
		})
	}
	now := time.Now().Add(time.Hour)
	const claimers = 8
	start := make(chan struct{})
	got := make([][]ports.Job, claimers)
	errs := make([]error, claimers)
	var wg sync.WaitGroup
	for i := range claimers {
		wg.Go(func() {
			<-start
			for {
				js, err := q.Claim(context.Background(), now, 3, time.Hour)
				if err != nil || len(js) == 0 {
					errs[i] = err
					return
				}
				got[i] = append(got[i], js...)
			}
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	// A claimer that found every remaining row locked by others stops
	// early; a last sweep collects whatever is left.
	all := claim(t, q, now, 1000, time.Hour)
	for _, js := range got {
		all = append(all, js...)
	}
	seen := map[ports.JobID]int{}
	for _, j := range all {
		seen[j.ID]++
		assert.Equal(t, 1, j.Attempts, "job %s was claimed again", j.ID)
	}
	for id, n := range seen {
		assert.Equal(t, 1, n, "job %s handed out %d times", id, n)
	}
	assert.Len(t, seen, len(want))
	for id := range want {
		assert.Contains(t, seen, id)
	}
}

// testJobTenantBoundary attacks shop A's jobs from shop B's unit of work:
// every method answers ErrNotFound (or sees nothing) and A's jobs are
// untouched.
func testJobTenantBoundary(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 2, 0)
	shopA, shopB := f.shops[0].ID, f.shops[1].ID
	base := time.Now().Add(time.Hour).UTC()
	running := enqueue(t, s, shopA, newJob("secret"))
	deadIn := newJob("secret")
	deadIn.RunAt = base.Add(-time.Second) // claimed first
	dead := enqueue(t, s, shopA, deadIn)
	if q, ok := s.(ports.JobQueue); ok {
		require.Len(t, claim(t, q, base, 10, time.Hour), 2)
		_, err := failJob(s, shopA, dead.ID, 1, "gone", time.Time{}, true)
		require.NoError(t, err)
	}
	wantRunning, wantDead := mustGetJob(t, s, shopA, running.ID), mustGetJob(t, s, shopA, dead.ID)

	tests := []struct {
		name string
		do   func(ctx context.Context, r ports.JobRepo) error
	}{
		{"Get", func(ctx context.Context, r ports.JobRepo) error { _, err := r.Get(ctx, running.ID); return err }},
		{"Complete", func(ctx context.Context, r ports.JobRepo) error { return r.Complete(ctx, running.ID, 1) }},
		{"Fail", func(ctx context.Context, r ports.JobRepo) error {
			_, err := r.Fail(ctx, running.ID, 1, "forged", time.Time{}, true)
			return err
		}},
		{"Retry", func(ctx context.Context, r ports.JobRepo) error {
			_, err := r.Retry(ctx, dead.ID, time.Time{})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.InShop(context.Background(), shopB, func(ctx context.Context, tx ports.ShopTx) error {
				return tt.do(ctx, tx.Jobs())
			})
			require.ErrorIs(t, err, ports.ErrNotFound)
		})
	}
	assert.Empty(t, listJobs(t, s, shopB, "", 0), "B lists none of A's jobs")
	assert.Equal(t, wantRunning, mustGetJob(t, s, shopA, running.ID), "A's running job is untouched")
	assert.Equal(t, wantDead, mustGetJob(t, s, shopA, dead.ID), "A's dead job is untouched")

	t.Run("SameIDInAnotherShopIsAnotherRow", func(t *testing.T) {
		twin := newJob("twin")
		twin.ID = running.ID
		got := enqueue(t, s, shopB, twin)
		assert.Equal(t, shopB, got.ShopID)
		assert.Equal(t, wantRunning, mustGetJob(t, s, shopA, running.ID))
	})
}
