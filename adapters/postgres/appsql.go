package postgres

import (
	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

// txSQL is the unit of work's SQL handle: the transaction's own connection,
// its tenant setting applied, so row-level security binds every statement
// on a tenant table (migration 00022's stockade_tenant_table) to the shop.
type txSQL struct{ *sqlx.Conn }

func (txSQL) Dialect() string { return ports.DialectPostgres }

// SQL implements ports.ShopTx.
func (t *shopTx) SQL() ports.TxSQL { return txSQL{t.conn} }

// WithAppTables declares the embedding app's tenant tables. Open checks
// that each exists with a shop_id column under forced row-level security
// (made so by SELECT stockade_tenant_table('name') in an app migration),
// and refuses to open otherwise.
func WithAppTables(tables ...ports.TenantTable) Option {
	return func(o *options) { o.appTables = append(o.appTables, tables...) }
}
