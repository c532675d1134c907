package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/stockadehq/stockade/ports"
)

// txSQL is the unit of work's SQL handle: the transaction's own connection,
// its tenant setting applied, so row-level security binds every statement
// on a tenant table (migration 00022's stockade_tenant_table) to the shop.
// The app's statements go through database/sql, which cannot carry the
// flight's prelude: the first one opens the transaction (BEGIN and the
// tenant setting, one round trip) before it runs.
type txSQL struct{ f *flight }

func (txSQL) Dialect() string { return ports.DialectPostgres }

// SQL implements ports.ShopTx.
func (t *shopTx) SQL() ports.TxSQL { return txSQL{t.q} }

// ExecContext implements ports.TxSQL.
func (s txSQL) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := s.f.begin(ctx); err != nil {
		return nil, mapErr("begin", err)
	}
	return s.f.conn.ExecContext(ctx, query, args...)
}

// QueryContext implements ports.TxSQL.
func (s txSQL) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := s.f.begin(ctx); err != nil {
		return nil, mapErr("begin", err)
	}
	return s.f.conn.QueryContext(ctx, query, args...)
}

// QueryRowContext implements ports.TxSQL. When the transaction cannot be
// opened the statement is not sent: the row reports a cancelled context
// and the unit of work fails with the cause.
func (s txSQL) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if err := s.f.begin(ctx); err != nil {
		s.f.failed = errors.Join(s.f.failed, mapErr("begin", err))
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		return s.f.conn.QueryRowContext(cctx, query, args...)
	}
	return s.f.conn.QueryRowContext(ctx, query, args...)
}

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
