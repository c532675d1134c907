package postgres

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

// EndSessions implements ports.UserRepo: it raises the user's session
// epoch to at, never lowers it.
func (r users) EndSessions(ctx context.Context, id ports.UserID, at time.Time) error {
	res, err := r.t.q.ExecContext(ctx, `UPDATE users SET sessions_valid_after = GREATEST(COALESCE(sessions_valid_after, $1), $1) WHERE id = $2`,
		ports.Timestamp(at), id)
	n, err := affected(res, err)
	if err != nil {
		return wrap("end sessions", err)
	}
	if n == 0 {
		return notFound("end sessions")
	}
	return nil
}

// SessionsValidAfter implements ports.UserRepo.
func (r users) SessionsValidAfter(ctx context.Context, id ports.UserID) (time.Time, error) {
	var at sql.NullTime
	if err := sqlx.GetContext(ctx, r.t.q, &at, `SELECT sessions_valid_after FROM users WHERE id = $1`, id); err != nil {
		return time.Time{}, wrap("sessions valid after", err)
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return ports.Timestamp(at.Time), nil
}
