package webhooks_test

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// fakeStore is an in-memory ports.Store and ports.JobQueue holding jobs,
// webhook endpoints and audit events. Each repository call applies at
// once under the lock and logs how to undo itself; a unit of work that
// fails runs its undo log, so it commits or rolls back as a whole. (Core
// tests may not import the real stores; app's tests run this service on
// them.)
type fakeStore struct {
	mu        sync.Mutex
	clock     ports.Clock
	jobs      map[ports.JobID]ports.Job
	endpoints map[ports.WebhookEndpointID]shopEndpoint
	audit     []ports.AuditEvent
	// readOnlyUnits counts the read-only units of work opened.
	readOnlyUnits int
}

type shopEndpoint struct {
	shop ports.ShopID
	e    ports.WebhookEndpoint
}

var (
	_ ports.Store    = (*fakeStore)(nil)
	_ ports.JobQueue = (*fakeStore)(nil)
)

func newFakeStore(clock ports.Clock) *fakeStore {
	return &fakeStore{clock: clock, jobs: map[ports.JobID]ports.Job{}, endpoints: map[ports.WebhookEndpointID]shopEndpoint{}}
}

func (s *fakeStore) InShop(ctx context.Context, shop ports.ShopID, fn func(context.Context, ports.ShopTx) error, opts ...ports.TxOption) error {
	ctx, err := ports.EnterUnitOfWork(ctx)
	if err != nil {
		return err
	}
	if ports.ApplyTxOptions(opts).ReadOnly {
		s.mu.Lock()
		s.readOnlyUnits++
		s.mu.Unlock()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tx := &fakeTx{s: s, shop: shop}
	if err := fn(ctx, tx); err != nil {
		tx.rollback()
		return err
	}
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
	var due []ports.Job
	for _, j := range s.jobs {
		if j.State == ports.JobQueued && !j.RunAt.After(now) {
			due = append(due, j)
		}
	}
	slices.SortFunc(due, func(a, b ports.Job) int { return a.RunAt.Compare(b.RunAt) })
	due = due[:min(limit, len(due))]
	for i := range due {
		due[i].State, due[i].Attempts, due[i].LockedUntil = ports.JobRunning, due[i].Attempts+1, now.Add(lease)
		s.jobs[due[i].ID] = due[i]
	}
	return due, nil
}

func (s *fakeStore) allJobs() []ports.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ports.Job
	for _, j := range s.jobs {
		out = append(out, j)
	}
	slices.SortFunc(out, func(a, b ports.Job) int { return bytes.Compare(a.ID.UUID[:], b.ID.UUID[:]) })
	return out
}

func (s *fakeStore) readOnly() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readOnlyUnits
}

func (s *fakeStore) auditEvents() []ports.AuditEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.audit)
}

type fakeTx struct {
	ports.ShopTx // nil: only what the service uses is faked
	s            *fakeStore
	shop         ports.ShopID
	undo         []func()
}

func (t *fakeTx) ShopID() ports.ShopID                        { return t.shop }
func (t *fakeTx) Jobs() ports.JobRepo                         { return fakeJobs{t} }
func (t *fakeTx) WebhookEndpoints() ports.WebhookEndpointRepo { return fakeEndpoints{t} }
func (t *fakeTx) Audit() ports.AuditRepo                      { return fakeAudit{t} }

func (t *fakeTx) rollback() {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i]()
	}
}

