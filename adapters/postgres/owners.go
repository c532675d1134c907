package postgres

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

// lockOwners enforces "at least one owner remains" (TEN-5) before a
// demotion or removal of user. query selects and row-locks (FOR UPDATE or
// FOR NO KEY UPDATE) the user_id and role of every owner of the shop or
// org in $1 and of user ($2), ordered by user_id so that concurrent
// callers take the locks in one order and cannot deadlock. Under READ
// COMMITTED a caller that had to wait re-reads the locked rows as the
// first caller left them, so of two concurrent demotions of the last two
// owners the second sees one owner and is refused.
//
// lockOwners returns ErrNotFound if user has no row, ErrLastOwner if it is
// the only owner, and nil otherwise, with the rows locked until the unit
// of work ends.
func lockOwners(ctx context.Context, q querier, op, query string, scope any, user ports.UserID) error {
	var rows []struct {
		UserID ports.UserID `db:"user_id"`
		Role   string       `db:"role"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, query, scope, user); err != nil {
		return wrap(op, err)
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
		return notFound(op)
	case isOwner && owners == 1:
		return fmt.Errorf("postgres: %s: %w", op, ports.ErrLastOwner)
	}
	return nil
}
