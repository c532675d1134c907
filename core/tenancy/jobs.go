package tenancy

import (
	"context"
	"fmt"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// ListJobs returns the caller's shop's background jobs in state (all when
// empty), oldest first, at most limit (access.JobsRead).
func (s *Service) ListJobs(ctx context.Context, state ports.JobState, limit int) ([]ports.Job, error) {
	sc, err := s.policy.Require(ctx, access.JobsRead)
	if err != nil {
		return nil, err
	}
	switch state {
	case "", ports.JobQueued, ports.JobRunning, ports.JobDone, ports.JobDead:
	default:
		return nil, ports.Invalid("state", "must be queued, running, done or dead")
	}
	var out []ports.Job
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Jobs().List(ctx, state, limit)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return out, nil
}

// RetryJob puts a dead job of the caller's shop back in the queue to run
// now, with a fresh attempt budget (access.JobsRetry); the change and its
// "job.retried" event commit together. ErrNotFound unless the job is dead.
func (s *Service) RetryJob(ctx context.Context, id ports.JobID) (ports.Job, error) {
	sc, err := s.policy.Require(ctx, access.JobsRetry)
	if err != nil {
		return ports.Job{}, err
	}
	var job ports.Job
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		if job, err = tx.Jobs().Retry(ctx, id, s.clock.Now()); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, sc, record{action: "job.retried", target: "job:" + id.String(),
			after: map[string]string{"kind": job.Kind}})
	})
	if err != nil {
		return ports.Job{}, fmt.Errorf("retry job: %w", err)
	}
	return job, nil
}
