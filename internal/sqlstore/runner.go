package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

// Querier is what a unit of work's statements run on: a transaction, or a
// connection inside a transaction the adapter drives by hand.
type Querier interface {
	sqlx.QueryerContext
	sqlx.ExecerContext
}

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
	return sqlx.GetContext(ctx, r.q, dest, r.d.Rebind(query), r.d.Args(args)...)
}

// sel scans every row query returns into dest, a pointer to a slice.
func (r *runner) sel(ctx context.Context, dest any, query string, args ...any) error {
	return sqlx.SelectContext(ctx, r.q, dest, r.d.Rebind(query), r.d.Args(args)...)
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
