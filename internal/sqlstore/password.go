package sqlstore

import (
	"context"

	"github.com/stockadehq/stockade/ports"
)

// Passwords implements ports.GlobalTx. On Postgres the application role
// may write the hash column but not read it (migration 00018): the adapter
// there joins this repository's Set and Delete with its own Get, through
// a definer function that answers one exact statement.
func (t *Global) Passwords() ports.PasswordRepo { return passwords{t} }

// passwords keeps password hashes, one global row per user.
type passwords struct{ t *Global }

var _ ports.PasswordRepo = passwords{}

// maxPasswordHash bounds a stored hash, in bytes; real encodings are
// under 200.
const maxPasswordHash = 1024

// Set upserts the user's hash; the foreign key to users refuses an unknown
// user (ErrNotFound). Its statement reads no stored column: SET names the
// parameters, not excluded.hash, which Postgres' application role could
// not read.
func (r passwords) Set(ctx context.Context, user ports.UserID, hash string) error {
	if hash == "" || len(hash) > maxPasswordHash {
		return ports.Invalid("password hash", "must be 1 to 1024 bytes")
	}
	now := r.t.now()
	_, err := r.t.exec(ctx, `INSERT INTO passwords (user_id, hash, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET hash = ?, updated_at = ?`,
		user, hash, now, hash, now)
	if err != nil {
		return r.t.wrap("set password", err)
	}
	return nil
}

// Get reads the user's hash: ErrNotFound when the user has none. On
// Postgres the adapter's own Get replaces this one.
func (r passwords) Get(ctx context.Context, user ports.UserID) (string, error) {
	var hash string
	if err := r.t.get(ctx, &hash, `SELECT hash FROM passwords WHERE user_id = ?`, user); err != nil {
		return "", r.t.wrap("get password", err)
	}
	return hash, nil
}
