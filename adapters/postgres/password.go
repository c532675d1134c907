package postgres

import (
	"context"
	"database/sql"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

// passwords keeps password hashes, one global row per user. The
// application role may write the hash column but not read it (migration
// 00018): Set never reads it, and Get reads one hash through the definer
// function stockade_password_hash, which answers only passwordHashSQL.
type passwords struct{ t *globalTx }

// passwordHashSQL is the one statement stockade_password_hash answers; the
// function compares the client's statement text with it, byte for byte.
const passwordHashSQL = `SELECT stockade_password_hash($1)`

// maxHashLen bounds a stored hash; real encodings are under 200 bytes.
const maxHashLen = 1024

// Set upserts the user's hash; the foreign key to users refuses an unknown
// user (ErrNotFound).
func (r passwords) Set(ctx context.Context, user ports.UserID, hash string) error {
	if hash == "" || len(hash) > maxHashLen {
		return ports.Invalid("password hash", "must be 1 to 1024 bytes")
	}
	// SET names the parameters, not excluded.hash: reading excluded.hash
	// needs SELECT on the column, which the application role lacks.
	_, err := r.t.q.ExecContext(ctx, `INSERT INTO passwords (user_id, hash, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET hash = $2, updated_at = $3`,
		user, hash, r.t.store.now())
	if err != nil {
		return wrap("set password", err)
	}
	return nil
}

// Get reads the user's hash; the function answers NULL for a user without
// one (ErrNotFound).
func (r passwords) Get(ctx context.Context, user ports.UserID) (string, error) {
	var hash sql.NullString
	if err := sqlx.GetContext(ctx, r.t.q, &hash, passwordHashSQL, user); err != nil {
		return "", wrap("get password", err)
	}
	if !hash.Valid {
		return "", notFound("get password")
	}
	return hash.String, nil
}
