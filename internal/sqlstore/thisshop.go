package sqlstore

import (
	"context"

	"github.com/stockadehq/stockade/ports"
)

// ThisShop implements ports.ShopTx.
func (t *Shop) ThisShop() ports.ThisShopRepo { return thisShop{t} }

// thisShop is the directory row of the unit of work's own shop. shops is a
// global table (no row-level security on Postgres, no wall on SQLite), so
// the key is the wall: every statement is keyed by t.shop and no method
// takes another.
type thisShop struct{ t *Shop }

var _ ports.ThisShopRepo = thisShop{}

func (r thisShop) Get(ctx context.Context) (ports.Shop, error) {
	var row shopRow
	if err := r.t.get(ctx, &row, `SELECT `+shopCols+` FROM shops WHERE id = ?`, r.t.shop); err != nil {
		return ports.Shop{}, r.t.wrap("get this shop", err)
	}
	return row.port(), nil
}

func (r thisShop) Rename(ctx context.Context, name string) (ports.Shop, error) {
	if err := ports.ValidateName("name", name); err != nil {
		return ports.Shop{}, err
	}
	return r.set(ctx, "rename shop", `name = ?`, name)
}

func (r thisShop) SetStatus(ctx context.Context, status ports.ShopStatus) (ports.Shop, error) {
	if err := ports.ValidateShopStatus(status); err != nil {
		return ports.Shop{}, err
	}
	return r.set(ctx, "set shop status", `status = ?`, status)
}

// set runs UPDATE shops SET assignment (with one parameter, arg) on this
// shop's row and returns the stored row.
func (r thisShop) set(ctx context.Context, op, assignment string, arg any) (ports.Shop, error) {
	var row shopRow
	err := r.t.get(ctx, &row, `UPDATE shops SET `+assignment+` WHERE id = ? RETURNING `+shopCols, arg, r.t.shop)
	if err != nil {
		return ports.Shop{}, r.t.wrap(op, err)
	}
	return row.port(), nil
}
