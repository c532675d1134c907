package jobs_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// fakeStore is an in-memory ports.Store and ports.JobQueue holding jobs
// only. Each repository call applies at once under the lock and logs how
// to undo itself; a unit of work that fails runs its undo log, so
// concurrent units of work on different jobs behave like transactions.
type fakeStore struct {
	mu     sync.Mutex
	clock  ports.Clock
	jobs   map[ports.JobID]ports.Job
	claims int
	// completeAlls counts JobRepo.CompleteAll calls, rolled back or not.
	completeAlls int
}

var (
	_ ports.Store    = (*fakeStore)(nil)
	_ ports.JobQueue = (*fakeStore)(nil)
)

func newFakeStore(clock ports.Clock) *fakeStore {
	return &fakeStore{clock: clock, jobs: map[ports.JobID]ports.Job{}}
}

func (s *fakeStore) InShop(ctx context.Context, shop ports.ShopID, fn func(context.Context, ports.ShopTx) error, _ ...ports.TxOption) (err error) {
	ctx, err = ports.EnterUnitOfWork(ctx)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tx := &fakeTx{s: s, shop: shop}
	done := false
	defer func() {
		if !done {
			tx.rollback()
		}
	}()
	if err := fn(ctx, tx); err != nil {
		return err
	}
	done = true
	return nil
}

func (s *fakeStore) Global(context.Context, func(context.Context, ports.GlobalTx) error, ...ports.TxOption) error {
	return ports.ErrUnsupported
}
func (s *fakeStore) Ping(context.Context) error { return nil }
func (s *fakeStore) Close() error               { return nil }

func (s *fakeStore) Claim(_ context.Context, now time.Time, limit int, lease time.Duration) ([]ports.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.claims++
	var due []ports.Job
	for id, j := range s.jobs {
		switch {
		case j.State == ports.JobRunning && !j.LockedUntil.After(now) && j.Attempts >= j.MaxAttempts:
			j.State, j.LockedUntil, j.LastError = ports.JobDead, time.Time{}, "lease expired"
			s.jobs[id] = j
		case j.State == ports.JobQueued && !j.RunAt.After(now), j.State == ports.JobRunning && !j.LockedUntil.After(now):
			due = append(due, j)
		}
	}
	// The stores' order: run_at, then id (time-ordered UUIDv7, so
	// enqueue order within one run_at).
	slices.SortFunc(due, func(a, b ports.Job) int {
		if c := a.RunAt.Compare(b.RunAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID.String(), b.ID.String())
	})
	due = due[:min(limit, len(due))]
	for i := range due {
		due[i].State, due[i].Attempts, due[i].LockedUntil = ports.JobRunning, due[i].Attempts+1, now.Add(lease)
		s.jobs[due[i].ID] = due[i]
	}
	return due, nil
}

func (s *fakeStore) get(id ports.JobID) ports.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jobs[id]
}

func (s *fakeStore) inState(state ports.JobState) []ports.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ports.Job
	for _, j := range s.jobs {
		if j.State == state {
			out = append(out, j)
		}
	}
	return out
}

type fakeTx struct {
	ports.ShopTx // nil: only Jobs and ShopID are faked
	s            *fakeStore
	shop         ports.ShopID
	undo         []func()
}

func (t *fakeTx) ShopID() ports.ShopID { return t.shop }
func (t *fakeTx) Jobs() ports.JobRepo  { return fakeJobs{t} }

// set stores j and logs how to put back what was there. Call with the
// lock held.
func (t *fakeTx) set(j ports.Job) {
	old, had := t.s.jobs[j.ID]
	t.undo = append(t.undo, func() {
		if had {
			t.s.jobs[j.ID] = old
		} else {
			delete(t.s.jobs, j.ID)
		}
	})
	t.s.jobs[j.ID] = j
}

func (t *fakeTx) rollback() {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i]()
	}
}

type fakeJobs struct{ t *fakeTx }

