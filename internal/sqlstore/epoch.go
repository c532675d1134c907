package sqlstore

import (
	"context"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// SessionEpochs is the session-epoch part of ports.UserRepo (EndSessions,
// SessionsValidAfter) on one Global. The user repository embeds it.
type SessionEpochs struct{ t *Global }

// EndSessions implements ports.UserRepo: it raises the user's session
// epoch to at, never lowers it. ErrNotFound for an unknown user.
func (r SessionEpochs) EndSessions(ctx context.Context, id ports.UserID, at time.Time) error {
	n, err := r.t.exec(ctx, `UPDATE users SET sessions_valid_after =
			CASE WHEN sessions_valid_after >= ? THEN sessions_valid_after ELSE ? END
		WHERE id = ?`, at, at, id)
	if err != nil {
		return r.t.wrap("end sessions", err)
	}
	if n == 0 {
		return r.t.notFound("end sessions")
	}
	return nil
}

// SessionsValidAfter implements ports.UserRepo: the zero time when the
// user's sessions were never ended, ErrNotFound for an unknown user.
func (r SessionEpochs) SessionsValidAfter(ctx context.Context, id ports.UserID) (time.Time, error) {
	var at Time
	if err := r.t.get(ctx, &at, `SELECT sessions_valid_after FROM users WHERE id = ?`, id); err != nil {
		return time.Time{}, r.t.wrap("sessions valid after", err)
	}
	return at.Time, nil
}