// setJob, setEndpoint and appendAudit change the store and log the undo;
// call them with the lock held.
func (t *fakeTx) setJob(j ports.Job) {
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

func (t *fakeTx) setEndpoint(id ports.WebhookEndpointID, e *ports.WebhookEndpoint) {
	old, had := t.s.endpoints[id]
	t.undo = append(t.undo, func() {
		if had {
			t.s.endpoints[id] = old
		} else {
			delete(t.s.endpoints, id)
		}
	})
	if e == nil {
		delete(t.s.endpoints, id)
	} else {
		t.s.endpoints[id] = shopEndpoint{t.shop, *e}
	}
}

type fakeAudit struct{ t *fakeTx }

func (r fakeAudit) Append(_ context.Context, e ports.AuditEvent) (ports.AuditEvent, error) {
	r.t.s.mu.Lock()
	defer r.t.s.mu.Unlock()
	e.ShopID = r.t.shop
	n := len(r.t.s.audit)
	r.t.undo = append(r.t.undo, func() { r.t.s.audit = r.t.s.audit[:n] })
	r.t.s.audit = append(r.t.s.audit, e)
	return e, nil
}
func (fakeAudit) List(context.Context, ports.AuditQuery) ([]ports.AuditEvent, error) {
	return nil, ports.ErrUnsupported
}
func (fakeAudit) Search(context.Context, ports.AuditFilter) ([]ports.AuditEvent, error) {
	return nil, ports.ErrUnsupported
}
func (fakeAudit) Unhashed(context.Context) (int64, error) { return 0, nil }

type fakeEndpoints struct{ t *fakeTx }

func (r fakeEndpoints) find(id ports.WebhookEndpointID) (ports.WebhookEndpoint, error) {
	se, ok := r.t.s.endpoints[id]
	if !ok || se.shop != r.t.shop {
		return ports.WebhookEndpoint{}, ports.ErrNotFound
	}
	return se.e, nil
}

func (r fakeEndpoints) Create(_ context.Context, e ports.WebhookEndpoint) (ports.WebhookEndpoint, error) {
	e.Events = ports.NormalizeWebhookEvents(e.Events)
	if err := e.Validate(); err != nil {
		return ports.WebhookEndpoint{}, err
	}
	r.t.s.mu.Lock()
	defer r.t.s.mu.Unlock()
	if _, taken := r.t.s.endpoints[e.ID]; taken {
		return ports.WebhookEndpoint{}, ports.ErrConflict
	}
	e.CreatedAt = r.t.s.clock.Now()
	e.UpdatedAt = e.CreatedAt
	r.t.setEndpoint(e.ID, &e)
	return e, nil
}

func (r fakeEndpoints) Get(_ context.Context, id ports.WebhookEndpointID) (ports.WebhookEndpoint, error) {
	r.t.s.mu.Lock()
	defer r.t.s.mu.Unlock()
	return r.find(id)
}

func (r fakeEndpoints) List(context.Context) ([]ports.WebhookEndpoint, error) {
	r.t.s.mu.Lock()
	defer r.t.s.mu.Unlock()
	var out []ports.WebhookEndpoint
	for _, se := range r.t.s.endpoints {
		if se.shop == r.t.shop {
			out = append(out, se.e)
		}
	}
	slices.SortFunc(out, func(a, b ports.WebhookEndpoint) int { return bytes.Compare(a.ID.UUID[:], b.ID.UUID[:]) })
	return out, nil
}

func (r fakeEndpoints) Update(context.Context, ports.WebhookEndpoint) (ports.WebhookEndpoint, error) {
	return ports.WebhookEndpoint{}, ports.ErrUnsupported
}

func (r fakeEndpoints) SetDisabled(_ context.Context, id ports.WebhookEndpointID, at time.Time) (ports.WebhookEndpoint, error) {
	r.t.s.mu.Lock()
	defer r.t.s.mu.Unlock()
	e, err := r.find(id)
	if err != nil {
		return ports.WebhookEndpoint{}, err
	}
	e.DisabledAt, e.UpdatedAt = at, r.t.s.clock.Now()
	r.t.setEndpoint(id, &e)
	return e, nil
}

func (r fakeEndpoints) Delete(_ context.Context, id ports.WebhookEndpointID) error {
	r.t.s.mu.Lock()
	defer r.t.s.mu.Unlock()
	if _, err := r.find(id); err != nil {
		return err
	}
	r.t.setEndpoint(id, nil)
	return nil
}

type fakeJobs struct{ t *fakeTx }

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
	j.ShopID, j.State, j.Attempts, j.CreatedAt, j.UpdatedAt = r.t.shop, ports.JobQueued, 0, now, now
	if j.MaxAttempts == 0 {
		j.MaxAttempts = ports.DefaultMaxAttempts
	}
	if j.RunAt.IsZero() {
		j.RunAt = now
	}
	r.t.setJob(j)
	return j, nil
}

func (r fakeJobs) running(id ports.JobID, attempt int) (ports.Job, bool) {
	j, ok := r.t.s.jobs[id]
	return j, ok && j.ShopID == r.t.shop && j.State == ports.JobRunning && j.Attempts == attempt
}

func (r fakeJobs) Complete(_ context.Context, id ports.JobID, attempt int) error {
	r.t.s.mu.Lock()
	defer r.t.s.mu.Unlock()
	j, ok := r.running(id, attempt)
	if !ok {
		return ports.ErrNotFound
	}
	j.State, j.LockedUntil = ports.JobDone, time.Time{}
	r.t.setJob(j)
	return nil
}

func (r fakeJobs) CompleteAll(ctx context.Context, attempts []ports.JobAttempt) ([]ports.JobID, error) {
	var done []ports.JobID
	for _, a := range attempts {
		if err := r.Complete(ctx, a.ID, a.Attempt); err == nil {
			done = append(done, a.ID)
		}
	}
	return done, nil
}

func (r fakeJobs) Fail(_ context.Context, id ports.JobID, attempt int, reason string, retryAt time.Time, dead bool) (ports.Job, error) {
	r.t.s.mu.Lock()
	defer r.t.s.mu.Unlock()
	j, ok := r.running(id, attempt)
	if !ok {
		return ports.Job{}, ports.ErrNotFound
	}
	j.LockedUntil, j.LastError = time.Time{}, reason
	if dead || j.Attempts >= j.MaxAttempts {
		j.State = ports.JobDead
	} else {
		j.State, j.RunAt = ports.JobQueued, retryAt
	}
	r.t.setJob(j)
	return j, nil
}

func (fakeJobs) Get(context.Context, ports.JobID) (ports.Job, error) {
	return ports.Job{}, ports.ErrUnsupported
}
func (fakeJobs) List(context.Context, ports.JobState, int) ([]ports.Job, error) {
	return nil, ports.ErrUnsupported
}
func (fakeJobs) Retry(context.Context, ports.JobID, time.Time) (ports.Job, error) {
	return ports.Job{}, ports.ErrUnsupported
}
func (fakeJobs) DeleteDone(context.Context, time.Time) (int, error) { return 0, ports.ErrUnsupported }

// fakeKeys seals a key as the shop's ID followed by the key XOR 0x5a:
// enough to prove the service stores no plain secret and opens it for the
// right shop only.
type fakeKeys struct{}

func (fakeKeys) WrapKey(_ context.Context, shop ports.ShopID, key []byte) ([]byte, error) {
	out := append([]byte(nil), shop.UUID[:]...)
	for _, b := range key {
		out = append(out, b^0x5a)
	}
	return out, nil
}

func (fakeKeys) UnwrapKey(_ context.Context, shop ports.ShopID, sealed []byte) ([]byte, error) {
	if len(sealed) < 16 || !bytes.Equal(sealed[:16], shop.UUID[:]) {
		return nil, ports.ErrInvalid
	}
	out := make([]byte, 0, len(sealed)-16)
	for _, b := range sealed[16:] {
		out = append(out, b^0x5a)
	}
	return out, nil
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
