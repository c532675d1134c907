package postgres

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

// sessions is the session repository of one shopTx. Every statement binds
// t.shop, and row-level security holds it to that shop as well.
type sessions struct{ t *shopTx }

type sessionRow struct {
	ID         ports.SessionID `db:"id"`
	UserID     ports.UserID    `db:"user_id"`
	TokenHash  []byte          `db:"token_hash"`
	Method     string          `db:"method"`
	UserAgent  string          `db:"user_agent"`
	IP         string          `db:"ip"`
	CreatedAt  time.Time       `db:"created_at"`
	LastSeenAt time.Time       `db:"last_seen_at"`
	ExpiresAt  time.Time       `db:"expires_at"`
	// Impersonation is NULL for a member's own session.
	Impersonation *ports.ImpersonationID `db:"impersonation_id"`
}

func (r sessionRow) port() ports.Session {
	s := ports.Session{
		ID: r.ID, UserID: r.UserID, TokenHash: r.TokenHash, Method: r.Method, UserAgent: r.UserAgent, IP: r.IP,
		CreatedAt: r.CreatedAt.UTC(), LastSeenAt: r.LastSeenAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
	}
	if r.Impersonation != nil {
		s.Impersonation = *r.Impersonation
	}
	return s
}

// sessionCols is the column list every session read selects, in the order
// of sessionRow's fields (ResolveSession scans by position).
const sessionCols = `id, user_id, token_hash, method, user_agent, ip, created_at, last_seen_at, expires_at, impersonation_id`

// Create inserts the session; the foreign keys refuse a user who is not a
// member of this shop, or an impersonation of another shop (ErrNotFound).
func (r sessions) Create(ctx context.Context, s ports.Session) (ports.Session, error) {
	if err := s.Validate(); err != nil {
		return ports.Session{}, err
	}
	now := r.t.store.now()
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = now, now, ports.Timestamp(s.ExpiresAt)
	s.TokenHash = append([]byte(nil), s.TokenHash...)
	_, err := r.t.q.ExecContext(ctx, `INSERT INTO sessions (shop_id, `+sessionCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10)`,
		r.t.shop, s.ID, s.UserID, s.TokenHash, s.Method, s.UserAgent, s.IP, now, s.ExpiresAt, optionalImpersonation(s.Impersonation))
	if err != nil {
		return ports.Session{}, wrap("create session", err)
	}
	return s, nil
}

func (r sessions) Get(ctx context.Context, id ports.SessionID) (ports.Session, error) {
	var row sessionRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `SELECT `+sessionCols+` FROM sessions WHERE shop_id = $1 AND id = $2`, r.t.shop, id)
	if err != nil {
		return ports.Session{}, wrap("get session", err)
	}
	return row.port(), nil
}

func (r sessions) ListByUser(ctx context.Context, user ports.UserID) ([]ports.Session, error) {
	var rows []sessionRow
	err := sqlx.SelectContext(ctx, r.t.q, &rows, `SELECT `+sessionCols+` FROM sessions
		WHERE shop_id = $1 AND user_id = $2 ORDER BY created_at DESC, id DESC`, r.t.shop, user)
	if err != nil {
		return nil, wrap("list sessions", err)
	}
	out := make([]ports.Session, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

func (r sessions) Touch(ctx context.Context, id ports.SessionID, at time.Time) error {
	return r.updateOne(ctx, "touch session", `UPDATE sessions SET last_seen_at = $3 WHERE shop_id = $1 AND id = $2`, id, ports.Timestamp(at))
}

func (r sessions) Rotate(ctx context.Context, id ports.SessionID, tokenHash []byte) error {
	if len(tokenHash) != ports.TokenHashSize {
		return ports.Invalid("token hash", "must be a SHA-256 digest")
	}
	return r.updateOne(ctx, "rotate session", `UPDATE sessions SET token_hash = $3 WHERE shop_id = $1 AND id = $2`, id, tokenHash)
}

func (r sessions) Delete(ctx context.Context, id ports.SessionID) error {
	return r.updateOne(ctx, "delete session", `DELETE FROM sessions WHERE shop_id = $1 AND id = $2`, id, nil)
}

// updateOne runs a statement on one session (shop $1, id $2, and an
// optional $3) and reports ErrNotFound when it touched no row.
func (r sessions) updateOne(ctx context.Context, op, query string, id ports.SessionID, arg any) error {
	args := []any{r.t.shop, id}
	if arg != nil {
		args = append(args, arg)
	}
	n, err := affected(r.t.q.ExecContext(ctx, query, args...))
	if err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return notFound(op)
	}
	return nil
}

func (r sessions) DeleteByUser(ctx context.Context, user ports.UserID, keep ports.SessionID) (int, error) {
	// A zero keep is the nil UUID, which names no session: all are removed.
	n, err := affected(r.t.q.ExecContext(ctx, `DELETE FROM sessions WHERE shop_id = $1 AND user_id = $2 AND id <> $3`, r.t.shop, user, keep))
	if err != nil {
		return 0, wrap("delete user sessions", err)
	}
	return int(n), nil
}

func (r sessions) DeleteExpired(ctx context.Context, now, idleBefore time.Time) (int, error) {
	n, err := affected(r.t.q.ExecContext(ctx, `DELETE FROM sessions WHERE shop_id = $1 AND (expires_at < $2 OR last_seen_at < $3)`,
		r.t.shop, ports.Timestamp(now), ports.Timestamp(idleBefore)))
	if err != nil {
		return 0, wrap("delete expired sessions", err)
	}
	return int(n), nil
}

// optionalImpersonation stores the zero impersonation as NULL.
func optionalImpersonation(id ports.ImpersonationID) *ports.ImpersonationID {
	if id.IsZero() {
		return nil
	}
	return &id
}
