package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx/reflectx"

	"github.com/stockadehq/stockade/internal/sqlstore"
)

// flight runs the statements of one unit of work on one pooled connection
// (sqlstore.Querier). It never sends a statement of its own ahead of the
// work: what must precede the first statement travels with it in one
// pipeline, which PostgreSQL's extended protocol runs up to its Sync as
// one implicit transaction.
//
//   - Read-only: every statement goes as set_config(tenant, local) and
//     transaction_read_only, then the statement, then Sync — one round
//     trip, one implicit transaction, no BEGIN or COMMIT. Under READ
//     COMMITTED each statement of a transaction takes its own snapshot
//     anyway, so a read-only unit of work sees what one transaction would.
//   - Snapshot (read-only, ports.Snapshot): BEGIN ISOLATION LEVEL
//     REPEATABLE READ READ ONLY and set_config travel with the first
//     statement; every later statement reads that statement's snapshot;
//     COMMIT ends it.
//   - Read-write: BEGIN and set_config travel with the first statement;
//     later statements run in that transaction; COMMIT ends it. A unit of
//     work that sends nothing costs nothing.
//
// Statements are prepared once per connection and cached by pgx (its
// default statement cache), so PostgreSQL plans each once.
type flight struct {
	conn     *sql.Conn
	mapper   *reflectx.Mapper
	shop     string // the tenant setting's value; "" outside a shop
	readOnly bool
	// snapshot holds one REPEATABLE READ transaction for the whole unit
	// of work (ports.TxOptions.Snapshot); it implies readOnly.
	snapshot bool
	// open is true once BEGIN has run on conn: later statements need no
	// prelude and the unit of work must end with COMMIT or ROLLBACK.
	open bool
	// failed holds an error a statement could not return to its caller
	// (txSQL.QueryRowContext); the unit of work fails with it.
	failed error
}

var _ sqlstore.Querier = (*flight)(nil)

// The prelude statements. Their text is constant, so pgx prepares each
// once per connection; the values travel as parameters.
const (
	beginSQL         = "BEGIN ISOLATION LEVEL READ COMMITTED"
	beginReadOnlySQL = "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY"
	beginSnapshotSQL = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
	setTenantSQL     = "SELECT set_config('" + TenantSetting + "', $1, true)"
	// readOnlySQL makes a pipelined statement's implicit transaction
	// read-only, as BEGIN … READ ONLY would.
	readOnlySQL       = "SELECT set_config('transaction_read_only', 'on', true)"
	readOnlyTenantSQL = "SELECT set_config('" + TenantSetting + "', $1, true), set_config('transaction_read_only', 'on', true)"
)

type queued struct {
	sql  string
	args []any
}

// prelude is what must run before the next statement in the same flight.
func (f *flight) prelude() []queued {
	switch {
	case f.open:
		return nil
	case f.snapshot && f.shop != "":
		return []queued{{beginSnapshotSQL, nil}, {setTenantSQL, []any{f.shop}}}
	case f.snapshot:
		return []queued{{beginSnapshotSQL, nil}}
	case f.readOnly && f.shop != "":
		return []queued{{readOnlyTenantSQL, []any{f.shop}}}
	case f.readOnly:
		return []queued{{readOnlySQL, nil}}
	case f.shop != "":
		return []queued{{beginSQL, nil}, {setTenantSQL, []any{f.shop}}}
	default:
		return []queued{{beginSQL, nil}}
	}
}

// begin opens the transaction now, for statements that cannot carry the
// prelude (the embedding app's SQL through database/sql). A read-only
// unit of work becomes a READ ONLY transaction from here on.
func (f *flight) begin(ctx context.Context) error {
	if f.open {
		return nil
	}
	b := &pgx.Batch{}
	if f.snapshot {
		b.Queue(beginSnapshotSQL)
	} else if f.readOnly {
		b.Queue(beginReadOnlySQL)
	} else {
		b.Queue(beginSQL)
	}
	if f.shop != "" {
		b.Queue(setTenantSQL, f.shop)
	}
	return f.raw(func(c *pgx.Conn) error {
		err := c.SendBatch(ctx, b).Close()
		f.noteTx(c)
		return err
	})
}

// raw runs fn on the pgx connection under conn.
func (f *flight) raw(fn func(*pgx.Conn) error) error {
	return f.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("postgres: driver connection is %T, not pgx", dc)
		}
		return fn(c.Conn())
	})
}

// noteTx records whether a transaction block is open on c, from the
// server's own report (ReadyForQuery's status).
func (f *flight) noteTx(c *pgx.Conn) {
	if s := c.PgConn().TxStatus(); s == 'T' || s == 'E' {
		f.open = true
	}
}

