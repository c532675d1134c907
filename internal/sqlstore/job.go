package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// Jobs implements ports.ShopTx.
func (t *Shop) Jobs() ports.JobRepo { return jobs{t} }

// jobs is the job repository of one Shop. Every statement binds t.shop;
// none accepts a shop from the caller. Claiming due jobs of every shop
// (ports.JobQueue) is the adapters' own: it reads across shops.
type jobs struct{ t *Shop }

var _ ports.JobRepo = jobs{}

// JobRow is a row of jobs as JobCols selects it, in either database's
// encoding. The adapters' claims scan into it (ClaimedJobs).
type JobRow struct {
	ShopID      ports.ShopID `db:"shop_id"`
	ID          ports.JobID  `db:"id"`
	Kind        string       `db:"kind"`
	Payload     []byte       `db:"payload"`
	State       string       `db:"state"`
	Attempts    int          `db:"attempts"`
	MaxAttempts int          `db:"max_attempts"`
	RunAt       Time         `db:"run_at"`
	LockedUntil Time         `db:"locked_until"`
	LastError   string       `db:"last_error"`
	CreatedAt   Time         `db:"created_at"`
	UpdatedAt   Time         `db:"updated_at"`
}

// JobCols are the columns of jobs a JobRow holds, in table order.
const JobCols = `shop_id, id, kind, payload, state, attempts, max_attempts, run_at, locked_until, last_error, created_at, updated_at`

func (r JobRow) port() ports.Job {
	j := ports.Job{
		ID: r.ID, ShopID: r.ShopID, Kind: r.Kind, State: ports.JobState(r.State),
		Attempts: r.Attempts, MaxAttempts: r.MaxAttempts, RunAt: r.RunAt.Time, LockedUntil: r.LockedUntil.Time,
		LastError: r.LastError, CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time,
	}
	if r.Payload != nil {
		j.Payload = json.RawMessage(r.Payload)
	}
	return j
}

