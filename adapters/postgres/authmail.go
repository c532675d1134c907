package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

var _ ports.AuthMailOutbox = (*Store)(nil)

// AuthMail implements ports.ShopTx: the mail carries the unit of work's
// shop, and row-level security holds the insert to it.
func (t *shopTx) AuthMail() ports.AuthMailQueue {
	return authMail{q: t.q, store: t.store, shop: &t.shop}
}

// AuthMail implements ports.GlobalTx: the mail has no shop.
func (t *globalTx) AuthMail() ports.AuthMailQueue { return authMail{q: t.q, store: t.store} }

// authMail enqueues into auth_mail within one unit of work; shop is the
// unit of work's shop, nil in a Global one. The caller never names it.
type authMail struct {
	q     querier
	store *Store
	shop  *ports.ShopID
}

type authMailRow struct {
	ID          ports.AuthMailID `db:"id"`
	ShopID      *ports.ShopID    `db:"shop_id"`
	Kind        string           `db:"kind"`
	Recipient   string           `db:"recipient"`
	Subject     string           `db:"subject"`
	Sealed      []byte           `db:"sealed"`
	State       string           `db:"state"`
	Attempts    int              `db:"attempts"`
	MaxAttempts int              `db:"max_attempts"`
	RunAt       time.Time        `db:"run_at"`
	LockedUntil *time.Time       `db:"locked_until"`
	LastError   string           `db:"last_error"`
	ProviderID  string           `db:"provider_id"`
	CreatedAt   time.Time        `db:"created_at"`
	UpdatedAt   time.Time        `db:"updated_at"`
}

const authMailCols = `id, shop_id, kind, recipient, subject, sealed, state, attempts, max_attempts, run_at, locked_until,
	last_error, provider_id, created_at, updated_at`

