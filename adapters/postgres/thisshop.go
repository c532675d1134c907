package postgres

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

func (t *shopTx) ThisShop() ports.ThisShopRepo { return thisShop{t} }

// thisShop is the directory row of the unit of work's own shop. shops is a
// global table without row-level security, so the key is the wall: every
// statement is keyed by t.shop and no method takes another.
type thisShop struct{ t *shopTx }

func (r thisShop) Get(ctx context.Context) (ports.Shop, error) {
	var row shopRow
	if err := sqlx.GetContext(ctx, r.t.q, &row, `SELECT `+shopCols+` FROM shops WHERE id = $1`, r.t.shop); err != nil {
		return ports.Shop{}, wrap("get this shop", err)
	}
	return row.port(), nil
}

func (r thisShop) Rename(ctx context.Context, name string) (ports.Shop, error) {
	if err := ports.ValidateName("name", name); err != nil {
		return ports.Shop{}, err
	}
	return r.set(ctx, "rename shop", `name = $2`, name)
}

func (r thisShop) SetStatus(ctx context.Context, status ports.ShopStatus) (ports.Shop, error) {
	if err := ports.ValidateShopStatus(status); err != nil {
		return ports.Shop{}, err
	}
	return r.set(ctx, "set shop status", `status = $2`, status)
}

// set runs UPDATE shops SET assignment (whose parameter is $2, arg) on
// this shop's row and returns the stored row.
func (r thisShop) set(ctx context.Context, op, assignment string, arg any) (ports.Shop, error) {
	var row shopRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `UPDATE shops SET `+assignment+` WHERE id = $1 RETURNING `+shopCols, r.t.shop, arg)
	if err != nil {
		return ports.Shop{}, wrap(op, err)
	}
	return row.port(), nil
}