func jobsOf(rows []JobRow) []ports.Job {
	out := make([]ports.Job, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out
}

// ClaimedJobs returns the jobs a claim marked running in the contract's
// order (oldest RunAt first, then ID): UPDATE … RETURNING has none.
func ClaimedJobs(rows []JobRow) []ports.Job {
	out := jobsOf(rows)
	slices.SortFunc(out, func(a, b ports.Job) int {
		if c := a.RunAt.Compare(b.RunAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID.String(), b.ID.String())
	})
	return out
}

// Enqueue inserts the job as queued. On Postgres the payload is stored as
// jsonb, so the job read back carries PostgreSQL's normal form of it (same
// JSON value, whitespace and key order may differ); SQLite keeps its text.
func (r jobs) Enqueue(ctx context.Context, j ports.Job) (ports.Job, error) {
	if err := j.Validate(); err != nil {
		return ports.Job{}, err
	}
	now := r.t.now()
	if j.MaxAttempts == 0 {
		j.MaxAttempts = ports.DefaultMaxAttempts
	}
	runAt := now
	if !j.RunAt.IsZero() {
		runAt = j.RunAt
	}
	var payload any // NULL, not the JSON null, when absent
	if j.Payload != nil {
		payload = string(j.Payload)
	}
	var row JobRow
	err := r.t.get(ctx, &row, `INSERT INTO jobs (`+JobCols+`)
		VALUES (?, ?, ?, `+r.t.cast("?", "jsonb")+`, 'queued', 0, ?, ?, NULL, '', ?, ?) RETURNING `+JobCols,
		r.t.shop, j.ID, j.Kind, payload, j.MaxAttempts, runAt, now, now)
	if err != nil {
		return ports.Job{}, r.t.wrap("enqueue job", err)
	}
	return row.port(), nil
}

func (r jobs) Get(ctx context.Context, id ports.JobID) (ports.Job, error) {
	var row JobRow
	err := r.t.get(ctx, &row, `SELECT `+JobCols+` FROM jobs WHERE shop_id = ? AND id = ?`, r.t.shop, id)
	if err != nil {
		return ports.Job{}, r.t.wrap("get job", err)
	}
	return row.port(), nil
}

func (r jobs) List(ctx context.Context, state ports.JobState, limit int) ([]ports.Job, error) {
	limit, err := checkJobList(state, limit)
	if err != nil {
		return nil, err
	}
	var rows []JobRow
	err = r.t.sel(ctx, &rows, `SELECT `+JobCols+` FROM jobs
		WHERE shop_id = ? AND (? = '' OR state = ?) ORDER BY created_at, id LIMIT ?`, r.t.shop, string(state), string(state), limit)
	if err != nil {
		return nil, r.t.wrap("list jobs", err)
	}
	return jobsOf(rows), nil
}

func (r jobs) Complete(ctx context.Context, id ports.JobID, attempt int) error {
	n, err := r.t.exec(ctx, `UPDATE jobs SET state = 'done', locked_until = NULL, updated_at = ?
		WHERE shop_id = ? AND id = ? AND state = 'running' AND attempts = ?`, r.t.now(), r.t.shop, id, attempt)
	if err != nil {
		return r.t.wrap("complete job", err)
	}
	if n == 0 {
		return r.t.notFound(fmt.Sprintf("complete job: no running attempt %d", attempt))
	}
	return nil
}

func (r jobs) Fail(ctx context.Context, id ports.JobID, attempt int, reason string, retryAt time.Time, dead bool) (ports.Job, error) {
	now := r.t.now()
	if retryAt.IsZero() {
		retryAt = now
	}
	var rows []JobRow
	err := r.t.sel(ctx, &rows, `UPDATE jobs SET
			state = CASE WHEN ? OR attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
			run_at = CASE WHEN ? OR attempts >= max_attempts THEN run_at ELSE ? END,
			locked_until = NULL, last_error = ?, updated_at = ?
		WHERE shop_id = ? AND id = ? AND state = 'running' AND attempts = ?
		RETURNING `+JobCols,
		dead, dead, retryAt, FailureReason(reason), now, r.t.shop, id, attempt)
	if err != nil {
		return ports.Job{}, r.t.wrap("fail job", err)
	}
	if len(rows) == 0 {
		return ports.Job{}, r.t.notFound(fmt.Sprintf("fail job: no running attempt %d", attempt))
	}
	return rows[0].port(), nil
}

func (r jobs) Retry(ctx context.Context, id ports.JobID, runAt time.Time) (ports.Job, error) {
	now := r.t.now()
	if runAt.IsZero() {
		runAt = now
	}
	var rows []JobRow
	err := r.t.sel(ctx, &rows, `UPDATE jobs SET state = 'queued', attempts = 0, run_at = ?, updated_at = ?
		WHERE shop_id = ? AND id = ? AND state = 'dead' RETURNING `+JobCols, runAt, now, r.t.shop, id)
	if err != nil {
		return ports.Job{}, r.t.wrap("retry job", err)
	}
	if len(rows) == 0 {
		return ports.Job{}, r.t.notFound("retry job: no dead job")
	}
	return rows[0].port(), nil
}

func (r jobs) DeleteDone(ctx context.Context, before time.Time) (int, error) {
	n, err := r.t.exec(ctx, `DELETE FROM jobs WHERE shop_id = ? AND state = 'done' AND updated_at < ?`, r.t.shop, before)
	if err != nil {
		return 0, r.t.wrap("delete done jobs", err)
	}
	return int(n), nil
}

// checkJobList validates List's state filter and bounds its limit: 0 is
// 100, more than 1,000 is 1,000.
func checkJobList(state ports.JobState, limit int) (int, error) {
	switch state {
	case "", ports.JobQueued, ports.JobRunning, ports.JobDone, ports.JobDead:
	default:
		return 0, ports.Invalid("state", "must be queued, running, done, dead or empty")
	}
	switch {
	case limit < 0:
		return 0, ports.Invalid("limit", "must not be negative")
	case limit == 0:
		return 100, nil
	}
	return min(limit, 1000), nil
}
