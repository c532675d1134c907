package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/stockadehq/stockade/ports"
)

// dialectPostgres is the Name of the Postgres dialect: the catalog queries
// below are the only statements of this package that differ by database
// beyond what Dialect abstracts, so they switch on it.
const dialectPostgres = "postgres"

var _ ports.TenantRowReader = (*Shop)(nil)

// TenantTables implements ports.TenantRowReader: it reads the catalog for
// every base table with a shop_id column (Stockade's and the embedding
// app's, in the store's schema; on SQLite the main database), so a table
// added by a later migration is exported without a list to keep.
func (t *Shop) TenantTables(ctx context.Context) ([]string, error) {
	q := `SELECT m.name FROM main.sqlite_master AS m, pragma_table_info(m.name, 'main') AS p
		WHERE m.type = 'table' AND p.name = 'shop_id' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'`
	if t.d.Name() == dialectPostgres {
		q = `SELECT c.relname FROM pg_catalog.pg_class AS c
			JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid
			WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
			AND a.attname = 'shop_id' AND NOT a.attisdropped`
	}
	var names []string
	if err := t.q.SelectContext(ctx, &names, q); err != nil {
		return nil, t.wrap("list tenant tables", err)
	}
	slices.Sort(names)
	return names, nil
}

// EachTenantRow implements ports.TenantRowReader. On Postgres a row is
// row_to_json of the row (bytea as "\x…" hex text, times as ISO 8601); on
// SQLite a json_object of the columns as stored (times as Unix
// microseconds, blobs as hex text). Every statement binds the unit of
// work's shop explicitly; on Postgres row-level security binds it too.
func (t *Shop) EachTenantRow(ctx context.Context, table string, fn func(row json.RawMessage) error) error {
	tables, err := t.TenantTables(ctx)
	if err != nil {
		return err
	}
	if !slices.Contains(tables, table) {
		return ports.Invalid("table", fmt.Sprintf("%q is not a tenant table", table))
	}
	var q string
	if t.d.Name() == dialectPostgres {
		q = `SELECT row_to_json(t)::text FROM ` + quoteIdent(table) + ` AS t WHERE t.shop_id = ?`
	} else {
		var cols []string
		if err := t.q.SelectContext(ctx, &cols, `SELECT name FROM pragma_table_info(?, 'main') ORDER BY cid`, table); err != nil {
			return t.wrap("read columns of "+table, err)
		}
		args := make([]string, 0, 2*len(cols))
		for _, c := range cols {
			lit := "'" + strings.ReplaceAll(c, "'", "''") + "'"
			col := quoteIdent(c)
			args = append(args, lit, "CASE WHEN typeof("+col+") = 'blob' THEN lower(hex("+col+")) ELSE "+col+" END")
		}
		q = `SELECT json_object(` + strings.Join(args, ", ") + `) FROM main.` + quoteIdent(table) + ` WHERE shop_id = ?`
	}
	var fnErr error
	err = t.q.QueryEach(ctx, t.d.Rebind(q), t.d.Args([]any{t.shop}), func(scan func(dest ...any) error) error {
		var row []byte
		if err := scan(&row); err != nil {
			return err
		}
		fnErr = fn(row)
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return t.wrap("read rows of "+table, err)
	}
	return nil
}

// quoteIdent quotes name as an SQL identifier.
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
