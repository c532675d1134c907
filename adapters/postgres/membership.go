package postgres

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

// memberships is the membership repository of one shopTx. Statements bind
// t.shop, and row-level security holds them to it as well.
type memberships struct{ t *shopTx }

type membershipRow struct {
	ShopID    ports.ShopID `db:"shop_id"`
	UserID    ports.UserID `db:"user_id"`
	Role      ports.Role   `db:"role"`
	CreatedAt time.Time    `db:"created_at"`
	UpdatedAt time.Time    `db:"updated_at"`
}

func (r membershipRow) port() ports.Membership {
	return ports.Membership{ShopID: r.ShopID, UserID: r.UserID, Role: r.Role, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

const membershipCols = `shop_id, user_id, role, created_at, updated_at`

func (r memberships) Add(ctx context.Context, user ports.UserID, role ports.Role) (ports.Membership, error) {
	if err := ports.ValidateRole(role); err != nil {
		return ports.Membership{}, err
	}
	now := r.t.store.now()
	_, err := r.t.q.ExecContext(ctx, `INSERT INTO memberships (`+membershipCols+`) VALUES ($1, $2, $3, $4, $4)`, r.t.shop, user, role, now)
	if err != nil {
		return ports.Membership{}, wrap("add membership", err)
	}
	return ports.Membership{ShopID: r.t.shop, UserID: user, Role: role, CreatedAt: now, UpdatedAt: now}, nil
}

func (r memberships) Get(ctx context.Context, user ports.UserID) (ports.Membership, error) {
	var row membershipRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `SELECT `+membershipCols+` FROM memberships WHERE shop_id = $1 AND user_id = $2`, r.t.shop, user)
	if err != nil {
		return ports.Membership{}, wrap("get membership", err)
	}
	return row.port(), nil
}

func (r memberships) List(ctx context.Context) ([]ports.Membership, error) {
	var rows []membershipRow
	err := sqlx.SelectContext(ctx, r.t.q, &rows, `SELECT `+membershipCols+` FROM memberships WHERE shop_id = $1 ORDER BY created_at, user_id`, r.t.shop)
	if err != nil {
		return nil, wrap("list memberships", err)
	}
	out := make([]ports.Membership, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

// SetRole locks the shop's owners and the member with FOR NO KEY UPDATE,
// the lock the UPDATE takes anyway, before it checks the last-owner rule
// (see lockOwners).
func (r memberships) SetRole(ctx context.Context, user ports.UserID, role ports.Role) (ports.Membership, error) {
	if err := ports.ValidateRole(role); err != nil {
		return ports.Membership{}, err
	}
	if role != ports.RoleOwner {
		err := lockOwners(ctx, r.t.q, "set role", `SELECT user_id, role FROM memberships
			WHERE shop_id = $1 AND (role = 'owner' OR user_id = $2) ORDER BY user_id FOR NO KEY UPDATE`, r.t.shop, user)
		if err != nil {
			return ports.Membership{}, err
		}
	}
	var row membershipRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `UPDATE memberships SET role = $1, updated_at = $2
		WHERE shop_id = $3 AND user_id = $4 RETURNING `+membershipCols, role, r.t.store.now(), r.t.shop, user)
	if err != nil {
		return ports.Membership{}, wrap("set role", err)
	}
	return row.port(), nil
}

// Remove locks the shop's owners and the member with FOR UPDATE, the lock
// the DELETE takes anyway, before it checks the last-owner rule (see
// lockOwners). The foreign keys of sessions and magic_links cascade,
// deleting the member's sessions and links in this shop.
func (r memberships) Remove(ctx context.Context, user ports.UserID) error {
	err := lockOwners(ctx, r.t.q, "remove membership", `SELECT user_id, role FROM memberships
		WHERE shop_id = $1 AND (role = 'owner' OR user_id = $2) ORDER BY user_id FOR UPDATE`, r.t.shop, user)
	if err != nil {
		return err
	}
	res, err := r.t.q.ExecContext(ctx, `DELETE FROM memberships WHERE shop_id = $1 AND user_id = $2`, r.t.shop, user)
	if err != nil {
		return wrap("remove membership", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return notFound("remove membership")
	}
	return nil
}
