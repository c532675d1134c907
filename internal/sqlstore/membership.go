package sqlstore

import (
	"context"

	"github.com/stockadehq/stockade/ports"
)

// Memberships implements ports.ShopTx.
func (t *Shop) Memberships() ports.MembershipRepo { return memberships{t} }

// memberships is the membership repository of one Shop. Every statement
// binds t.shop; none accepts a shop from the caller.
type memberships struct{ t *Shop }

var _ ports.MembershipRepo = memberships{}

type membershipRow struct {
	ShopID    ports.ShopID `db:"shop_id"`
	UserID    ports.UserID `db:"user_id"`
	Role      ports.Role   `db:"role"`
	CreatedAt Time         `db:"created_at"`
	UpdatedAt Time         `db:"updated_at"`
}

func (r membershipRow) port() ports.Membership {
	return ports.Membership{ShopID: r.ShopID, UserID: r.UserID, Role: r.Role, CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time}
}

const membershipCols = `shop_id, user_id, role, created_at, updated_at`

// Add inserts the membership. The foreign keys refuse an unknown user or
// shop with ErrNotFound; a second membership of the user is ErrConflict.
func (r memberships) Add(ctx context.Context, user ports.UserID, role ports.Role) (ports.Membership, error) {
	if err := ports.ValidateRole(role); err != nil {
		return ports.Membership{}, err
	}
	now := r.t.now()
	_, err := r.t.exec(ctx, `INSERT INTO memberships (`+membershipCols+`) VALUES (?, ?, ?, ?, ?)`, r.t.shop, user, role, now, now)
	if err != nil {
		return ports.Membership{}, r.t.wrap("add membership", err)
	}
	return ports.Membership{ShopID: r.t.shop, UserID: user, Role: role, CreatedAt: now, UpdatedAt: now}, nil
}

func (r memberships) Get(ctx context.Context, user ports.UserID) (ports.Membership, error) {
	var row membershipRow
	err := r.t.get(ctx, &row, `SELECT `+membershipCols+` FROM memberships WHERE shop_id = ? AND user_id = ?`, r.t.shop, user)
	if err != nil {
		return ports.Membership{}, r.t.wrap("get membership", err)
	}
	return row.port(), nil
}

func (r memberships) List(ctx context.Context) ([]ports.Membership, error) {
	var rows []membershipRow
	err := r.t.sel(ctx, &rows, `SELECT `+membershipCols+` FROM memberships WHERE shop_id = ? ORDER BY created_at, user_id`, r.t.shop)
	if err != nil {
		return nil, r.t.wrap("list memberships", err)
	}
	out := make([]ports.Membership, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

// SetRole checks the last-owner rule before a demotion (see keepAnOwner),
// locking the shop's owners and the member with FOR NO KEY UPDATE on
// Postgres, the lock the UPDATE takes anyway.
func (r memberships) SetRole(ctx context.Context, user ports.UserID, role ports.Role) (ports.Membership, error) {
	if err := ports.ValidateRole(role); err != nil {
		return ports.Membership{}, err
	}
	if role != ports.RoleOwner {
		err := r.t.keepAnOwner(ctx, "set role", `SELECT user_id, role FROM memberships
			WHERE shop_id = ? AND (role = 'owner' OR user_id = ?) ORDER BY user_id`+r.t.lock("FOR NO KEY UPDATE"), r.t.shop, user)
		if err != nil {
			return ports.Membership{}, err
		}
	}
	var row membershipRow
	err := r.t.get(ctx, &row, `UPDATE memberships SET role = ?, updated_at = ?
		WHERE shop_id = ? AND user_id = ? RETURNING `+membershipCols, role, r.t.now(), r.t.shop, user)
	if err != nil {
		return ports.Membership{}, r.t.wrap("set role", err)
	}
	return row.port(), nil
}

// Remove checks the last-owner rule (see keepAnOwner), locking the shop's
// owners and the member with FOR UPDATE on Postgres, the lock the DELETE
// takes anyway. The foreign keys of sessions and magic_links cascade,
// deleting the member's sessions and links in this shop.
func (r memberships) Remove(ctx context.Context, user ports.UserID) error {
	err := r.t.keepAnOwner(ctx, "remove membership", `SELECT user_id, role FROM memberships
		WHERE shop_id = ? AND (role = 'owner' OR user_id = ?) ORDER BY user_id`+r.t.lock("FOR UPDATE"), r.t.shop, user)
	if err != nil {
		return err
	}
	n, err := r.t.exec(ctx, `DELETE FROM memberships WHERE shop_id = ? AND user_id = ?`, r.t.shop, user)
	if err != nil {
		return r.t.wrap("remove membership", err)
	}
	if n == 0 {
		return r.t.notFound("remove membership")
	}
	return nil
}
