package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// EndSessions implements ports.UserRepo: it raises the user's session
// epoch to at, never lowers it.
func (r users) EndSessions(ctx context.Context, id ports.UserID, at time.Time) error {
	res, err := r.t.q.ExecContext(ctx, `UPDATE users SET sessions_valid_after = max(coalesce(sessions_valid_after, ?1), ?1) WHERE id = ?2`,
		micros(at), id)
	if err != nil {
		return wrap("end sessions", err)
	}
	return mustAffect("end sessions", res)
}

// SessionsValidAfter implements ports.UserRepo.
func (r users) SessionsValidAfter(ctx context.Context, id ports.UserID) (time.Time, error) {
	var at sql.NullInt64
	if err := r.t.q.GetContext(ctx, &at, `SELECT sessions_valid_after FROM users WHERE id = ?`, id); err != nil {
		return time.Time{}, wrap("sessions valid after", err)
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return fromMicros(at.Int64), nil
}
