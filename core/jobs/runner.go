// Package jobs runs background jobs (TEN-8) with tenant-scoped helpers: a
// job carries its shop, and its handler runs inside that shop's unit of
// work, under the same boundary as a request (row-level security on
// PostgreSQL, the bound shop predicate on SQLite).
//
// The runner claims due jobs of every shop through ports.JobQueue, the one
// cross-shop path, and does nothing else across shops: each job's work and
// its bookkeeping run in ports.Store.InShop of the job's shop. The handler's
// writes and the job's completion commit together; a failed attempt rolls
// the handler's writes back and is recorded in a second unit of work, with
// exponential back-off and jitter, until the job's attempts are used up
// and it is dead (a dead letter, put back with JobRepo.Retry).
//
// Delivery is at least once: a runner that dies mid-job leaves the job
// running until its lease runs out, and the next claim hands it out again.
// Handlers must be idempotent, or make their effects part of the unit of
// work (which commits only with the completion of the current attempt).
//
// Jobs of one shop claimed in the same batch whose kinds were registered
// with Handle share one unit of work: their handlers run one after another
// in it and their completions are one statement (ports.JobRepo.CompleteAll),
// so a batch of small jobs costs a few round trips per shop rather than a
// transaction per job. A failure must not roll back its batch-mates'
// work, and a transaction cannot be partly committed, so the shared unit
// of work is tried once: when a handler in it fails (or a completion is
// refused), it rolls back and every job of it runs again in a unit of
// work of its own, the failing one included unless it ran first (then its
// failure was its own and is recorded at once). A handler may thus run
// twice in one attempt, the first run rolled back: within the contract
// above. A kind registered with HandleAlone always gets a unit of work of
// its own.
//
// A kind registered with HandleOutside instead runs its OutsideHandler with
// no unit of work open, and the completion is recorded afterwards in a
// unit of work of its own: for work that waits on the outside world (an
// HTTP call, say) and must not hold a transaction, and on SQLite the
// database's one write lock, while it waits.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// Handler does one job's work inside the job's shop's unit of work: tx is
// bound to job.ShopID, and ctx is done when the job's lease is about to run
// out or the runner stops. A nil return completes the job in the same
// transaction; an error (or a panic) rolls tx back and schedules a retry,
// or makes the job dead when it is Permanent or its attempts are used up.
//
// Registered with Handle, the unit of work may be shared with other jobs
// of the same shop and batch (see the package documentation): tx then
// holds their work too, a failure rolls theirs back with it (they run
// again, alone), and a handler may run again in the same attempt after a
// batch-mate's failure. Registered with HandleAlone, it never is.
type Handler func(ctx context.Context, tx ports.ShopTx, job ports.Job) error

// OutsideHandler does one job's work outside any unit of work: ctx is not
// inside one (the handler opens its own, for instance a short read-only
// ports.Store.InShop of job.ShopID, and must not keep one open while it
// waits), and is done when the job's lease is about to run out or the
// runner stops. A nil return completes the job in a unit of work of its
// own, opened after the handler returned; an error (or a panic) schedules
// a retry, or makes the job dead when it is Permanent or its attempts are
// used up.
//
// Nothing an OutsideHandler does is rolled back: not when it fails, not
// when its completion is refused because its lease ran out meanwhile (the
// job is then another attempt's), and not when the runner dies before the
// completion is recorded. Its effects happen at least once per attempt that
// gets that far, so it suits idempotent side effects, such as a webhook
// delivery whose receivers drop duplicates by a stable message ID.
type OutsideHandler func(ctx context.Context, job ports.Job) error

// Deps are the ports the runner uses.
type Deps struct {
	Store  ports.Store    // required: the jobs' work and bookkeeping
	Queue  ports.JobQueue // required: the cross-shop claim
	Clock  ports.Clock    // default ports.SystemClock; dates claims and retries
	Logger *slog.Logger   // default discards
	// Observer, when set, is told how each attempt ended (for metrics).
	Observer Observer
}

