package sqlite

import (
	"context"
	"time"

	"github.com/stockadehq/stockade/ports"
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
