package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stockadehq/stockade/ports"
)

var _ ports.JobQueue = (*Store)(nil)

func (t *shopTx) Jobs() ports.JobRepo { return jobs{t} }

// jobs is the job repository of one shopTx. Every statement binds t.shop;
// none accepts a shop from the caller.
type jobs struct{ t *shopTx }

type jobRow struct {
	ShopID      ports.ShopID `db:"shop_id"`
	ID          ports.JobID  `db:"id"`
	Kind        string       `db:"kind"`
	Payload     *string      `db:"payload"`
	State       string       `db:"state"`
	Attempts    int          `db:"attempts"`
	MaxAttempts int          `db:"max_attempts"`
	RunAt       int64        `db:"run_at"`
	LockedUntil *int64       `db:"locked_until"`
	LastError   string       `db:"last_error"`
	CreatedAt   int64        `db:"created_at"`
	UpdatedAt   int64        `db:"updated_at"`
}

const jobCols = `shop_id, id, kind, payload, state, attempts, max_attempts, run_at, locked_until, last_error, created_at, updated_at`

func (r jobRow) port() ports.Job {
	j := ports.Job{
		ID: r.ID, ShopID: r.ShopID, Kind: r.Kind, State: ports.JobState(r.State),
		Attempts: r.Attempts, MaxAttempts: r.MaxAttempts, RunAt: fromMicros(r.RunAt), LastError: r.LastError,
		CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt),
	}
	if r.Payload != nil {
		j.Payload = json.RawMessage(*r.Payload)
	}
	if r.LockedUntil != nil {
		j.LockedUntil = fromMicros(*r.LockedUntil)
	}
	return j
}

func (r jobs) Enqueue(ctx context.Context, j ports.Job) (ports.Job, error) {
	if err := j.Validate(); err != nil {
		return ports.Job{}, err
	}
	now := r.t.store.now()
	row := jobRow{
		ShopID: r.t.shop, ID: j.ID, Kind: j.Kind, State: string(ports.JobQueued),
		MaxAttempts: j.MaxAttempts, RunAt: now, CreatedAt: now, UpdatedAt: now,
	}
	if row.MaxAttempts == 0 {
		row.MaxAttempts = ports.DefaultMaxAttempts
	}
	if !j.RunAt.IsZero() {
		row.RunAt = micros(j.RunAt)
	}
	if j.Payload != nil {
		p := string(j.Payload)
		row.Payload = &p
	}
	_, err := r.t.q.NamedExecContext(ctx, `INSERT INTO jobs (`+jobCols+`) VALUES
		(:shop_id, :id, :kind, :payload, :state, :attempts, :max_attempts, :run_at, :locked_until, :last_error, :created_at, :updated_at)`, row)
	if err != nil {
		return ports.Job{}, wrap("enqueue job", err)
	}
	return row.port(), nil
}

func (r jobs) Get(ctx context.Context, id ports.JobID) (ports.Job, error) {
	var row jobRow
	err := r.t.q.GetContext(ctx, &row, `SELECT `+jobCols+` FROM jobs WHERE shop_id = ? AND id = ?`, r.t.shop, id)
	if err != nil {
		return ports.Job{}, wrap("get job", err)
	}
	return row.port(), nil
}

func (r jobs) List(ctx context.Context, state ports.JobState, limit int) ([]ports.Job, error) {
	limit, err := checkJobList(state, limit)
	if err != nil {
		return nil, err
	}
	var rows []jobRow
	err = r.t.q.SelectContext(ctx, &rows, `SELECT `+jobCols+` FROM jobs
		WHERE shop_id = ?1 AND (?2 = '' OR state = ?2) ORDER BY created_at, id LIMIT ?3`, r.t.shop, string(state), limit)
	if err != nil {
		return nil, wrap("list jobs", err)
	}
	return jobsOf(rows), nil
}

func (r jobs) Complete(ctx context.Context, id ports.JobID, attempt int) error {
	res, err := r.t.q.ExecContext(ctx, `UPDATE jobs SET state = 'done', locked_until = NULL, updated_at = ?
		WHERE shop_id = ? AND id = ? AND state = 'running' AND attempts = ?`, r.t.store.now(), r.t.shop, id, attempt)
	n, err := affected("complete job", res, err)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("sqlite: complete job: no running attempt %d: %w", attempt, ports.ErrNotFound)
	}
	return nil
}

