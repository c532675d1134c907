package sqlstore

import (
	"github.com/stockadehq/stockade/ports"
)

// Shop is the shared part of a unit of work bound to one shop: every
// repository method of ports.ShopTx that is written once lives on it. An
// adapter embeds a Shop (by value) in its own unit of work and adds what
// differs (SQL, its fast paths).
type Shop struct {
	runner
	shop ports.ShopID
}

// NewShop binds the shared repositories to q, a transaction the adapter
// has begun for shop (its tenant setting or wall already in place).
func NewShop(q Querier, d Dialect, clock ports.Clock, shop ports.ShopID) Shop {
	return Shop{runner: runner{q: q, d: d, clock: clock}, shop: shop}
}

// ShopID implements ports.ShopTx.
func (t *Shop) ShopID() ports.ShopID { return t.shop }

// Global is the shared part of a unit of work over the global tables (the
// directory, credentials, operators). An adapter embeds it by value.
type Global struct {
	runner
}

// NewGlobal binds the shared global repositories to q, a transaction the
// adapter has begun without a tenant.
func NewGlobal(q Querier, d Dialect, clock ports.Clock) Global {
	return Global{runner: runner{q: q, d: d, clock: clock}}
}
