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

// QueryRowContext implements ports.TxSQL. If the wall cannot be engaged,
// the row's error is SQLite's "no such function: stockade_wall_unavailable"
// and the query is not run (a *sql.Row cannot carry another error); a
// refused statement's error is SQLite's "not authorized".
func (h wallSQL) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	leave, err := h.enter(ctx)
	if err != nil {
		return h.t.q.QueryRowContext(ctx, `SELECT stockade_wall_unavailable()`)
	}
	defer leave()
	return h.t.q.QueryRowContext(ctx, query, args...)
}

// mapErr names a refusal of the authorizer, else maps as the store does.
func (h wallSQL) mapErr(err error) error {
	var se *sqlite.Error
	// A refused function is reported as SQLITE_ERROR "not authorized to
	// use function", everything else the authorizer refuses as SQLITE_AUTH.
	if errors.As(err, &se) && (se.Code()&0xff == sqlitelib.SQLITE_AUTH || strings.Contains(se.Error(), "not authorized")) {
		return fmt.Errorf("sqlite wall: refused %s: %w", h.t.wall.lastRefusal(), ports.ErrForbidden)
	}
	return mapErr("sqlite wall", err)
}

// wallResult is a write's result through the wall.
type wallResult struct{}

var errNoCount = fmt.Errorf("sqlite wall: SQLite does not count rows written through the tenant wall's views (use RETURNING): %w", ports.ErrUnsupported)

func (wallResult) LastInsertId() (int64, error) { return 0, errNoCount }
func (wallResult) RowsAffected() (int64, error) { return 0, errNoCount }