// Outcome is how one attempt of a job ended.
type Outcome string

// The outcomes an Observer is told.
const (
	// OutcomeDone: the handler succeeded and the job completed.
	OutcomeDone Outcome = "done"
	// OutcomeRetry: the attempt failed and the job will run again.
	OutcomeRetry Outcome = "retry"
	// OutcomeDead: the attempt failed and the job is dead (permanent
	// error, no handler, or attempts used up).
	OutcomeDead Outcome = "dead"
	// OutcomeLost: the lease ran out first; another runner holds the job
	// and this attempt's outcome was not recorded.
	OutcomeLost Outcome = "lost"
)

// UnregisteredKind is the kind an Observer is told for a job whose kind
// has no handler in this runner, so that a kind written by anyone never
// becomes an observed label value.
const UnregisteredKind = "unregistered"

// Observer is told the end of every attempt a Runner makes: the job's kind
// (a kind registered with Handle or HandleOutside, or UnregisteredKind), its Outcome and
// how long the attempt took from its start to its outcome. It is called
// from the runner's goroutines, concurrently, after the outcome's unit of
// work has ended; it must be quick and must not block. An attempt whose
// failure could not be recorded (the store failed) is told as OutcomeRetry:
// its lease runs out and it is claimed again.
type Observer interface {
	JobEnded(kind string, outcome Outcome, took time.Duration)
}

// Config tunes the runner. The zero value is usable.
type Config struct {
	// Concurrency is how many units of work run at once, each a job or a
	// shop's shared batch of jobs (default 1: SQLite has one writer, and
	// each unit of work is a write transaction).
	Concurrency int
	// BatchSize is how many jobs one claim takes, 1 to 1000 (default 10 ×
	// Concurrency, at most 1000). Jobs of a batch wait for a free slot
	// under the same lease, so Lease must cover BatchSize / Concurrency
	// runs of the slowest handler.
	BatchSize int
	// PollInterval is the pause after a round that did not fill its batch
	// (default 1s). A full batch is followed by the next claim at once.
	PollInterval time.Duration
	// Lease is how long a claimed batch is this runner's (default 5m, 1s
	// to ports.MaxLease). Handlers' contexts end at 90% of it, leaving time
	// to record the outcome before another runner may claim the job again.
	Lease time.Duration
	// Backoff is the delay before the retry that follows failed attempt
	// number attempt (1-based). Default: ExponentialBackoff(time.Second,
	// time.Hour).
	Backoff func(attempt int) time.Duration
}

func (c Config) withDefaults() (Config, error) {
	if c.Concurrency == 0 {
		c.Concurrency = 1
	}
	if c.BatchSize == 0 {
		c.BatchSize = min(10*c.Concurrency, 1000)
	}
	if c.PollInterval == 0 {
		c.PollInterval = time.Second
	}
	if c.Lease == 0 {
		c.Lease = 5 * time.Minute
	}
	if c.Backoff == nil {
		c.Backoff = ExponentialBackoff(time.Second, time.Hour)
	}
	switch {
	case c.Concurrency < 1:
		return c, ports.Invalid("jobs concurrency", "must be at least 1")
	case c.BatchSize < 1 || c.BatchSize > 1000:
		return c, ports.Invalid("jobs batch size", "must be 1 to 1000")
	case c.PollInterval < 0:
		return c, ports.Invalid("jobs poll interval", "must be positive")
	case c.Lease < time.Second || c.Lease > ports.MaxLease:
		return c, ports.Invalid("jobs lease", "must be 1s to 24h")
	}
	return c, nil
}

// Runner claims due jobs and runs their handlers. Handle and HandleOutside
// register the handlers before Run or RunOnce; both are safe for concurrent use, and
// several runners (in one process or many) may share a queue.
type Runner struct {
	store ports.Store
	queue ports.JobQueue
	clock ports.Clock
	log   *slog.Logger
	obs   Observer
	cfg   Config
	wake  chan struct{}

	mu       sync.RWMutex
	handlers map[string]registration
}

