package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// AuthMail implements ports.ShopTx: the mail carries the unit of work's
// shop.
func (t *Shop) AuthMail() ports.AuthMailQueue { return authMail{r: &t.runner, shop: &t.shop} }

// AuthMail implements ports.GlobalTx: the mail has no shop.
func (t *Global) AuthMail() ports.AuthMailQueue { return authMail{r: &t.runner} }

// authMail enqueues into auth_mail within one unit of work; shop is the
// unit of work's shop, nil in a Global one. The caller never names it.
type authMail struct {
	r    *runner
	shop *ports.ShopID
}

var _ ports.AuthMailQueue = authMail{}

// AuthMailRow is a row of auth_mail as AuthMailCols selects it, in either
// database's encoding. The adapters' claims scan into it
// (ClaimedAuthMail).
type AuthMailRow struct {
	ID          ports.AuthMailID `db:"id"`
	ShopID      *ports.ShopID    `db:"shop_id"`
	Kind        string           `db:"kind"`
	Recipient   string           `db:"recipient"`
	Subject     string           `db:"subject"`
	Sealed      []byte           `db:"sealed"`
	State       string           `db:"state"`
	Attempts    int              `db:"attempts"`
	MaxAttempts int              `db:"max_attempts"`
	RunAt       Time             `db:"run_at"`
	LockedUntil Time             `db:"locked_until"`
	LastError   string           `db:"last_error"`
	ProviderID  string           `db:"provider_id"`
	CreatedAt   Time             `db:"created_at"`
	UpdatedAt   Time             `db:"updated_at"`
}

// AuthMailCols are the columns of auth_mail an AuthMailRow holds.
const AuthMailCols = `id, shop_id, kind, recipient, subject, sealed, state, attempts, max_attempts, run_at, locked_until,
	last_error, provider_id, created_at, updated_at`

func (r AuthMailRow) port() ports.AuthMail {
	m := ports.AuthMail{
		ID: r.ID, Kind: ports.AuthMailKind(r.Kind), To: r.Recipient, Subject: r.Subject, Sealed: r.Sealed,
		State: ports.AuthMailState(r.State), Attempts: r.Attempts, MaxAttempts: r.MaxAttempts, RunAt: r.RunAt.Time,
		LockedUntil: r.LockedUntil.Time, LastError: r.LastError, ProviderID: r.ProviderID,
		CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time,
	}
	if r.ShopID != nil {
		m.ShopID = *r.ShopID
	}
	return m
}

// ClaimedAuthMail returns the mail a claim marked sending in the
// contract's order (oldest RunAt first, then ID): UPDATE … RETURNING has
// none.
func ClaimedAuthMail(rows []AuthMailRow) []ports.AuthMail {
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
	return out
}

func (q authMail) Enqueue(ctx context.Context, m ports.AuthMail) (ports.AuthMail, error) {
	if err := m.Validate(); err != nil {
		return ports.AuthMail{}, err
	}
	now := q.r.now()
	runAt := now
	if !m.RunAt.IsZero() {
		runAt = m.RunAt
	}
	if m.MaxAttempts == 0 {
		m.MaxAttempts = ports.DefaultMaxAttempts
	}
	var row AuthMailRow
	err := q.r.get(ctx, &row, `INSERT INTO auth_mail (id, shop_id, kind, recipient, subject, sealed, state, attempts,
			max_attempts, run_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?) RETURNING `+AuthMailCols,
		m.ID, q.shop, m.Kind, m.To, m.Subject, m.Sealed, m.MaxAttempts, runAt, now, now)
	if err != nil {
		return ports.AuthMail{}, q.r.wrap("enqueue auth mail", err)
	}
	return row.port(), nil
}