func (r authMailRow) port() ports.AuthMail {
	m := ports.AuthMail{
		ID: r.ID, Kind: ports.AuthMailKind(r.Kind), To: r.Recipient, Subject: r.Subject, Sealed: r.Sealed,
		State: ports.AuthMailState(r.State), Attempts: r.Attempts, MaxAttempts: r.MaxAttempts, RunAt: r.RunAt.UTC(),
		LastError: r.LastError, ProviderID: r.ProviderID, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.ShopID != nil {
		m.ShopID = *r.ShopID
	}
	if r.LockedUntil != nil {
		m.LockedUntil = r.LockedUntil.UTC()
	}
	return m
}

func (r authMail) Enqueue(ctx context.Context, m ports.AuthMail) (ports.AuthMail, error) {
	if err := m.Validate(); err != nil {
		return ports.AuthMail{}, err
	}
	now := r.store.now()
	runAt := now
	if !m.RunAt.IsZero() {
		runAt = ports.Timestamp(m.RunAt)
	}
	if m.MaxAttempts == 0 {
		m.MaxAttempts = ports.DefaultMaxAttempts
	}
	var row authMailRow
	err := sqlx.GetContext(ctx, r.q, &row, `INSERT INTO auth_mail (id, shop_id, kind, recipient, subject, sealed, state, attempts,
			max_attempts, run_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, $8, $9, $9) RETURNING `+authMailCols,
		m.ID, r.shop, m.Kind, m.To, m.Subject, m.Sealed, m.MaxAttempts, runAt, now)
	if err != nil {
		return ports.AuthMail{}, wrap("enqueue auth mail", err)
	}
	return row.port(), nil
}

// maxAuthMailLease bounds a claim's lease (a longer one would hide a dead
// worker's mail for that long).
const maxAuthMailLease = 24 * time.Hour

// ClaimAuthMail implements ports.AuthMailOutbox through
// stockade_claim_auth_mail, the SECURITY DEFINER function of migration
// 00015: the application role sees only its unit of work's shop's and
// shop-less mail, but it may call the function, which hands out due mail
// of every shop with FOR UPDATE SKIP LOCKED. One statement, outside any
// unit of work.
func (s *Store) ClaimAuthMail(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]ports.AuthMail, error) {
	if err := checkClaim(limit, lease); err != nil {
		return nil, err
	}
	if lease > maxAuthMailLease {
		return nil, ports.Invalid("lease", "must be at most 24h")
	}
	var rows []authMailRow
	err := s.db.SelectContext(ctx, &rows, `SELECT `+authMailCols+` FROM stockade_claim_auth_mail($1, $2, $3::interval, $4)`,
		ports.Timestamp(now), limit, fmt.Sprintf("%d microseconds", lease.Microseconds()), s.now())
	if err != nil {
		return nil, wrap("claim auth mail", err)
	}
	out := make([]ports.AuthMail, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	slices.SortFunc(out, func(a, b ports.AuthMail) int {
		if c := a.RunAt.Compare(b.RunAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID.String(), b.ID.String())
	})
	return out, nil
}

// MarkAuthMailSent implements ports.AuthMailOutbox.
func (s *Store) MarkAuthMailSent(ctx context.Context, m ports.AuthMail, providerID string) (ports.AuthMail, error) {
	if len(providerID) > 255 {
		providerID = providerID[:255]
	}
	return s.settleAuthMail(ctx, m, "mark auth mail sent", `UPDATE auth_mail SET state = 'sent', sealed = NULL, locked_until = NULL,
			provider_id = $4, last_error = '', updated_at = $3
		WHERE id = $1 AND state = 'sending' AND attempts = $2 AND shop_id IS NOT DISTINCT FROM $5::uuid RETURNING `+authMailCols,
		m.ID, m.Attempts, s.now(), jobReason(providerID), authMailShop(m.ShopID))
}

// FailAuthMail implements ports.AuthMailOutbox.
func (s *Store) FailAuthMail(ctx context.Context, m ports.AuthMail, reason string, retryAt time.Time, dead bool) (ports.AuthMail, error) {
	now := s.now()
	retry := now
	if !retryAt.IsZero() {
		retry = ports.Timestamp(retryAt)
	}
	return s.settleAuthMail(ctx, m, "fail auth mail", `UPDATE auth_mail SET
			state = CASE WHEN $4 OR attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
			sealed = CASE WHEN $4 OR attempts >= max_attempts THEN NULL ELSE sealed END,
			run_at = CASE WHEN $4 OR attempts >= max_attempts THEN run_at ELSE $5 END,
			locked_until = NULL, last_error = $6, updated_at = $3
		WHERE id = $1 AND state = 'sending' AND attempts = $2 AND shop_id IS NOT DISTINCT FROM $7::uuid RETURNING `+authMailCols,
		m.ID, m.Attempts, now, dead, retry, jobReason(reason), authMailShop(m.ShopID))
}

// authMailShop is a mail's shop as a statement argument: NULL for
// shop-less mail. The outcome statements name it so the SQL holds the
// wall by itself, not by row-level security alone.
func authMailShop(shop ports.ShopID) *ports.ShopID {
	if shop.IsZero() {
		return nil
	}
	return &shop
}

// settleAuthMail runs one fenced outcome statement in a unit of work of
// the mail's own shop (or a Global one for shop-less mail), so row-level
// security admits exactly that mail's rows. ErrNotFound when the attempt
// is no longer the one running.
func (s *Store) settleAuthMail(ctx context.Context, m ports.AuthMail, op, query string, args ...any) (ports.AuthMail, error) {
	var rows []authMailRow
	run := func(ctx context.Context, q querier) error { return sqlx.SelectContext(ctx, q, &rows, query, args...) }
	var err error
	if m.ShopID.IsZero() {
		err = s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error { return run(ctx, tx.(*globalTx).q) })
	} else {
		err = s.InShop(ctx, m.ShopID, func(ctx context.Context, tx ports.ShopTx) error { return run(ctx, tx.(*shopTx).q) })
	}
	if err != nil {
		return ports.AuthMail{}, wrap(op, err)
	}
	if len(rows) == 0 {
		return ports.AuthMail{}, notFound(op + ": no sending attempt")
	}
	return rows[0].port(), nil
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
