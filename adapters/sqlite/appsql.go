package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"modernc.org/sqlite"
	sqlitelib "modernc.org/sqlite/lib"

	"github.com/stockadehq/stockade/ports"
)

// wallSQL is the unit of work's SQL handle: the transaction behind the
// tenant wall (wall.go). Every statement runs with the wall's authorizer
// strict; the first statement engages the wall.
type wallSQL struct{ t *shopTx }

func (wallSQL) Dialect() string { return ports.DialectSQLite }

// SQL implements ports.ShopTx.
func (t *shopTx) SQL() ports.TxSQL { return wallSQL{t} }

// WithAppTables declares the embedding app's tenant tables (each with a
// shop_id column and a primary key); the store's tenant wall covers them.
func WithAppTables(tables ...ports.TenantTable) Option {
	return func(o *options) { o.appTables = append(o.appTables, tables...) }
}

// enter engages the wall if needed and marks a handle statement running;
// the returned leave must be called when the statement has been prepared.
func (h wallSQL) enter(ctx context.Context) (func(), error) {
	t := h.t
	if t.wall == nil {
		if err := t.engage(ctx); err != nil {
			return nil, err
		}
	}
	w := t.wall
	w.depth.Add(1)
	return func() { w.depth.Add(-1) }, nil
}

// ExecContext implements ports.TxSQL. The result's RowsAffected and
// LastInsertId are ports.ErrUnsupported: SQLite does not count rows
// written through the wall's INSTEAD OF triggers (use RETURNING).
func (h wallSQL) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	leave, err := h.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer leave()
	if _, err := h.t.q.ExecContext(ctx, query, args...); err != nil {
		return nil, h.mapErr(err)
	}
	return wallResult{}, nil
}

// QueryContext implements ports.TxSQL.
func (h wallSQL) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	leave, err := h.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer leave()
	rows, err := h.t.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, h.mapErr(err)
	}
	return rows, nil
}

// QueryRowContext implements ports.TxSQL. A *sql.Row cannot carry a Go
// error of the caller's choosing, so when the wall cannot be engaged (no
// app tables declared) or refuses the statement, the query is not run and
// the row's error is SQLite's "no such function: " followed by the message
// ExecContext would return (naming the refusal and, for a table not
// declared, "declare the table with sqlite.WithAppTables"); errors.Is does
// not see the ports sentinels through it. Use QueryContext for those.
func (h wallSQL) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	leave, err := h.enter(ctx)
	if err != nil {
		return h.errRow(ctx, err)
	}
	row := h.t.q.QueryRowContext(ctx, query, args...)
	leave()
	if err := row.Err(); err != nil && h.refused(err) {
		return h.errRow(ctx, h.mapErr(err))
	}
	return row
}

// errRow returns a row whose error message ends with err's: SQLite
// reports the unknown function named by the quoted message. It runs
// outside the handle's strict mode and reads no table.
func (h wallSQL) errRow(ctx context.Context, err error) *sql.Row {
	return h.t.q.QueryRowContext(ctx, `SELECT "`+strings.ReplaceAll(err.Error(), `"`, `""`)+`"()`)
}

// refused reports whether err is the authorizer's refusal. A refused
// function is reported as SQLITE_ERROR "not authorized to use function",
// everything else the authorizer refuses as SQLITE_AUTH.
func (h wallSQL) refused(err error) bool {
	var se *sqlite.Error
	return h.t.wall != nil && errors.As(err, &se) && (se.Code()&0xff == sqlitelib.SQLITE_AUTH || strings.Contains(se.Error(), "not authorized"))
}

// mapErr names a refusal of the authorizer, else maps as the store does.
func (h wallSQL) mapErr(err error) error {
	if h.refused(err) {
		return h.t.wall.refusal()
	}
	return mapErr("sqlite wall", err)
}

// wallResult is a write's result through the wall.
type wallResult struct{}

var errNoCount = fmt.Errorf("sqlite wall: SQLite does not count rows written through the tenant wall's views (use RETURNING): %w", ports.ErrUnsupported)

func (wallResult) LastInsertId() (int64, error) { return 0, errNoCount }
func (wallResult) RowsAffected() (int64, error) { return 0, errNoCount }
