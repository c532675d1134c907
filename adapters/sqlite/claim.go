package sqlite

import (
	"context"
	"time"

	"github.com/stockadehq/stockade/internal/sqlstore"
	"github.com/stockadehq/stockade/ports"
)

// The store-level paths of the queues: claims across shops, one write
// transaction each (claim). The units of work's repositories are
// internal/sqlstore's.
var (
	_ ports.JobQueue       = (*Store)(nil)
	_ ports.AuthMailOutbox = (*Store)(nil)
)

// claim is the claim of a queue table (jobs, the outbox): limit (1 to
// 1000) and lease (positive, at most ports.MaxLease) are checked, then in
// one write transaction on the single writer (BEGIN IMMEDIATE, so
// concurrent claimers run one after another and each sees the previous
// one's claims) expireSQL ends the rows whose lease ran out on their last
// attempt (parameters: the store's now, now) and claimSQL marks the due
// rows and returns them into dest (parameters: now, limit, now+lease, the
// store's now).
func (s *Store) claim(ctx context.Context, what string, now time.Time, limit int, lease time.Duration, expireSQL, claimSQL string, dest any) error {
	if limit < 1 || limit > 1000 {
		return ports.Invalid("limit", "must be 1 to 1000")
	}
	if lease < time.Microsecond || lease > ports.MaxLease {
		return ports.Invalid("lease", "must be positive and at most 24h")
	}
	tx, _, release, err := s.begin(ctx, s.writer, false)
	if err != nil {
		return err
	}
	defer release()
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback() // the error that got us here is the one to report
		}
	}()
	at, stamp := micros(now), s.now()
	if _, err := tx.ExecContext(ctx, expireSQL, stamp, at); err != nil {
		return wrap("claim "+what+": expire leases", err)
	}
	if err := tx.SelectContext(ctx, dest, claimSQL, at, limit, micros(now.Add(lease)), stamp); err != nil {
		return wrap("claim "+what, err)
	}
	if err := tx.Commit(); err != nil {
		return wrap("claim "+what+": commit", err)
	}
	committed = true
	return nil
}

// claimJobsSQL marks the due jobs running: the oldest limit (?2) of the
// due queued jobs and the running jobs whose lease ran out with attempts
// left.
const claimJobsSQL = `UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_until = ?3, updated_at = ?4
	WHERE (shop_id, id) IN (
		SELECT shop_id, id FROM (
			SELECT * FROM (SELECT shop_id, id, run_at FROM jobs
				WHERE state = 'queued' AND run_at <= ?1 ORDER BY run_at, id LIMIT ?2)
			UNION ALL
			SELECT * FROM (SELECT shop_id, id, run_at FROM jobs
				WHERE state = 'running' AND locked_until <= ?1 AND attempts < max_attempts ORDER BY run_at, id LIMIT ?2)
		) ORDER BY run_at, id LIMIT ?2)
	RETURNING ` + sqlstore.JobCols

// Claim implements ports.JobQueue: it reads across shops, for the runner,
// in one write transaction on the single writer connection (BEGIN
// IMMEDIATE), so concurrent claimers run one after another and each sees
// the previous one's claims. limit is 1 to 1000 and lease positive, or
// ErrInvalid.
func (s *Store) Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]ports.Job, error) {
	var rows []sqlstore.JobRow
	err := s.claim(ctx, "jobs", now, limit, lease, `UPDATE jobs SET state = 'dead', locked_until = NULL, last_error = 'lease expired', updated_at = ?
		WHERE state = 'running' AND locked_until <= ? AND attempts >= max_attempts`, claimJobsSQL, &rows)
	if err != nil {
		return nil, err
	}
	return sqlstore.ClaimedJobs(rows), nil
}

// claimAuthMailSQL marks the due mails sending: the oldest limit (?2) of
// the due queued mails and the sending ones whose lease ran out with
// attempts left.
const claimAuthMailSQL = `UPDATE auth_mail SET state = 'sending', attempts = attempts + 1, locked_until = ?3, updated_at = ?4
	WHERE id IN (
		SELECT id FROM (
			SELECT * FROM (SELECT id, run_at FROM auth_mail
				WHERE state = 'queued' AND run_at <= ?1 ORDER BY run_at, id LIMIT ?2)
			UNION ALL
			SELECT * FROM (SELECT id, run_at FROM auth_mail
				WHERE state = 'sending' AND locked_until <= ?1 AND attempts < max_attempts ORDER BY run_at, id LIMIT ?2)
		) ORDER BY run_at, id LIMIT ?2)
	RETURNING ` + sqlstore.AuthMailCols

// ClaimAuthMail implements ports.AuthMailOutbox: one write transaction on
// the single writer connection (BEGIN IMMEDIATE), so concurrent claimers
// run one after another.
func (s *Store) ClaimAuthMail(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]ports.AuthMail, error) {
	if lease > 24*time.Hour {
		return nil, ports.Invalid("lease", "must be at most 24h")
	}
	var rows []sqlstore.AuthMailRow
	err := s.claim(ctx, "auth mail", now, limit, lease, `UPDATE auth_mail SET
			state = 'dead', sealed = NULL, last_error = 'lease expired', locked_until = NULL, updated_at = ?
		WHERE state = 'sending' AND locked_until <= ? AND attempts >= max_attempts`, claimAuthMailSQL, &rows)
	if err != nil {
		return nil, err
	}
	return sqlstore.ClaimedAuthMail(rows), nil
}

// MarkAuthMailSent implements ports.AuthMailOutbox: one fenced outcome
// statement in its own unit of work.
func (s *Store) MarkAuthMailSent(ctx context.Context, m ports.AuthMail, providerID string) (ports.AuthMail, error) {
	return sqlstore.MarkAuthMailSent(ctx, s, m, providerID)
}

// FailAuthMail implements ports.AuthMailOutbox as MarkAuthMailSent does.
func (s *Store) FailAuthMail(ctx context.Context, m ports.AuthMail, reason string, retryAt time.Time, dead bool) (ports.AuthMail, error) {
	return sqlstore.FailAuthMail(ctx, s, m, reason, retryAt, dead)
}

// DeleteEndedAuthMail implements ports.AuthMailOutbox.
func (s *Store) DeleteEndedAuthMail(ctx context.Context, before time.Time) (int, error) {
	var n int
	err := s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		res, err := tx.(*globalTx).q.ExecContext(ctx, `DELETE FROM auth_mail WHERE state IN ('sent', 'dead') AND updated_at < ?`, micros(before))
		n, err = affected("delete ended auth mail", res, err)
		return err
	})
	return n, err
}