func (r jobs) Fail(ctx context.Context, id ports.JobID, attempt int, reason string, retryAt time.Time, dead bool) (ports.Job, error) {
	now := r.t.store.now()
	retry := now
	if !retryAt.IsZero() {
		retry = micros(retryAt)
	}
	var rows []jobRow
	err := r.t.q.SelectContext(ctx, &rows, `UPDATE jobs SET
			state = CASE WHEN ?1 OR attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
			run_at = CASE WHEN ?1 OR attempts >= max_attempts THEN run_at ELSE ?2 END,
			locked_until = NULL, last_error = ?3, updated_at = ?4
		WHERE shop_id = ?5 AND id = ?6 AND state = 'running' AND attempts = ?7
		RETURNING `+jobCols,
		dead, retry, jobReason(reason), now, r.t.shop, id, attempt)
	if err != nil {
		return ports.Job{}, wrap("fail job", err)
	}
	if len(rows) == 0 {
		return ports.Job{}, fmt.Errorf("sqlite: fail job: no running attempt %d: %w", attempt, ports.ErrNotFound)
	}
	return rows[0].port(), nil
}

func (r jobs) Retry(ctx context.Context, id ports.JobID, runAt time.Time) (ports.Job, error) {
	now := r.t.store.now()
	at := now
	if !runAt.IsZero() {
		at = micros(runAt)
	}
	var rows []jobRow
	err := r.t.q.SelectContext(ctx, &rows, `UPDATE jobs SET state = 'queued', attempts = 0, run_at = ?, updated_at = ?
		WHERE shop_id = ? AND id = ? AND state = 'dead' RETURNING `+jobCols, at, now, r.t.shop, id)
	if err != nil {
		return ports.Job{}, wrap("retry job", err)
	}
	if len(rows) == 0 {
		return ports.Job{}, fmt.Errorf("sqlite: retry job: no dead job: %w", ports.ErrNotFound)
	}
	return rows[0].port(), nil
}

// claimSQL marks the due jobs running: the oldest limit (?2) of the due
// queued jobs and the running jobs whose lease ran out with attempts left.
const claimSQL = `UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_until = ?3, updated_at = ?4
	WHERE (shop_id, id) IN (
		SELECT shop_id, id FROM (
			SELECT * FROM (SELECT shop_id, id, run_at FROM jobs
				WHERE state = 'queued' AND run_at <= ?1 ORDER BY run_at, id LIMIT ?2)
			UNION ALL
			SELECT * FROM (SELECT shop_id, id, run_at FROM jobs
				WHERE state = 'running' AND locked_until <= ?1 AND attempts < max_attempts ORDER BY run_at, id LIMIT ?2)
		) ORDER BY run_at, id LIMIT ?2)
	RETURNING ` + jobCols

// Claim implements ports.JobQueue: the one statement pair of this adapter
// that reads across shops, for the runner. It is a write transaction on
// the single writer connection (BEGIN IMMEDIATE), so concurrent claimers
// run one after another and each sees the previous one's claims. limit is
// 1 to 1000 and lease positive, or ErrInvalid.
func (s *Store) Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]ports.Job, error) {
	var rows []jobRow
	err := s.claim(ctx, "jobs", now, limit, lease, `UPDATE jobs SET state = 'dead', locked_until = NULL, last_error = 'lease expired', updated_at = ?
		WHERE state = 'running' AND locked_until <= ? AND attempts >= max_attempts`, claimSQL, &rows)
	if err != nil {
		return nil, err
	}
	out := jobsOf(rows)
	slices.SortFunc(out, func(a, b ports.Job) int {
		if c := a.RunAt.Compare(b.RunAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID.String(), b.ID.String())
	})
	return out, nil
}

func jobsOf(rows []jobRow) []ports.Job {
	out := make([]ports.Job, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out
}

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

// jobReason makes a failure reason storable the way every store keeps it:
// valid UTF-8 without NUL (which PostgreSQL's text refuses), at most 1000
// bytes, cut on a rune boundary.
func jobReason(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	if len(s) <= 1000 {
		return s
	}
	cut := 1000
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

func (r jobs) DeleteDone(ctx context.Context, before time.Time) (int, error) {
	res, err := r.t.q.ExecContext(ctx, `DELETE FROM jobs WHERE shop_id = ? AND state = 'done' AND updated_at < ?`, r.t.shop, micros(before))
	return affected("delete done jobs", res, err)
}
