package postgres

import (
	"context"
	"database/sql"

	"github.com/stockadehq/stockade/ports"
)

// Passwords implements ports.GlobalTx: the shared repository
// (internal/sqlstore) with Get replaced. The application role may write
// the hash column but not read it (migration 00018): Set and Delete never
// read it, and Get reads one hash through the definer function
// stockade_password_hash, which answers only passwordHashSQL.
func (t *globalTx) Passwords() ports.PasswordRepo {
	return passwords{PasswordRepo: t.Global.Passwords(), t: t}
}

// passwords is the shared password repository with Postgres' own Get.
type passwords struct {
	ports.PasswordRepo
	t *globalTx
}

// passwordHashSQL is the one statement stockade_password_hash answers; the
// function compares the client's statement text with it, byte for byte.
const passwordHashSQL = `SELECT stockade_password_hash($1)`

// Get reads the user's hash; the function answers NULL for a user without
// one (ErrNotFound).
func (r passwords) Get(ctx context.Context, user ports.UserID) (string, error) {
	var hash sql.NullString
	if err := r.t.q.GetContext(ctx, &hash, passwordHashSQL, user); err != nil {
		return "", wrap("get password", err)
	}
	if !hash.Valid {
		return "", notFound("get password")
	}
	return hash.String, nil
}