// MarkAuthMailSent implements ports.AuthMailOutbox's MarkAuthMailSent for
// s, a store whose units of work are built on Shop and Global: one fenced
// outcome statement (the mail's ID, shop and attempt) in a unit of work of
// the mail's own shop, or a Global one for shop-less mail (settleAuthMail).
// providerID is cut to 255 bytes.
func MarkAuthMailSent(ctx context.Context, s ports.Store, m ports.AuthMail, providerID string) (ports.AuthMail, error) {
	if len(providerID) > 255 {
		providerID = providerID[:255]
	}
	return settleAuthMail(ctx, s, m, "mark auth mail sent", func(r *runner) (string, []any) {
		return `UPDATE auth_mail SET state = 'sent', sealed = NULL, locked_until = NULL,
				provider_id = ?, last_error = '', updated_at = ?
			WHERE id = ? AND state = 'sending' AND attempts = ? AND shop_id IS NOT DISTINCT FROM ` + r.cast("?", "uuid") + `
			RETURNING ` + AuthMailCols,
			[]any{FailureReason(providerID), r.now(), m.ID, m.Attempts, optionalShop(m.ShopID)}
	})
}

// FailAuthMail implements ports.AuthMailOutbox's FailAuthMail for s, as
// MarkAuthMailSent does: queued again at retryAt (the store's now when
// zero), or dead with its body wiped when dead or out of attempts.
func FailAuthMail(ctx context.Context, s ports.Store, m ports.AuthMail, reason string, retryAt time.Time, dead bool) (ports.AuthMail, error) {
	return settleAuthMail(ctx, s, m, "fail auth mail", func(r *runner) (string, []any) {
		now := r.now()
		if retryAt.IsZero() {
			retryAt = now
		}
		return `UPDATE auth_mail SET
				state = CASE WHEN ? OR attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
				sealed = CASE WHEN ? OR attempts >= max_attempts THEN NULL ELSE sealed END,
				run_at = CASE WHEN ? OR attempts >= max_attempts THEN run_at ELSE ? END,
				locked_until = NULL, last_error = ?, updated_at = ?
			WHERE id = ? AND state = 'sending' AND attempts = ? AND shop_id IS NOT DISTINCT FROM ` + r.cast("?", "uuid") + `
			RETURNING ` + AuthMailCols,
			[]any{dead, dead, dead, retryAt, FailureReason(reason), now, m.ID, m.Attempts, optionalShop(m.ShopID)}
	})
}

// unitOfWork is a unit of work built on a Shop or a Global of this
// package (an adapter's, which embeds one).
type unitOfWork interface{ shared() *runner }

func (t *Shop) shared() *runner   { return &t.runner }
func (t *Global) shared() *runner { return &t.runner }

// settleAuthMail runs the outcome statement stmt builds in a unit of work
// of s: of m's shop, so that Postgres' row-level security admits exactly
// that shop's rows, or a Global one for shop-less mail. The statement
// names the shop too, so the SQL holds the wall by itself. ErrNotFound
// when the attempt is no longer the one running.
func settleAuthMail(ctx context.Context, s ports.Store, m ports.AuthMail, op string, stmt func(*runner) (string, []any)) (ports.AuthMail, error) {
	var rows []AuthMailRow
	var name string
	run := func(ctx context.Context, tx any) error {
		u, ok := tx.(unitOfWork)
		if !ok {
			return fmt.Errorf("sqlstore: %s: %T is not built on sqlstore", op, tx)
		}
		r := u.shared()
		name = r.d.Name()
		query, args := stmt(r)
		return r.wrap(op, r.sel(ctx, &rows, query, args...))
	}
	var err error
	if m.ShopID.IsZero() {
		err = s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error { return run(ctx, tx) })
	} else {
		err = s.InShop(ctx, m.ShopID, func(ctx context.Context, tx ports.ShopTx) error { return run(ctx, tx) })
	}
	if err != nil {
		return ports.AuthMail{}, err
	}
	if len(rows) == 0 {
		return ports.AuthMail{}, fmt.Errorf("%s: %s: no sending attempt: %w", name, op, ports.ErrNotFound)
	}
	return rows[0].port(), nil
}

// optionalShop is a mail's shop as a statement argument: NULL for
// shop-less mail.
func optionalShop(id ports.ShopID) *ports.ShopID {
	if id.IsZero() {
		return nil
	}
	return &id
}
