package sqlite

import (
	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

// txSQL is the unit of work's SQL handle.
//
// TODO(sqlitewall): this is the bare transaction; it gives app tables no
// tenant wall yet (a statement that forgets WHERE shop_id sees every shop).
// Helper "sqlitewall" wraps it in the wall built from Store.appTables.
type txSQL struct{ *sqlx.Tx }

func (txSQL) Dialect() string { return ports.DialectSQLite }

// SQL implements ports.ShopTx.
func (t *shopTx) SQL() ports.TxSQL { return txSQL{t.q} }

// WithAppTables declares the embedding app's tenant tables (each with a
// shop_id column); the store's tenant wall covers them.
func WithAppTables(tables ...ports.TenantTable) Option {
	return func(o *options) { o.appTables = append(o.appTables, tables...) }
}
