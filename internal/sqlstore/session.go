package sqlstore

import (
	"context"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// Sessions implements ports.ShopTx.
func (t *Shop) Sessions() ports.SessionRepo { return sessions{t} }

// sessions is the session repository of one Shop. Every statement binds
// t.shop; none accepts a shop from the caller.
type sessions struct{ t *Shop }

var _ ports.SessionRepo = sessions{}

// SessionRow is a stored session as the session repository reads it. It is
// exported for Postgres' one-message session resolve, which scans it by
// position (Dest).
type SessionRow struct {
	ID         ports.SessionID `db:"id"`
	UserID     ports.UserID    `db:"user_id"`
	TokenHash  []byte          `db:"token_hash"`
	Method     string          `db:"method"`
	UserAgent  string          `db:"user_agent"`
	IP         string          `db:"ip"`
	CreatedAt  Time            `db:"created_at"`
	LastSeenAt Time            `db:"last_seen_at"`
	ExpiresAt  Time            `db:"expires_at"`
	// Impersonation is NULL for a member's own session.
	Impersonation *ports.ImpersonationID `db:"impersonation_id"`
	AAL           int                    `db:"aal"`
	// ReauthenticatedAt is NULL until the first re-authentication: the
	// session's creation counts as one.
	ReauthenticatedAt Time `db:"reauthenticated_at"`
}

// Dest returns pointers to r's fields in the order of the columns
// SessionCols names, for a scan by position.
func (r *SessionRow) Dest() []any {
	return []any{&r.ID, &r.UserID, &r.TokenHash, &r.Method, &r.UserAgent, &r.IP,
		&r.CreatedAt, &r.LastSeenAt, &r.ExpiresAt, &r.Impersonation, &r.AAL, &r.ReauthenticatedAt}
}

// Session returns the session r holds.
func (r SessionRow) Session() ports.Session {
	s := ports.Session{
		ID: r.ID, UserID: r.UserID, TokenHash: r.TokenHash, Method: r.Method, UserAgent: r.UserAgent, IP: r.IP,
		CreatedAt: r.CreatedAt.Time, LastSeenAt: r.LastSeenAt.Time, ExpiresAt: r.ExpiresAt.Time,
		AAL: r.AAL, ReauthenticatedAt: r.ReauthenticatedAt.Time,
	}
	if s.ReauthenticatedAt.IsZero() {
		s.ReauthenticatedAt = s.CreatedAt
	}
	if r.Impersonation != nil {
		s.Impersonation = *r.Impersonation
	}
	return s
}

// SessionCols is the column list every session read selects, in the order
// of SessionRow's fields (SessionRow.Dest).
const SessionCols = `id, user_id, token_hash, method, user_agent, ip, created_at, last_seen_at, expires_at, impersonation_id, aal, reauthenticated_at`

// Create inserts the session; the foreign keys refuse a user who is not a
// member of this shop, or an impersonation of another shop (ErrNotFound).
func (r sessions) Create(ctx context.Context, s ports.Session) (ports.Session, error) {
	if err := s.Validate(); err != nil {
		return ports.Session{}, err
	}
	now := r.t.now()
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.ReauthenticatedAt = now, now, ports.Timestamp(s.ExpiresAt), now
	if s.AAL == 0 {
		s.AAL = ports.AAL1
	}
	s.TokenHash = cloneBytes(s.TokenHash)
	_, err := r.t.exec(ctx, `INSERT INTO sessions (shop_id, `+SessionCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.t.shop, s.ID, s.UserID, s.TokenHash, s.Method, s.UserAgent, s.IP, now, now, s.ExpiresAt, optionalImpersonation(s.Impersonation), s.AAL, now)
	if err != nil {
		return ports.Session{}, r.t.wrap("create session", err)
	}
	return s, nil
}

func (r sessions) Get(ctx context.Context, id ports.SessionID) (ports.Session, error) {
	var row SessionRow
	err := r.t.get(ctx, &row, `SELECT `+SessionCols+` FROM sessions WHERE shop_id = ? AND id = ?`, r.t.shop, id)
	if err != nil {
		return ports.Session{}, r.t.wrap("get session", err)
	}
	return row.Session(), nil
}

// ListByUser lists the user's sessions newest first. IDs are UUIDv7, so id
// breaks a tie of equal creation times in creation order too.
func (r sessions) ListByUser(ctx context.Context, user ports.UserID) ([]ports.Session, error) {
	var rows []SessionRow
	err := r.t.sel(ctx, &rows, `SELECT `+SessionCols+` FROM sessions
		WHERE shop_id = ? AND user_id = ? ORDER BY created_at DESC, id DESC`, r.t.shop, user)
	if err != nil {
		return nil, r.t.wrap("list sessions", err)
	}
	out := make([]ports.Session, len(rows))
	for i, row := range rows {
		out[i] = row.Session()
	}
	return out, nil
}

func (r sessions) Touch(ctx context.Context, id ports.SessionID, at time.Time) error {
	return r.one(ctx, "touch session", `UPDATE sessions SET last_seen_at = ? WHERE shop_id = ? AND id = ?`, at, r.t.shop, id)
}

func (r sessions) Rotate(ctx context.Context, id ports.SessionID, tokenHash []byte) error {
	if len(tokenHash) != ports.TokenHashSize {
		return ports.Invalid("token hash", "must be a SHA-256 digest")
	}
	return r.one(ctx, "rotate session", `UPDATE sessions SET token_hash = ? WHERE shop_id = ? AND id = ?`, tokenHash, r.t.shop, id)
}

func (r sessions) Reauthenticate(ctx context.Context, id ports.SessionID, aal int, at time.Time) error {
	if aal != ports.AAL1 && aal != ports.AAL2 {
		return ports.Invalid("aal", "must be 1 or 2")
	}
	return r.one(ctx, "reauthenticate session", `UPDATE sessions SET aal = ?, reauthenticated_at = ? WHERE shop_id = ? AND id = ?`,
		aal, ports.Timestamp(at), r.t.shop, id)
}

func (r sessions) Delete(ctx context.Context, id ports.SessionID) error {
	return r.one(ctx, "delete session", `DELETE FROM sessions WHERE shop_id = ? AND id = ?`, r.t.shop, id)
}

// one runs a statement on one session and reports ErrNotFound when it
// touched no row.
func (r sessions) one(ctx context.Context, op, query string, args ...any) error {
	n, err := r.t.exec(ctx, query, args...)
	if err != nil {
		return r.t.wrap(op, err)
	}
	if n == 0 {
		return r.t.notFound(op)
	}
	return nil
}

func (r sessions) DeleteByUser(ctx context.Context, user ports.UserID, keep ports.SessionID) (int, error) {
	// A zero keep is the nil UUID, which names no session: all are removed.
	n, err := r.t.exec(ctx, `DELETE FROM sessions WHERE shop_id = ? AND user_id = ? AND id <> ?`, r.t.shop, user, keep)
	if err != nil {
		return 0, r.t.wrap("delete user sessions", err)
	}
	return int(n), nil
}

func (r sessions) DeleteExpired(ctx context.Context, now, idleBefore time.Time) (int, error) {
	n, err := r.t.exec(ctx, `DELETE FROM sessions WHERE shop_id = ? AND (expires_at < ? OR last_seen_at < ?)`,
		r.t.shop, now, idleBefore)
	if err != nil {
		return 0, r.t.wrap("delete expired sessions", err)
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
