package sqlite

import (
	"context"

	"github.com/stockadehq/stockade/ports"
)

// maxPasswordHash is the longest encoded hash PasswordRepo.Set accepts.
const maxPasswordHash = 1024

// passwords keeps password hashes, one global row per user.
type passwords struct{ t *globalTx }

func (r passwords) Set(ctx context.Context, user ports.UserID, hash string) error {
	if hash == "" || len(hash) > maxPasswordHash {
		return ports.Invalid("password hash", "must be 1 to 1024 bytes")
	}
	_, err := r.t.q.ExecContext(ctx, `INSERT INTO passwords (user_id, hash, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at`,
		user, hash, r.t.store.now())
	return wrap("set password", err)
}

func (r passwords) Get(ctx context.Context, user ports.UserID) (string, error) {
	var hash string
	if err := r.t.q.GetContext(ctx, &hash, `SELECT hash FROM passwords WHERE user_id = ?`, user); err != nil {
		return "", wrap("get password", err)
	}
	return hash, nil
}
