package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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

// checkAppTables refuses declared app tables that are missing, lack a
// shop_id column, or are not under forced row-level security with a policy:
// a table the owner forgot to pass to stockade_tenant_table.
func (s *Store) checkAppTables(ctx context.Context, tables []ports.TenantTable) error {
	for _, t := range tables {
		var ok bool
		err := s.db.QueryRowContext(ctx, `
			SELECT c.relrowsecurity AND c.relforcerowsecurity
			       AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'shop_id' AND NOT a.attisdropped)
			       AND EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation')
			FROM pg_class c
			WHERE c.oid = to_regclass($1)`, t.Name).Scan(&ok)
		if errors.Is(err, sql.ErrNoRows) {
			return ports.Invalid("app table", fmt.Sprintf("%s does not exist; run the app's migrations", t.Name))
		}
		if err != nil {
			return mapErr("check app table "+t.Name, err)
		}
		if !ok {
			return ports.Invalid("app table", fmt.Sprintf("%s is not a tenant table; call SELECT stockade_tenant_table('%s') in a migration", t.Name, t.Name))
		}
	}
	return nil
}
