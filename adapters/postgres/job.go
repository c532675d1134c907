package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

var _ ports.JobQueue = (*Store)(nil)

func (t *shopTx) Jobs() ports.JobRepo { return jobs{t} }

// jobs is the job repository of one shopTx. Statements bind t.shop, and
// row-level security holds them to it as well.
type jobs struct{ t *shopTx }

type jobRow struct {
	ShopID      ports.ShopID `db:"shop_id"`
	ID          ports.JobID  `db:"id"`
	Kind        string       `db:"kind"`
	Payload     []byte       `db:"payload"`
	State       string       `db:"state"`
	Attempts    int          `db:"attempts"`
	MaxAttempts int          `db:"max_attempts"`
	RunAt       time.Time    `db:"run_at"`
	LockedUntil sql.NullTime `db:"locked_until"`
	LastError   string       `db:"last_error"`
	CreatedAt   time.Time    `db:"created_at"`
	UpdatedAt   time.Time    `db:"updated_at"`
}

const jobCols = `shop_id, id, kind, payload, state, attempts, max_attempts, run_at, locked_until, last_error, created_at, updated_at`

func (r jobRow) port() ports.Job {
	j := ports.Job{
		ID: r.ID, ShopID: r.ShopID, Kind: r.Kind, State: ports.JobState(r.State),
		Attempts: r.Attempts, MaxAttempts: r.MaxAttempts, RunAt: r.RunAt.UTC(), LastError: r.LastError,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.Payload != nil {
		j.Payload = json.RawMessage(r.Payload)
	}
	if r.LockedUntil.Valid {
		j.LockedUntil = r.LockedUntil.Time.UTC()
	}
	return j
}

// Enqueue inserts the job as queued. The payload is stored as jsonb, so
// the job read back carries PostgreSQL's normal form of it (same JSON
// value, whitespace and key order may differ).
func (r jobs) Enqueue(ctx context.Context, j ports.Job) (ports.Job, error) {
	if err := j.Validate(); err != nil {
		return ports.Job{}, err
	}
	now := r.t.store.now()
	if j.MaxAttempts == 0 {
		j.MaxAttempts = ports.DefaultMaxAttempts
	}
	runAt := now
	if !j.RunAt.IsZero() {
		runAt = ports.Timestamp(j.RunAt)
	}
	var payload any // NULL, not the JSON null, when absent
	if j.Payload != nil {
		payload = string(j.Payload)
	}
	var row jobRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `INSERT INTO jobs (`+jobCols+`)
		VALUES ($1, $2, $3, $4::jsonb, 'queued', 0, $5, $6, NULL, '', $7, $7) RETURNING `+jobCols,
		r.t.shop, j.ID, j.Kind, payload, j.MaxAttempts, runAt, now)
	if err != nil {
		return ports.Job{}, wrap("enqueue job", err)
	}
	return row.port(), nil
}

func (r jobs) Get(ctx context.Context, id ports.JobID) (ports.Job, error) {
	var row jobRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `SELECT `+jobCols+` FROM jobs WHERE shop_id = $1 AND id = $2`, r.t.shop, id)
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
	err = sqlx.SelectContext(ctx, r.t.q, &rows, `SELECT `+jobCols+` FROM jobs
		WHERE shop_id = $1 AND ($2 = '' OR state = $2) ORDER BY created_at, id LIMIT $3`, r.t.shop, string(state), limit)
	if err != nil {
		return nil, wrap("list jobs", err)
	}
	return jobsOf(rows), nil
}

func (r jobs) Complete(ctx context.Context, id ports.JobID, attempt int) error {
	n, err := affected(r.t.q.ExecContext(ctx, `UPDATE jobs SET state = 'done', locked_until = NULL, updated_at = $1
		WHERE shop_id = $2 AND id = $3 AND state = 'running' AND attempts = $4`, r.t.store.now(), r.t.shop, id, attempt))
	if err != nil {
		return wrap("complete job", err)
	}
	if n == 0 {
		return notFound("complete job: no running attempt " + fmt.Sprint(attempt))
	}
	return nil
}

