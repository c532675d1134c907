package postgres

// Placeholders while the job queue is written (issue 5); each
// is replaced by its real file and this file is deleted.

import (
	"context"
	"time"

	"github.com/stockadehq/stockade/ports"
)

func (t *shopTx) Jobs() ports.JobRepo { return jobsStub{} }

type jobsStub struct{}

func (jobsStub) Enqueue(context.Context, ports.Job) (ports.Job, error) {
	return ports.Job{}, ports.ErrUnsupported
}
func (jobsStub) Get(context.Context, ports.JobID) (ports.Job, error) {
	return ports.Job{}, ports.ErrUnsupported
}
func (jobsStub) List(context.Context, ports.JobState, int) ([]ports.Job, error) {
	return nil, ports.ErrUnsupported
}
func (jobsStub) Complete(context.Context, ports.JobID, int) error { return ports.ErrUnsupported }
func (jobsStub) Fail(context.Context, ports.JobID, int, string, time.Time, bool) (ports.Job, error) {
	return ports.Job{}, ports.ErrUnsupported
}
func (jobsStub) Retry(context.Context, ports.JobID, time.Time) (ports.Job, error) {
	return ports.Job{}, ports.ErrUnsupported
}

// Claim is the cross-shop job claim (ports.JobQueue).
func (s *Store) Claim(context.Context, time.Time, int, time.Duration) ([]ports.Job, error) {
	return nil, ports.ErrUnsupported
}
