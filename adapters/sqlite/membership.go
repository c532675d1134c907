package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/stockadehq/stockade/ports"
)

// memberships is the membership repository of one shopTx. Every statement
// binds t.shop; none accepts a shop from the caller.
type memberships struct{ t *shopTx }

type membershipRow struct {
	ShopID    ports.ShopID `db:"shop_id"`
	UserID    ports.UserID `db:"user_id"`
	Role      ports.Role   `db:"role"`
	CreatedAt int64        `db:"created_at"`
	UpdatedAt int64        `db:"updated_at"`
}

func (r membershipRow) port() ports.Membership {
	return ports.Membership{ShopID: r.ShopID, UserID: r.UserID, Role: r.Role, CreatedAt: fromMicros(r.CreatedAt), UpdatedAt: fromMicros(r.UpdatedAt)}
}

const membershipCols = `shop_id, user_id, role, created_at, updated_at`

func (r memberships) Add(ctx context.Context, user ports.UserID, role ports.Role) (ports.Membership, error) {
	if err := ports.ValidateRole(role); err != nil {
		return ports.Membership{}, err
	}
	now := r.t.store.now()
	row := membershipRow{ShopID: r.t.shop, UserID: user, Role: role, CreatedAt: now, UpdatedAt: now}
	_, err := r.t.q.NamedExecContext(ctx, `INSERT INTO memberships (`+membershipCols+`) VALUES (:shop_id, :user_id, :role, :created_at, :updated_at)`, row)
	if err != nil {
		return ports.Membership{}, wrap("add membership", err)
	}
	return row.port(), nil
}

func (r memberships) Get(ctx context.Context, user ports.UserID) (ports.Membership, error) {
	var row membershipRow
	err := r.t.q.GetContext(ctx, &row, `SELECT `+membershipCols+` FROM memberships WHERE shop_id = ? AND user_id = ?`, r.t.shop, user)
	if err != nil {
		return ports.Membership{}, wrap("get membership", err)
	}
	return row.port(), nil
}

func (r memberships) List(ctx context.Context) ([]ports.Membership, error) {
	var rows []membershipRow
	err := r.t.q.SelectContext(ctx, &rows, `SELECT `+membershipCols+` FROM memberships WHERE shop_id = ? ORDER BY created_at, user_id`, r.t.shop)
	if err != nil {
		return nil, wrap("list memberships", err)
	}
	out := make([]ports.Membership, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

// SetRole and Remove check the last-owner rule, then write. A writing unit
// of work holds SQLite's one write lock from BEGIN (IMMEDIATE) on, so the
// owners counted cannot change before the write: of two concurrent
// demotions of the last two owners the second sees one owner left.
func (r memberships) SetRole(ctx context.Context, user ports.UserID, role ports.Role) (ports.Membership, error) {
	if err := ports.ValidateRole(role); err != nil {
		return ports.Membership{}, err
	}
	if role != ports.RoleOwner {
		if err := r.keepAnOwner(ctx, "set role", user); err != nil {
			return ports.Membership{}, err
		}
	}
	var row membershipRow
	err := r.t.q.GetContext(ctx, &row, `UPDATE memberships SET role = ?, updated_at = ? WHERE shop_id = ? AND user_id = ? RETURNING `+membershipCols,
		role, r.t.store.now(), r.t.shop, user)
	if err != nil {
		return ports.Membership{}, wrap("set role", err)
	}
	return row.port(), nil
}

// Remove deletes the membership; the foreign keys of sessions and
// magic_links cascade, deleting the member's sessions and links in this
// shop.
func (r memberships) Remove(ctx context.Context, user ports.UserID) error {
	if err := r.keepAnOwner(ctx, "remove membership", user); err != nil {
		return err
	}
	res, err := r.t.q.ExecContext(ctx, `DELETE FROM memberships WHERE shop_id = ? AND user_id = ?`, r.t.shop, user)
	if err != nil {
		return wrap("remove membership", err)
	}
	return mustAffect("remove membership", res)
}

// keepAnOwner returns ErrLastOwner if user is the shop's only Owner, and
// ErrNotFound if user is not a member.
func (r memberships) keepAnOwner(ctx context.Context, op string, user ports.UserID) error {
	var role ports.Role
	var others int
	err := r.t.q.QueryRowxContext(ctx, `SELECT role, (SELECT count(*) FROM memberships o
		WHERE o.shop_id = m.shop_id AND o.role = 'owner' AND o.user_id <> m.user_id)
		FROM memberships m WHERE shop_id = ? AND user_id = ?`, r.t.shop, user).Scan(&role, &others)
	if err != nil {
		return wrap(op, err)
	}
	if role == ports.RoleOwner && others == 0 {
		return fmt.Errorf("sqlite: %s: %w", op, ports.ErrLastOwner)
	}
	return nil
}

func mustAffect(op string, res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: %s: %w", op, ports.ErrNotFound)
	}
	return nil
}
