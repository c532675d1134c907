package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

// Querier is what a unit of work's statements run on. An adapter over
// database/sql passes its transaction through SQLX; the Postgres adapter
// implements it over its driver's pipeline so that a statement can travel
// with the tenant setting in one round trip.
//
// GetContext and SelectContext scan like sqlx: columns into struct fields
// by their db tag, or one column into a scannable dest; GetContext returns
// sql.ErrNoRows when there is no row.
type Querier interface {
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	// QueryEach runs query and calls row once per row in order; scan
	// reads that row's columns into dest. An error from row stops the
	// iteration and is returned.
	QueryEach(ctx context.Context, query string, args []any, row func(scan func(dest ...any) error) error) error
}

// SQLXQuerier is the part of *sqlx.Tx and *sqlx.Conn that SQLX adapts.
type SQLXQuerier interface {
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// SQLX adapts a database/sql transaction or connection (through sqlx) to
// Querier.
func SQLX(q SQLXQuerier) Querier { return sqlxQuerier{q} }

type sqlxQuerier struct{ SQLXQuerier }

func (q sqlxQuerier) QueryEach(ctx context.Context, query string, args []any, row func(scan func(dest ...any) error) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows.Scan); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return rows.Close()
}

var _ SQLXQuerier = (*sqlx.Tx)(nil)

// runner runs the shared statements of one unit of work: it rebinds each
// statement and encodes its arguments for the dialect. Errors come back as
// the driver returned them; callers map them with wrap, which names what
// was being done.
type runner struct {
	q     Querier
	d     Dialect
	clock ports.Clock
}

// get scans the one row query returns into dest (sql.ErrNoRows if none).
func (r *runner) get(ctx context.Context, dest any, query string, args ...any) error {
	return r.q.GetContext(ctx, dest, r.d.Rebind(query), r.d.Args(args)...)
}

// sel scans every row query returns into dest, a pointer to a slice.
func (r *runner) sel(ctx context.Context, dest any, query string, args ...any) error {
	return r.q.SelectContext(ctx, dest, r.d.Rebind(query), r.d.Args(args)...)
}

// exec runs query and returns how many rows it changed.
func (r *runner) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := r.q.ExecContext(ctx, r.d.Rebind(query), r.d.Args(args)...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// now is the store clock's time as stored: UTC, microsecond precision.
func (r *runner) now() time.Time { return ports.Timestamp(r.clock.Now()) }

// wrap maps err (nil stays nil) to a ports sentinel, naming op.
func (r *runner) wrap(op string, err error) error { return r.d.MapErr(op, err) }

// notFound is ports.ErrNotFound named with the dialect and op.
func (r *runner) notFound(op string) error {
	return fmt.Errorf("%s: %s: %w", r.d.Name(), op, ports.ErrNotFound)
}

// lock is the dialect's row-lock clause (see Dialect.Lock).
func (r *runner) lock(clause string) string { return r.d.Lock(clause) }

// cast is expr cast to pgType where the dialect needs it (Dialect.Cast).
func (r *runner) cast(expr, pgType string) string { return r.d.Cast(expr, pgType) }
