package postgres

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

// passwords keeps password hashes, one global row per user.
type passwords struct{ t *globalTx }

// maxHashLen bounds a stored hash; real encodings are under 200 bytes.
const maxHashLen = 1024

// Set upserts the user's hash; the foreign key to users refuses an unknown
// user (ErrNotFound).
func (r passwords) Set(ctx context.Context, user ports.UserID, hash string) error {
	if hash == "" || len(hash) > maxHashLen {
		return ports.Invalid("password hash", "must be 1 to 1024 bytes")
	}
	_, err := r.t.q.ExecContext(ctx, `INSERT INTO passwords (user_id, hash, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at`,
		user, hash, r.t.store.now())
	if err != nil {
		return wrap("set password", err)
	}
	return nil
}

func (r passwords) Get(ctx context.Context, user ports.UserID) (string, error) {
	var hash string
	if err := sqlx.GetContext(ctx, r.t.q, &hash, `SELECT hash FROM passwords WHERE user_id = $1`, user); err != nil {
		return "", wrap("get password", err)
	}
	return hash, nil
}
