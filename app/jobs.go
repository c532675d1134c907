package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.uber.org/fx"

	"github.com/stockadehq/stockade/core/jobs"
	"github.com/stockadehq/stockade/ports"
)

// JobParts are what NewJobRunner builds on.
type JobParts struct {
	Store ports.Store // required
	// Queue is the cross-shop claim; nil means Store, which must then
	// implement ports.JobQueue (the SQLite and Postgres stores do, and so
	// does the store StoreModule provides).
	Queue  ports.JobQueue
	Clock  ports.Clock
	Logger *slog.Logger
	// Observer, when set, is told each attempt's outcome (see
	// jobs.Observer; *Metrics is one).
	Observer jobs.Observer
}

// NewJobRunner builds the background job runner without fx. Register
// handlers with Handle, then call Run (or use JobsModule, which runs it
// between start and stop).
func NewJobRunner(p JobParts, cfg jobs.Config) (*jobs.Runner, error) {
	q := p.Queue
	if q == nil && p.Store != nil {
		var ok bool
		if q, ok = p.Store.(ports.JobQueue); !ok {
			return nil, ports.Invalid("job queue", fmt.Sprintf("the store (%T) has no job queue; pass one", p.Store))
		}
	}
	return jobs.New(jobs.Deps{Store: p.Store, Queue: q, Clock: p.Clock, Logger: p.Logger, Observer: p.Observer}, cfg)
}

// JobsModule provides the *jobs.Runner (see NewJobRunner) over the store
// and the slog logger, tuned by a jobs.Config when the graph has one
// (default: the zero Config, one job at a time). The claim is the graph's
// ports.JobQueue if it has one, else the store's. The runner is always
// built; register handlers with fx.Invoke(func(r *jobs.Runner) {
// r.Handle(…) }). It runs from OnStart, after the store has opened, and
// OnStop cancels it and waits for the jobs in hand to be handed back,
// before the store closes. A store without a job queue (a replacement that
// offers none) does not stop the app: background jobs are then off, and
// OnStart says so in the log. With a *Metrics in the graph, the attempts
// are counted.
func JobsModule() fx.Option {
	type params struct {
		fx.In
		Store     ports.Store
		Logger    *slog.Logger
		Lifecycle fx.Lifecycle
		Queue     ports.JobQueue `optional:"true"`
		Config    jobs.Config    `optional:"true"`
		Metrics   *Metrics       `optional:"true"`
	}
	return fx.Module("stockade.jobs",
		fx.Provide(func(p params) (*jobs.Runner, error) {
			log := p.Logger.With("component", "jobs")
			q := p.Queue
			if q == nil {
				q, _ = p.Store.(ports.JobQueue)
			}
			if q == nil {
				r, err := NewJobRunner(JobParts{Store: p.Store, Queue: noJobQueue{}, Logger: log}, p.Config)
				p.Lifecycle.Append(fx.StartHook(func() {
					log.Warn("background jobs are off: the store has no job queue (provide a ports.JobQueue)", "store", fmt.Sprintf("%T", p.Store))
				}))
				return r, err
			}
			parts := JobParts{Store: p.Store, Queue: q, Logger: log}
			if p.Metrics != nil { // never a typed nil in the interface
				parts.Observer = p.Metrics
			}
			r, err := NewJobRunner(parts, p.Config)
			if err != nil {
				return nil, err
			}
			loop := &jobLoop{run: r.Run, log: log}
			p.Lifecycle.Append(fx.StartStopHook(loop.start, loop.stop))
			return r, nil
		}),
		fx.Invoke(func(*jobs.Runner) {}),
	)
}

// noJobQueue is the claim of a graph without a job queue: the runner can
// be built and handlers registered, but nothing is ever claimed.
type noJobQueue struct{}

func (noJobQueue) Claim(context.Context, time.Time, int, time.Duration) ([]ports.Job, error) {
	return nil, fmt.Errorf("no job queue: %w", ports.ErrUnsupported)
}

// jobLoop runs a runner's Run in the background between start and stop.
type jobLoop struct {
	run    func(context.Context) error
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
}

func (l *jobLoop) start() {
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.done = cancel, make(chan struct{})
	go func() {
		defer close(l.done)
		if err := l.run(ctx); err != nil {
			l.log.Error("background jobs stopped", "error", err)
		}
	}()
}

// stop cancels the loop and waits for it within ctx: the jobs in hand see
// their contexts end and are handed back to the queue.
func (l *jobLoop) stop(ctx context.Context) error {
	if l.cancel == nil {
		return nil
	}
	l.cancel()
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("background jobs: not stopped in time: %w", ctx.Err())
	}
}

var _ ports.JobQueue = (*startedStore)(nil)

// Claim implements ports.JobQueue with the open store's claim, so the
// store that StoreModule provides serves JobsModule too.
func (s *startedStore) Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]ports.Job, error) {
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	q, ok := st.(ports.JobQueue)
	if !ok {
		return nil, fmt.Errorf("store %T has no job queue: %w", st, ports.ErrUnsupported)
	}
	return q.Claim(ctx, now, limit, lease)
}