func (r jobs) Fail(ctx context.Context, id ports.JobID, attempt int, reason string, retryAt time.Time, dead bool) (ports.Job, error) {
	now := r.t.store.now()
	if retryAt.IsZero() {
		retryAt = now
	}
	var rows []jobRow
	err := sqlx.SelectContext(ctx, r.t.q, &rows, `UPDATE jobs SET
			state = CASE WHEN $1 OR attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
			run_at = CASE WHEN $1 OR attempts >= max_attempts THEN run_at ELSE $2 END,
			locked_until = NULL, last_error = $3, updated_at = $4
		WHERE shop_id = $5 AND id = $6 AND state = 'running' AND attempts = $7
		RETURNING `+jobCols,
		dead, ports.Timestamp(retryAt), jobReason(reason), now, r.t.shop, id, attempt)
	if err != nil {
		return ports.Job{}, wrap("fail job", err)
	}
	if len(rows) == 0 {
		return ports.Job{}, notFound("fail job: no running attempt " + fmt.Sprint(attempt))
	}
	return rows[0].port(), nil
}

func (r jobs) Retry(ctx context.Context, id ports.JobID, runAt time.Time) (ports.Job, error) {
	now := r.t.store.now()
	if runAt.IsZero() {
		runAt = now
	}
	var rows []jobRow
	err := sqlx.SelectContext(ctx, r.t.q, &rows, `UPDATE jobs SET state = 'queued', attempts = 0, run_at = $1, updated_at = $2
		WHERE shop_id = $3 AND id = $4 AND state = 'dead' RETURNING `+jobCols, ports.Timestamp(runAt), now, r.t.shop, id)
	if err != nil {
		return ports.Job{}, wrap("retry job", err)
	}
	if len(rows) == 0 {
		return ports.Job{}, notFound("retry job: no dead job")
	}
	return rows[0].port(), nil
}

// Claim implements ports.JobQueue through stockade_claim_jobs, the
// SECURITY DEFINER function of migration 00006 (lease bounded by 00018):
// the application role cannot read other shops' jobs, but it may call the
// function, which hands out due jobs of every shop with FOR UPDATE SKIP
// LOCKED. One statement, one round trip, outside any unit of work. limit
// is 1 to 1000 and lease positive and at most ports.MaxLease, or
// ErrInvalid; the function checks the same bounds.
func (s *Store) Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]ports.Job, error) {
	if err := checkClaim(limit, lease); err != nil {
		return nil, err
	}
	var rows []jobRow
	err := s.db.SelectContext(ctx, &rows, `SELECT `+jobCols+` FROM stockade_claim_jobs($1, $2, $3::interval, $4)`,
		ports.Timestamp(now), limit, fmt.Sprintf("%d microseconds", lease.Microseconds()), s.now())
	if err != nil {
		return nil, wrap("claim jobs", err)
	}
	out := jobsOf(rows)
	sortClaimed(out)
	return out, nil
}

func jobsOf(rows []jobRow) []ports.Job {
	out := make([]ports.Job, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out
}

// sortClaimed puts claimed jobs in the contract's order (oldest RunAt
// first); UPDATE … RETURNING has none.
func sortClaimed(js []ports.Job) {
	slices.SortFunc(js, func(a, b ports.Job) int {
		if c := a.RunAt.Compare(b.RunAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID.String(), b.ID.String())
	})
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

func checkClaim(limit int, lease time.Duration) error {
	if limit < 1 || limit > 1000 {
		return ports.Invalid("limit", "must be 1 to 1000")
	}
	if lease < time.Microsecond || lease > ports.MaxLease {
		return ports.Invalid("lease", "must be positive and at most 24h")
	}
	return nil
}

// jobReason makes a failure reason storable: valid UTF-8 without NUL
// (which text columns refuse), at most 1000 bytes, cut on a rune boundary.
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
	n, err := affected(r.t.q.ExecContext(ctx, `DELETE FROM jobs WHERE shop_id = $1 AND state = 'done' AND updated_at < $2`, r.t.shop, ports.Timestamp(before)))
	if err != nil {
		return 0, wrap("delete done jobs", err)
	}
	return int(n), nil
}