// query runs query with its prelude and hands its rows to read, which
// must not keep them.
func (f *flight) query(ctx context.Context, query string, args []any, read func(pgx.Rows) error) error {
	return f.raw(func(c *pgx.Conn) error {
		pre := f.prelude()
		if len(pre) == 0 {
			rows, err := c.Query(ctx, query, args...)
			if err != nil {
				return err
			}
			return readAll(rows, read)
		}
		br := c.SendBatch(ctx, batch(pre, query, args))
		err := runPrelude(br, pre)
		if err == nil {
			var rows pgx.Rows
			rows, err = br.Query()
			if err == nil {
				err = readAll(rows, read)
			}
		}
		err = errors.Join(err, br.Close())
		f.noteTx(c)
		return firstErr(err)
	})
}

// exec runs query with its prelude and returns the rows it changed.
func (f *flight) exec(ctx context.Context, query string, args []any) (int64, error) {
	var n int64
	err := f.raw(func(c *pgx.Conn) error {
		pre := f.prelude()
		if len(pre) == 0 {
			tag, err := c.Exec(ctx, query, args...)
			n = tag.RowsAffected()
			return err
		}
		br := c.SendBatch(ctx, batch(pre, query, args))
		err := runPrelude(br, pre)
		if err == nil {
			tag, xerr := br.Exec()
			n, err = tag.RowsAffected(), xerr
		}
		err = errors.Join(err, br.Close())
		f.noteTx(c)
		return firstErr(err)
	})
	return n, err
}

func batch(pre []queued, query string, args []any) *pgx.Batch {
	b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(pre)+1)}
	for _, p := range pre {
		b.Queue(p.sql, p.args...)
	}
	b.Queue(query, args...)
	return b
}

func runPrelude(br pgx.BatchResults, pre []queued) error {
	for range pre {
		if _, err := br.Exec(); err != nil {
			return err
		}
	}
	return nil
}

// readAll hands rows to read, then closes them and reports the first
// error, the server's included.
func readAll(rows pgx.Rows, read func(pgx.Rows) error) error {
	err := read(rows)
	rows.Close()
	if err != nil {
		return err
	}
	return rows.Err()
}

// firstErr unwraps a join of one error so that errors.As sees the
// server's error first (errors.Join keeps both reachable otherwise).
func firstErr(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		if errs := j.Unwrap(); len(errs) > 0 {
			return errs[0]
		}
	}
	return err
}

// GetContext implements sqlstore.Querier. The scan plan is made from the
// first row, so that a statement the server refused reports the server's
// error, not a scan error over an empty description.
func (f *flight) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	return f.query(ctx, query, args, func(rows pgx.Rows) error {
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				return err
			}
			return sql.ErrNoRows
		}
		sc, err := newScanner(f.mapper, rows, dest, false)
		if err != nil {
			return err
		}
		return sc.scanInto(rows, dest)
	})
}

// SelectContext implements sqlstore.Querier.
func (f *flight) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	return f.query(ctx, query, args, func(rows pgx.Rows) error {
		var sc *scanner
		for rows.Next() {
			if sc == nil {
				var err error
				if sc, err = newScanner(f.mapper, rows, dest, true); err != nil {
					return err
				}
			}
			if err := sc.appendRow(rows); err != nil {
				return err
			}
		}
		return nil
	})
}

// ExecContext implements sqlstore.Querier.
func (f *flight) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	n, err := f.exec(ctx, query, args)
	if err != nil {
		return nil, err
	}
	return driver.RowsAffected(n), nil
}

// QueryEach implements sqlstore.Querier.
func (f *flight) QueryEach(ctx context.Context, query string, args []any, row func(scan func(dest ...any) error) error) error {
	return f.query(ctx, query, args, func(rows pgx.Rows) error {
		for rows.Next() {
			if err := row(rows.Scan); err != nil {
				return err
			}
		}
		return nil
	})
}

// commit ends an open transaction. The leading empty SELECT fails with
// "current transaction is aborted" when an earlier statement failed (and
// its error was swallowed by fn): without it PostgreSQL would answer
// COMMIT with a silent ROLLBACK. Both travel in one simple-protocol
// message.
func (f *flight) commit(ctx context.Context) error {
	if !f.open {
		return nil
	}
	return f.raw(func(c *pgx.Conn) error {
		_, err := c.PgConn().Exec(ctx, "SELECT; COMMIT").ReadAll()
		if err == nil {
			f.open = false
		}
		return err
	})
}

// rollback ends whatever the flight left open. If that fails, the
// connection's state is unknown and it is dropped from the pool.
func (f *flight) rollback(ctx context.Context) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = f.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return driver.ErrBadConn
		}
		pc := c.Conn().PgConn()
		if pc.TxStatus() == 'I' {
			return nil
		}
		if _, err := pc.Exec(rctx, "ROLLBACK").ReadAll(); err != nil || pc.TxStatus() != 'I' {
			return driver.ErrBadConn
		}
		f.open = false
		return nil
	})
}
