package sqlite

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
// shop.
func (t *shopTx) AuthMail() ports.AuthMailQueue {
	return authMail{q: t.q, store: t.store, shop: &t.shop}
}

// AuthMail implements ports.GlobalTx: the mail has no shop.
func (t *globalTx) AuthMail() ports.AuthMailQueue { return authMail{q: t.q, store: t.store} }

// authMail enqueues into auth_mail within one unit of work; shop is the
// unit of work's shop, nil in a Global one. The caller never names it.
type authMail struct {
	q     *sqlx.Tx
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
	RunAt       int64            `db:"run_at"`
	LockedUntil *int64           `db:"locked_until"`
	LastError   string           `db:"last_error"`
	ProviderID  string           `db:"provider_id"`
	CreatedAt   int64            `db:"created_at"`
	UpdatedAt   int64            `db:"updated_at"`
}

const authMailCols = `id, shop_id, kind, recipient, subject, sealed, state, attempts, max_attempts, run_at, locked_until,
	last_error, provider_id, created_at, updated_at`

func (r authMailRow) port() ports.AuthMail {
	m := ports.AuthMail{
		ID: r.ID, Kind: ports.AuthMailKind(r.Kind), To: r.Recipient, Subject: r.Subject, Sealed: r.Sealed,
		State: ports.AuthMailState(r.State), Attempts: r.Attempts, MaxAttempts: r.MaxAttempts, RunAt: fromMicros(r.RunAt),
		LastError: r.LastError, ProviderID: r.ProviderID, CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt),
	}
	if r.ShopID != nil {
		m.ShopID = *r.ShopID
	}
	if r.LockedUntil != nil {
		m.LockedUntil = fromMicros(*r.LockedUntil)
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
		runAt = micros(m.RunAt)
	}
	if m.MaxAttempts == 0 {
		m.MaxAttempts = ports.DefaultMaxAttempts
	}
	var row authMailRow
	err := r.q.GetContext(ctx, &row, `INSERT INTO auth_mail (id, shop_id, kind, recipient, subject, sealed, state, attempts, max_attempts,
			run_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?) RETURNING `+authMailCols,
		m.ID, r.shop, m.Kind, m.To, m.Subject, m.Sealed, m.MaxAttempts, runAt, now, now)
	if err != nil {
		return ports.AuthMail{}, wrap("enqueue auth mail", err)
	}
	return row.port(), nil
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
	RETURNING ` + authMailCols

// ClaimAuthMail implements ports.AuthMailOutbox: one write transaction on
// the single writer connection (BEGIN IMMEDIATE), so concurrent claimers
// run one after another.
func (s *Store) ClaimAuthMail(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]ports.AuthMail, error) {
	if lease > 24*time.Hour {
		return nil, ports.Invalid("lease", "must be at most 24h")
	}
	var rows []authMailRow
	err := s.claim(ctx, "auth mail", now, limit, lease, `UPDATE auth_mail SET
			state = 'dead', sealed = NULL, last_error = 'lease expired', locked_until = NULL, updated_at = ?
		WHERE state = 'sending' AND locked_until <= ? AND attempts >= max_attempts`, claimAuthMailSQL, &rows)
	if err != nil {
		return nil, err
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
	return s.settleAuthMail(ctx, "mark auth mail sent", `UPDATE auth_mail SET state = 'sent', sealed = NULL, locked_until = NULL,
			provider_id = ?4, last_error = '', updated_at = ?3
		WHERE id = ?1 AND state = 'sending' AND attempts = ?2 AND shop_id IS ?5 RETURNING `+authMailCols,
		m.ID, m.Attempts, s.now(), jobReason(providerID), shopOrNull(m.ShopID))
}

// FailAuthMail implements ports.AuthMailOutbox.
func (s *Store) FailAuthMail(ctx context.Context, m ports.AuthMail, reason string, retryAt time.Time, dead bool) (ports.AuthMail, error) {
	now := s.now()
	retry := now
	if !retryAt.IsZero() {
		retry = micros(retryAt)
	}
	return s.settleAuthMail(ctx, "fail auth mail", `UPDATE auth_mail SET
			state = CASE WHEN ?4 OR attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
			sealed = CASE WHEN ?4 OR attempts >= max_attempts THEN NULL ELSE sealed END,
			run_at = CASE WHEN ?4 OR attempts >= max_attempts THEN run_at ELSE ?5 END,
			locked_until = NULL, last_error = ?6, updated_at = ?3
		WHERE id = ?1 AND state = 'sending' AND attempts = ?2 AND shop_id IS ?7 RETURNING `+authMailCols,
		m.ID, m.Attempts, now, dead, retry, jobReason(reason), shopOrNull(m.ShopID))
}

// shopOrNull is a mail's shop as stored: NULL for shop-less mail.
func shopOrNull(id ports.ShopID) *ports.ShopID {
	if id.IsZero() {
		return nil
	}
	return &id
}

// settleAuthMail runs one fenced outcome statement (the mail's ID, shop
// and attempt) in its own unit of work; ErrNotFound when the attempt is no
// longer the one running.
func (s *Store) settleAuthMail(ctx context.Context, op, query string, args ...any) (ports.AuthMail, error) {
	var rows []authMailRow
	err := s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		return tx.(*globalTx).q.SelectContext(ctx, &rows, query, args...)
	})
	if err != nil {
		return ports.AuthMail{}, wrap(op, err)
	}
	if len(rows) == 0 {
		return ports.AuthMail{}, fmt.Errorf("sqlite: %s: no sending attempt: %w", op, ports.ErrNotFound)
	}
	return rows[0].port(), nil
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
