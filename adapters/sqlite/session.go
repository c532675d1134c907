package sqlite

import (
	"context"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// sessions is the session repository of one shopTx. Every statement binds
// t.shop; none accepts a shop from the caller.
type sessions struct{ t *shopTx }

type sessionRow struct {
	ShopID     ports.ShopID    `db:"shop_id"`
	ID         ports.SessionID `db:"id"`
	UserID     ports.UserID    `db:"user_id"`
	TokenHash  []byte          `db:"token_hash"`
	Method     string          `db:"method"`
	UserAgent  string          `db:"user_agent"`
	IP         string          `db:"ip"`
	CreatedAt  int64           `db:"created_at"`
	LastSeenAt int64           `db:"last_seen_at"`
	ExpiresAt  int64           `db:"expires_at"`
	// Impersonation is NULL for a member's own session.
	Impersonation *ports.ImpersonationID `db:"impersonation_id"`
}

const sessionCols = `shop_id, id, user_id, token_hash, method, user_agent, ip, created_at, last_seen_at, expires_at, impersonation_id`

func (r sessionRow) port() ports.Session {
	s := ports.Session{
		ID: r.ID, UserID: r.UserID, TokenHash: r.TokenHash, Method: r.Method, UserAgent: r.UserAgent, IP: r.IP,
		CreatedAt: fromMicros(r.CreatedAt), LastSeenAt: fromMicros(r.LastSeenAt), ExpiresAt: fromMicros(r.ExpiresAt),
	}
	if r.Impersonation != nil {
		s.Impersonation = *r.Impersonation
	}
	return s
}

// optionalImpersonation stores the zero impersonation as NULL.
func optionalImpersonation(id ports.ImpersonationID) *ports.ImpersonationID {
	if id.IsZero() {
		return nil
	}
	return &id
}

func (r sessions) Create(ctx context.Context, s ports.Session) (ports.Session, error) {
	if err := s.Validate(); err != nil {
		return ports.Session{}, err
	}
	now := r.t.store.now()
	row := sessionRow{
		ShopID: r.t.shop, ID: s.ID, UserID: s.UserID, TokenHash: append([]byte(nil), s.TokenHash...),
		Method: s.Method, UserAgent: s.UserAgent, IP: s.IP,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: micros(s.ExpiresAt), Impersonation: optionalImpersonation(s.Impersonation),
	}
	_, err := r.t.q.NamedExecContext(ctx, `INSERT INTO sessions (`+sessionCols+`) VALUES
		(:shop_id, :id, :user_id, :token_hash, :method, :user_agent, :ip, :created_at, :last_seen_at, :expires_at, :impersonation_id)`, row)
	if err != nil {
		return ports.Session{}, wrap("create session", err)
	}
	return row.port(), nil
}

func (r sessions) Get(ctx context.Context, id ports.SessionID) (ports.Session, error) {
	var row sessionRow
	err := r.t.q.GetContext(ctx, &row, `SELECT `+sessionCols+` FROM sessions WHERE shop_id = ? AND id = ?`, r.t.shop, id)
	if err != nil {
		return ports.Session{}, wrap("get session", err)
	}
	return row.port(), nil
}

func (r sessions) ListByUser(ctx context.Context, user ports.UserID) ([]ports.Session, error) {
	var rows []sessionRow
	// IDs are UUIDv7, so id breaks a tie of equal creation times in
	// creation order too.
	err := r.t.q.SelectContext(ctx, &rows, `SELECT `+sessionCols+` FROM sessions
		WHERE shop_id = ? AND user_id = ? ORDER BY created_at DESC, id DESC`, r.t.shop, user)
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
	res, err := r.t.q.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE shop_id = ? AND id = ?`, micros(at), r.t.shop, id)
	if err != nil {
		return wrap("touch session", err)
	}
	return mustAffect("touch session", res)
}

func (r sessions) Rotate(ctx context.Context, id ports.SessionID, tokenHash []byte) error {
	if len(tokenHash) != ports.TokenHashSize {
		return ports.Invalid("token hash", "must be a SHA-256 digest")
	}
	res, err := r.t.q.ExecContext(ctx, `UPDATE sessions SET token_hash = ? WHERE shop_id = ? AND id = ?`, tokenHash, r.t.shop, id)
	if err != nil {
		return wrap("rotate session", err)
	}
	return mustAffect("rotate session", res)
}

func (r sessions) Delete(ctx context.Context, id ports.SessionID) error {
	res, err := r.t.q.ExecContext(ctx, `DELETE FROM sessions WHERE shop_id = ? AND id = ?`, r.t.shop, id)
	if err != nil {
		return wrap("delete session", err)
	}
	return mustAffect("delete session", res)
}

func (r sessions) DeleteByUser(ctx context.Context, user ports.UserID, keep ports.SessionID) (int, error) {
	// A zero keep is the nil UUID, which no stored session has.
	res, err := r.t.q.ExecContext(ctx, `DELETE FROM sessions WHERE shop_id = ? AND user_id = ? AND id <> ?`, r.t.shop, user, keep)
	return affected("delete user's sessions", res, err)
}

func (r sessions) DeleteExpired(ctx context.Context, now, idleBefore time.Time) (int, error) {
	res, err := r.t.q.ExecContext(ctx, `DELETE FROM sessions WHERE shop_id = ? AND (expires_at < ? OR last_seen_at < ?)`,
		r.t.shop, micros(now), micros(idleBefore))
	return affected("delete expired sessions", res, err)
}
