package sqlite

import (
	"context"

	"github.com/stockadehq/stockade/ports"
)

func (t *shopTx) ThisShop() ports.ThisShopRepo { return thisShop{t} }

// thisShop is the directory row of the unit of work's own shop. Every
// statement is keyed by t.shop, so no other shop's row can be addressed.
type thisShop struct{ t *shopTx }

func (r thisShop) Get(ctx context.Context) (ports.Shop, error) {
	var row shopRow
	if err := r.t.q.GetContext(ctx, &row, `SELECT `+shopCols+` FROM shops WHERE id = ?`, r.t.shop); err != nil {
		return ports.Shop{}, wrap("get this shop", err)
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
	err := r.t.q.GetContext(ctx, &row, `UPDATE shops SET `+assignment+` WHERE id = ? RETURNING `+shopCols, arg, r.t.shop)
	if err != nil {
		return ports.Shop{}, wrap(op, err)
	}
	return row.port(), nil
}
