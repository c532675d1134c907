package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/stockadehq/stockade/internal/sqlstore"
	"github.com/stockadehq/stockade/ports"
)

// The store-level paths of the queues: claims across shops go through the
// SECURITY DEFINER functions (the application role cannot read other
// shops' rows), outside any unit of work. The units of work's
// repositories are internal/sqlstore's.
var (
	_ ports.JobQueue       = (*Store)(nil)
	_ ports.AuthMailOutbox = (*Store)(nil)
)

// Claim implements ports.JobQueue through stockade_claim_jobs, the
// SECURITY DEFINER function of migration 00006 (lease bounded by 00018),
// which hands out due jobs of every shop with FOR UPDATE SKIP LOCKED. One
// statement, one round trip. limit is 1 to 1000 and lease positive and at
// most ports.MaxLease, or ErrInvalid; the function checks the same bounds.
func (s *Store) Claim(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]ports.Job, error) {
	if err := sqlstore.CheckClaim(limit, lease); err != nil {
		return nil, err
	}
	var rows []sqlstore.JobRow
	err := s.db.SelectContext(ctx, &rows, `SELECT `+sqlstore.JobCols+` FROM stockade_claim_jobs($1, $2, $3::interval, $4)`,
		ports.Timestamp(now), limit, interval(lease), s.now())
	if err != nil {
		return nil, wrap("claim jobs", err)
	}
	return sqlstore.ClaimedJobs(rows), nil
}

// ClaimAuthMail implements ports.AuthMailOutbox through
// stockade_claim_auth_mail, the SECURITY DEFINER function of migration
// 00015: the application role sees only its unit of work's shop's and
// shop-less mail, but it may call the function, which hands out due mail
// of every shop with FOR UPDATE SKIP LOCKED. One statement.
func (s *Store) ClaimAuthMail(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]ports.AuthMail, error) {
	if err := sqlstore.CheckClaim(limit, lease); err != nil {
		return nil, err
	}
	var rows []sqlstore.AuthMailRow
	err := s.db.SelectContext(ctx, &rows, `SELECT `+sqlstore.AuthMailCols+` FROM stockade_claim_auth_mail($1, $2, $3::interval, $4)`,
		ports.Timestamp(now), limit, interval(lease), s.now())
	if err != nil {
		return nil, wrap("claim auth mail", err)
	}
	return sqlstore.ClaimedAuthMail(rows), nil
}

// MarkAuthMailSent implements ports.AuthMailOutbox in a unit of work of
// the mail's shop, which row-level security holds to that shop's rows.
func (s *Store) MarkAuthMailSent(ctx context.Context, m ports.AuthMail, providerID string) (ports.AuthMail, error) {
	return sqlstore.MarkAuthMailSent(ctx, s, m, providerID)
}

// FailAuthMail implements ports.AuthMailOutbox as MarkAuthMailSent does.
func (s *Store) FailAuthMail(ctx context.Context, m ports.AuthMail, reason string, retryAt time.Time, dead bool) (ports.AuthMail, error) {
	return sqlstore.FailAuthMail(ctx, s, m, reason, retryAt, dead)
}

// DeleteEndedAuthMail implements ports.AuthMailOutbox through
// stockade_delete_ended_auth_mail (migration 00015): the application role
// may not delete auth mail itself.
func (s *Store) DeleteEndedAuthMail(ctx context.Context, before time.Time) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT stockade_delete_ended_auth_mail($1)`, ports.Timestamp(before)); err != nil {
		return 0, wrap("delete ended auth mail", err)
	}
	return n, nil
}

// interval is a lease as a Postgres interval's text.
func interval(lease time.Duration) string {
	return fmt.Sprintf("%d microseconds", lease.Microseconds())
}