// registration is a kind's handler: exactly one of inside (Handle,
// HandleAlone) and outside (HandleOutside) is set; alone marks an inside
// handler that never shares its unit of work (HandleAlone).
type registration struct {
	inside  Handler
	outside OutsideHandler
	alone   bool
}

// shares reports whether jobs of this registration may share a unit of
// work with their batch-mates.
func (g registration) shares() bool { return g.inside != nil && !g.alone }

// New returns a Runner. It returns an error matching ports.ErrInvalid when
// a required dependency is missing or cfg is out of range.
func New(d Deps, cfg Config) (*Runner, error) {
	if d.Store == nil || d.Queue == nil {
		return nil, ports.Invalid("jobs deps", "store and queue are required")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &Runner{store: d.Store, queue: d.Queue, clock: d.Clock, log: d.Logger, obs: d.Observer, cfg: cfg,
		wake: make(chan struct{}, 1), handlers: map[string]registration{}}
	if r.clock == nil {
		r.clock = ports.SystemClock{}
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r, nil
}

// Handle registers fn for jobs of kind. Jobs of kind may share a unit of
// work with jobs of the same shop claimed in the same batch (see the
// package documentation). Like http.ServeMux.Handle it panics on a
// programming error: an empty or over-long kind, a nil fn, or a kind
// registered twice.
func (r *Runner) Handle(kind string, fn Handler) {
	r.register("Handle", kind, registration{inside: fn}, fn == nil)
}

// HandleAlone registers fn for jobs of kind like Handle, but each job of
// kind runs in a unit of work of its own, never shared with its
// batch-mates: for a handler that holds its transaction long (it would
// hold its batch-mates' completions and locks with it), or whose work
// must not run twice in one attempt. It panics as Handle does.
func (r *Runner) HandleAlone(kind string, fn Handler) {
	r.register("HandleAlone", kind, registration{inside: fn, alone: true}, fn == nil)
}

// HandleOutside registers fn for jobs of kind, to run outside any unit of
// work (see OutsideHandler). Handle and HandleOutside share one namespace
// of kinds, and HandleOutside panics exactly as Handle does: on an empty
// or over-long kind, a nil fn, or a kind registered twice (in either
// form).
func (r *Runner) HandleOutside(kind string, fn OutsideHandler) {
	r.register("HandleOutside", kind, registration{outside: fn}, fn == nil)
}

// register adds reg for kind, or panics naming the method called.
func (r *Runner) register(method, kind string, reg registration, nilFn bool) {
	if kind == "" || len(kind) > 64 || nilFn {
		panic(fmt.Sprintf("jobs: %s(%q): want a kind of 1 to 64 bytes and a non-nil handler", method, kind))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.handlers[kind]; dup {
		panic(fmt.Sprintf("jobs: %s(%q): kind registered twice", method, kind))
	}
	r.handlers[kind] = reg
}

// handler returns kind's registration, and whether there is one.
func (r *Runner) handler(kind string) (registration, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	reg, ok := r.handlers[kind]
	return reg, ok
}

// Wake makes a waiting Run claim at once instead of at the end of its poll
// interval (for example right after enqueuing in this process). It never
// blocks.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run claims and runs jobs until ctx is done, then returns nil once the
// jobs in hand have ended: their handlers see ctx done, and their
// attempts are recorded as failed, to run again at once (on another runner
// or after a restart). A round that fails (the store is unreachable) is
// logged and retried after the poll interval.
func (r *Runner) Run(ctx context.Context) error {
	Poll(ctx, r.RunOnce, r.cfg.BatchSize, r.cfg.PollInterval, r.wake, func(err error) {
		r.log.ErrorContext(ctx, "background jobs: round failed", "error", err)
	})
	return nil
}

// RunOnce claims one batch, runs it with up to Concurrency units of work
// at once, and returns how many jobs it claimed. The jobs of one shop
// whose kinds share (Handle) run in shared units of work: one per shop,
// or, when the batch has fewer such shops than Concurrency, up to
// Concurrency per batch split evenly over them; every other job runs in
// its own. Handler failures are the jobs' (recorded on them), not
// RunOnce's: its error reports a failed claim or an outcome that could
// not be recorded.
func (r *Runner) RunOnce(ctx context.Context) (int, error) {
	if ctx.Err() != nil {
		return 0, context.Cause(ctx)
	}
	claimed, err := r.queue.Claim(ctx, r.clock.Now(), r.cfg.BatchSize, r.cfg.Lease)
	if err != nil {
		return 0, fmt.Errorf("jobs: claim: %w", err)
	}
	// Handlers must be done before the lease runs out, with a tenth of it
	// left to record the outcome.
	deadline := time.Now().Add(r.cfg.Lease - r.cfg.Lease/10)
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, r.cfg.Concurrency)
	)
	for _, unit := range r.plan(claimed) {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := r.runShared(ctx, unit, deadline); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return len(claimed), errors.Join(errs...)
}

// plan splits a claimed batch into units of work: the sharing jobs of one
// shop are one unit, or, when fewer shops than Concurrency have such jobs,
// ceil(Concurrency / shops) units of about equal size, so that a batch of
// one shop still runs Concurrency units at once; then every job whose kind
// does not share (HandleOutside, HandleAlone, no handler) is a unit of its
// own. Shops, and jobs within a unit, keep their claim order.
func (r *Runner) plan(claimed []ports.Job) [][]ports.Job {
	var alone [][]ports.Job
	index := map[ports.ShopID]int{}
	var shared [][]ports.Job
	for _, job := range claimed {
		reg, ok := r.handler(job.Kind)
		if !ok || !reg.shares() {
			alone = append(alone, []ports.Job{job})
			continue
		}
		i, seen := index[job.ShopID]
		if !seen {
			i = len(shared)
			index[job.ShopID] = i
			shared = append(shared, nil)
		}
		shared[i] = append(shared[i], job)
	}
	if len(shared) == 0 {
		return alone
	}
	parts := (r.cfg.Concurrency + len(shared) - 1) / len(shared)
	out := make([][]ports.Job, 0, len(alone)+len(shared)*parts)
	for _, jobs := range shared {
		size := (len(jobs) + parts - 1) / parts
		for len(jobs) > 0 {
			n := min(size, len(jobs))
			out = append(out, jobs[:n:n])
			jobs = jobs[n:]
		}
	}
	return append(out, alone...)
}

// errCompletionRefused rolls a shared unit of work back when CompleteAll
// left a job out: that job's attempt is no longer current.
var errCompletionRefused = errors.New("jobs: a completion of the shared unit of work was refused")

// runShared runs unit, jobs of one shop, in one unit of work: their
// handlers one after another, then one CompleteAll. A unit of one job is
// run, as a job alone is. When a handler fails or a completion is
// refused, the unit of work rolls back and its jobs run again alone
// (run), but for a failure of the first job's handler, which was the
// first work in the transaction and so its own: that is recorded at once
// (fail), and a job whose completion was refused, whose attempt is
// another runner's (lost).
func (r *Runner) runShared(ctx context.Context, unit []ports.Job, deadline time.Time) error {
	if len(unit) == 1 || ctx.Err() != nil { // stopping: run hands each back
		var errs []error
		for _, job := range unit {
			errs = append(errs, r.run(ctx, job, deadline))
		}
		return errors.Join(errs...)
	}
	started := time.Now()
	hctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var (
		failed  = -1 // the index of the job whose handler failed
		cause   error
		refused map[ports.JobID]bool
	)
	err := r.store.InShop(hctx, unit[0].ShopID, func(ctx context.Context, tx ports.ShopTx) error {
		failed, cause, refused = -1, nil, nil
		attempts := make([]ports.JobAttempt, len(unit))
		for i, job := range unit {
			reg, _ := r.handler(job.Kind)
			if err := callInside(ctx, reg.inside, tx, job); err != nil {
				failed, cause = i, err
				return err
			}
			attempts[i] = ports.JobAttempt{ID: job.ID, Attempt: job.Attempts}
		}
		done, err := tx.Jobs().CompleteAll(ctx, attempts)
		if err != nil {
			return err
		}
		if len(done) == len(unit) {
			return nil
		}
		refused = make(map[ports.JobID]bool, len(unit)-len(done))
		for _, a := range attempts {
			refused[a.ID] = true
		}
		for _, id := range done {
			delete(refused, id)
		}
		return errCompletionRefused
	})
	if err == nil {
		for _, job := range unit {
			r.observe(job.Kind, true, OutcomeDone, started)
			if r.log.Enabled(ctx, slog.LevelDebug) {
				r.logFor(job).DebugContext(ctx, "background job done", "took", time.Since(started))
			}
		}
		return nil
	}
	var errs []error
	for i, job := range unit {
		switch {
		case refused[job.ID]:
			r.observe(job.Kind, true, OutcomeLost, started)
			r.logFor(job).WarnContext(ctx, "background job ran past its lease; its work was rolled back", "took", time.Since(started))
		case i == failed && i == 0:
			errs = append(errs, r.failed(ctx, r.logFor(job), job, started, cause))
		default:
			errs = append(errs, r.run(ctx, job, deadline))
		}
	}
	return errors.Join(errs...)
}

// callInside runs h for job in tx, a panic turned into an error.
func callInside(ctx context.Context, h Handler, tx ports.ShopTx, job ports.Job) (err error) {
	defer recoverPanic(&err)
	return h(ctx, tx, job)
}

// logFor is the runner's logger with job's fields.
func (r *Runner) logFor(job ports.Job) *slog.Logger {
	return r.log.With("job", job.ID.String(), "kind", job.Kind, "shop", job.ShopID.String(), "attempt", job.Attempts)
}

// errLeaseLost marks a completion refused because the attempt is no longer
// the job's current one.
type errLeaseLost struct{ err error }

func (e errLeaseLost) Error() string { return "lease lost: " + e.err.Error() }
func (e errLeaseLost) Unwrap() error { return e.err }

// run does one claimed job: a Handler and the completion in one unit of
// work of the job's shop, or an OutsideHandler with no unit of work open
// and then the completion in one; a failure is recorded in another unit of
// work.
func (r *Runner) run(ctx context.Context, job ports.Job, deadline time.Time) error {
	log := r.logFor(job)
	started := time.Now()
	reg, ok := r.handler(job.Kind)
	if !ok {
		return r.fail(ctx, log, job, started, Permanent(fmt.Errorf("no handler for job kind %q", job.Kind)))
	}
	if ctx.Err() != nil { // stopping: hand the job back unstarted
		return r.fail(ctx, log, job, started, fmt.Errorf("runner stopped before the job started: %w", context.Cause(ctx)))
	}
	hctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var err error
	if reg.outside != nil {
		err = r.runOutside(hctx, reg.outside, job)
	} else {
		err = r.runInside(hctx, reg.inside, job)
	}
	var lost errLeaseLost
	switch {
	case err == nil:
		r.observe(job.Kind, true, OutcomeDone, started)
		log.DebugContext(ctx, "background job done", "took", time.Since(started))
		return nil
	case errors.As(err, &lost) && reg.outside != nil:
		// Another runner holds the job now; what the handler did outside
		// stays done, and the job runs again under the newer attempt.
		r.observe(job.Kind, true, OutcomeLost, started)
		log.WarnContext(ctx, "background job ran past its lease; its outside effects were not rolled back", "took", time.Since(started))
		return nil
	case errors.As(err, &lost):
		// Another runner holds the job now; this attempt's work was rolled
		// back with the refused completion.
		r.observe(job.Kind, true, OutcomeLost, started)
		log.WarnContext(ctx, "background job ran past its lease; its work was rolled back", "took", time.Since(started))
		return nil
	}
	return r.failed(ctx, log, job, started, err)
}

// failed records the failure cause of the job's attempt (fail), logging
// the stack first when the handler panicked.
func (r *Runner) failed(ctx context.Context, log *slog.Logger, job ports.Job, started time.Time, cause error) error {
	var pe *panicError
	if errors.As(cause, &pe) {
		log.ErrorContext(ctx, "background job panicked", "panic", fmt.Sprint(pe.value), "stack", string(pe.stack))
	}
	return r.fail(ctx, log, job, started, cause)
}

// runInside runs h and the job's completion in one unit of work of the
// job's shop: the handler's writes commit with the completion, or not at
// all.
func (r *Runner) runInside(ctx context.Context, h Handler, job ports.Job) error {
	return r.store.InShop(ctx, job.ShopID, func(ctx context.Context, tx ports.ShopTx) error {
		if err := callInside(ctx, h, tx, job); err != nil {
			return err
		}
		return complete(ctx, tx, job)
	})
}

// runOutside runs fn with no unit of work open, then records the job's
// completion in a unit of work of the job's shop.
func (r *Runner) runOutside(ctx context.Context, fn OutsideHandler, job ports.Job) error {
	err := func() (err error) {
		defer recoverPanic(&err)
		return fn(ctx, job)
	}()
	if err != nil {
		return err
	}
	return r.store.InShop(ctx, job.ShopID, func(ctx context.Context, tx ports.ShopTx) error {
		return complete(ctx, tx, job)
	})
}

// complete records the job's current attempt as done in tx, or returns an
// errLeaseLost when the attempt is no longer the job's current one.
func complete(ctx context.Context, tx ports.ShopTx, job ports.Job) error {
	if err := tx.Jobs().Complete(ctx, job.ID, job.Attempts); err != nil {
		if errors.Is(err, ports.ErrNotFound) {
			return errLeaseLost{err}
		}
		return err
	}
	return nil
}

// recoverPanic, deferred, turns a panic into a *panicError in *err.
func recoverPanic(err *error) {
	if p := recover(); p != nil {
		*err = &panicError{value: p, stack: debug.Stack()}
	}
}

// observe tells the Observer, if any, how the attempt of a job of kind
// that started at started ended; registered is whether kind has a handler.
func (r *Runner) observe(kind string, registered bool, o Outcome, started time.Time) {
	if r.obs == nil {
		return
	}
	if !registered {
		kind = UnregisteredKind
	}
	r.obs.JobEnded(kind, o, time.Since(started))
}

// fail records a failed attempt in its own unit of work: a retry after the
// back-off (at once when the runner is stopping), or a dead job.
func (r *Runner) fail(ctx context.Context, log *slog.Logger, job ports.Job, started time.Time, cause error) error {
	dead := IsPermanent(cause)
	now := r.clock.Now()
	retryAt := now.Add(r.cfg.Backoff(job.Attempts))
	if ctx.Err() != nil {
		retryAt = now
	}
	// The outcome is recorded even when ctx is done (the runner is
	// stopping), within a bound of its own.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var out ports.Job
	err := r.store.InShop(rctx, job.ShopID, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Jobs().Fail(ctx, job.ID, job.Attempts, cause.Error(), retryAt, dead)
		return err
	})
	_, h := r.handler(job.Kind)
	switch {
	case errors.Is(err, ports.ErrNotFound):
		r.observe(job.Kind, h, OutcomeLost, started)
		log.WarnContext(ctx, "background job failed after its lease ran out; another runner holds it", "error", cause)
		return nil
	case err != nil:
		r.observe(job.Kind, h, OutcomeRetry, started)
		return fmt.Errorf("jobs: record failure of job %s: %w", job.ID, err)
	case out.State == ports.JobDead:
		r.observe(job.Kind, h, OutcomeDead, started)
		log.ErrorContext(ctx, "background job dead", "error", cause, "attempts", out.Attempts, "max_attempts", out.MaxAttempts)
	default:
		r.observe(job.Kind, h, OutcomeRetry, started)
		log.WarnContext(ctx, "background job failed; will retry", "error", cause, "retry_at", out.RunAt)
	}
	return nil
}

type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }
