package sqlstore

import (
	"context"
	"fmt"

	"github.com/stockadehq/stockade/ports"
)

// keepAnOwner enforces "at least one owner remains" (TEN-5) before a
// demotion or removal of user. query selects the user_id and role of every
// owner of the shop or org bound to its first parameter (scope) and of user
// (its second), ordered by user_id, and ends in the dialect's row-lock
// clause (r.lock).
//
// On Postgres the lock (FOR UPDATE, or FOR NO KEY UPDATE, the lock the
// later UPDATE or DELETE takes anyway) is taken in user_id order, so
// concurrent callers cannot deadlock; under READ COMMITTED a caller that
// had to wait re-reads the locked rows as the first caller left them. On
// SQLite a writing unit of work holds the database's one write lock from
// BEGIN IMMEDIATE on, so the rows read cannot change before the write.
// Either way, of two concurrent demotions of the last two owners the
// second sees one owner left and is refused.
//
// keepAnOwner returns ErrNotFound if user has no row, ErrLastOwner if it is
// the only owner, and nil otherwise, the rows locked until the unit of work
// ends.
func (r *runner) keepAnOwner(ctx context.Context, op, query string, scope any, user ports.UserID) error {
	var rows []struct {
		UserID ports.UserID `db:"user_id"`
		Role   string       `db:"role"`
	}
	if err := r.sel(ctx, &rows, query, scope, user); err != nil {
		return r.wrap(op, err)
	}
	const owner = "owner" // ports.RoleOwner and ports.OrgOwner alike
	found, isOwner, owners := false, false, 0
	for _, row := range rows {
		if row.Role == owner {
			owners++
		}
		if row.UserID == user {
			found, isOwner = true, row.Role == owner
		}
	}
	switch {
	case !found:
		return r.notFound(op)
	case isOwner && owners == 1:
		return fmt.Errorf("%s: %s: %w", r.d.Name(), op, ports.ErrLastOwner)
	}
	return nil
}