func (r fakeJobs) find(id ports.JobID, state ports.JobState, attempt int) (ports.Job, bool) {
	j, ok := r.t.s.jobs[id]
	return j, ok && j.ShopID == r.t.shop && j.State == state && (attempt < 0 || j.Attempts == attempt)
}

func (r fakeJobs) Enqueue(_ context.Context, j ports.Job) (ports.Job, error) {
	if err := j.Validate(); err != nil {
		return ports.Job{}, err
	}
	r.t.s.mu.Lock()
	defer r.t.s.mu.Unlock()
	if _, taken := r.t.s.jobs[j.ID]; taken {
		return ports.Job{}, ports.ErrConflict
	}
	now := r.t.s.clock.Now()
	j.ShopID, j.State, j.Attempts, j.LockedUntil, j.LastError, j.CreatedAt, j.UpdatedAt = r.t.shop, ports.JobQueued, 0, time.Time{}, "", now, now
	if j.MaxAttempts == 0 {
		j.MaxAttempts = ports.DefaultMaxAttempts
	}
	if j.RunAt.IsZero() {
		j.RunAt = now
	}
	r.t.set(j)
	return j, nil
}

func (r fakeJobs) Get(_ context.Context, id ports.JobID) (ports.Job, error) {
	r.t.s.mu.Lock()
	defer r.t.s.mu.Unlock()
	j, ok := r.t.s.jobs[id]
	if !ok || j.ShopID != r.t.shop {
		return ports.Job{}, ports.ErrNotFound
	}
	return j, nil
}

func (r fakeJobs) List(context.Context, ports.JobState, int) ([]ports.Job, error) {
	return nil, ports.ErrUnsupported
}

func (r fakeJobs) Complete(_ context.Context, id ports.JobID, attempt int) error {
	r.t.s.mu.Lock()
	defer r.t.s.mu.Unlock()
	j, ok := r.find(id, ports.JobRunning, attempt)
	if !ok {
		return ports.ErrNotFound
	}
	j.State, j.LockedUntil = ports.JobDone, time.Time{}
	r.t.set(j)
	return nil
}

// CompleteAll completes each attempt that is its job's running one and
// counts the call (completeAlls), so tests can tell a shared unit of
// work's one statement from per-job completions.
func (r fakeJobs) CompleteAll(_ context.Context, attempts []ports.JobAttempt) ([]ports.JobID, error) {
	r.t.s.mu.Lock()
	defer r.t.s.mu.Unlock()
	r.t.s.completeAlls++
	var done []ports.JobID
	for _, a := range attempts {
		j, ok := r.find(a.ID, ports.JobRunning, a.Attempt)
		if !ok {
			continue
		}
		j.State, j.LockedUntil = ports.JobDone, time.Time{}
		r.t.set(j)
		done = append(done, a.ID)
	}
	return done, nil
}

func (r fakeJobs) Fail(_ context.Context, id ports.JobID, attempt int, reason string, retryAt time.Time, dead bool) (ports.Job, error) {
	r.t.s.mu.Lock()
	defer r.t.s.mu.Unlock()
	j, ok := r.find(id, ports.JobRunning, attempt)
	if !ok {
		return ports.Job{}, ports.ErrNotFound
	}
	j.LockedUntil, j.LastError = time.Time{}, reason
	if dead || j.Attempts >= j.MaxAttempts {
		j.State = ports.JobDead
	} else {
		j.State, j.RunAt = ports.JobQueued, retryAt
	}
	r.t.set(j)
	return j, nil
}

func (r fakeJobs) Retry(_ context.Context, id ports.JobID, runAt time.Time) (ports.Job, error) {
	r.t.s.mu.Lock()
	defer r.t.s.mu.Unlock()
	j, ok := r.find(id, ports.JobDead, -1)
	if !ok {
		return ports.Job{}, ports.ErrNotFound
	}
	j.State, j.Attempts, j.RunAt = ports.JobQueued, 0, runAt
	r.t.set(j)
	return j, nil
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (r fakeJobs) DeleteDone(context.Context, time.Time) (int, error) {
	return 0, ports.ErrUnsupported
}
