package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/internal/sqlstore"
	"github.com/stockadehq/stockade/ports"
)

// InShop implements ports.Store.
func (s *Store) InShop(ctx context.Context, shop ports.ShopID, fn func(context.Context, ports.ShopTx) error, opts ...ports.TxOption) error {
	if shop.IsZero() {
		return ports.Invalid("shop id", "must be set")
	}
	o := ports.ApplyTxOptions(opts)
	return s.run(ctx, o, func(ctx context.Context, tx *sqlx.Tx, conn *sqlx.Conn) error {
		t := &shopTx{Shop: sqlstore.NewShop(sqlstore.SQLX(tx), dialect{}, s.clock, shop), q: tx, shop: shop, store: s, conn: conn, readOnly: o.ReadOnly}
		defer func() {
			if t.wall != nil { // fn failed: the rollback clears the scope
				_ = register(conn, nil)
			}
		}()
		if err := fn(ctx, t); err != nil {
			return err
		}
		return t.disengage(ctx)
	})
}

// Global implements ports.Store.
func (s *Store) Global(ctx context.Context, fn func(context.Context, ports.GlobalTx) error, opts ...ports.TxOption) error {
	return s.run(ctx, ports.ApplyTxOptions(opts), func(ctx context.Context, tx *sqlx.Tx, _ *sqlx.Conn) error {
		return fn(ctx, &globalTx{Global: sqlstore.NewGlobal(sqlstore.SQLX(tx), dialect{}, s.clock), q: tx, store: s})
	})
}

// run executes fn as one transaction. A read-only unit of work is one
// read transaction too, and under WAL all its reads see the database as
// of its first read: ports.Snapshot needs nothing more here.
func (s *Store) run(ctx context.Context, o ports.TxOptions, fn func(context.Context, *sqlx.Tx, *sqlx.Conn) error) (err error) {
	ctx, err = ports.EnterUnitOfWork(ctx)
	if err != nil {
		return err
	}
	db := s.writer
	if o.ReadOnly {
		db = s.reader
	}
	tx, conn, release, err := s.begin(ctx, db, o.ReadOnly)
	if err != nil {
		return err
	}
	defer release()
	committed := false
	defer func() {
		if committed {
			return
		}
		_ = tx.Rollback() // the error that got us here is the one to report
		if p := recover(); p != nil {
			panic(p)
		}
	}()
	if err := fn(ctx, tx, conn); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return mapErr("sqlite: commit", err)
	}
	committed = true
	return nil
}

// begin starts a transaction on db. In-memory databases have one
// connection serving both kinds of unit of work, so there the read-only
// promise is kept by the connection's query_only flag, set before BEGIN.
// The returned release must be called after the transaction has ended.
// The connection is returned when the store declares app tables (the
// tenant wall installs its authorizer on it) or is in memory; else nil.
func (s *Store) begin(ctx context.Context, db *sqlx.DB, readOnly bool) (*sqlx.Tx, *sqlx.Conn, func(), error) {
	if s.reader != s.writer {
		if len(s.appTables) == 0 {
			tx, err := db.BeginTxx(ctx, nil)
			return tx, nil, func() {}, mapErr("sqlite: begin", err)
		}
		conn, err := db.Connx(ctx)
		if err != nil {
			return nil, nil, nil, mapErr("sqlite: begin", err)
		}
		tx, err := conn.BeginTxx(ctx, nil)
		if err != nil {
			_ = conn.Close()
			return nil, nil, nil, mapErr("sqlite: begin", err)
		}
		return tx, conn, func() { _ = conn.Close() }, nil
	}
	conn, err := db.Connx(ctx)
	if err != nil {
		return nil, nil, nil, mapErr("sqlite: begin", err)
	}
	// BEGIN IMMEDIATE needs a writable connection; query_only is switched
	// on inside the transaction and off again before the connection goes
	// back to the pool (pragmas are not transactional).
	release := func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA query_only = 0")
		_ = conn.Close()
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA query_only = 0"); err != nil {
		release()
		return nil, nil, nil, mapErr("sqlite: begin", err)
	}
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		release()
		return nil, nil, nil, mapErr("sqlite: begin", err)
	}
	if readOnly {
		if _, err := tx.ExecContext(ctx, "PRAGMA query_only = 1"); err != nil {
			_ = tx.Rollback()
			release()
			return nil, nil, nil, mapErr("sqlite: begin", err)
		}
	}
	return tx, conn, release, nil
}

func (s *Store) now() int64 { return micros(s.clock.Now()) }

func micros(t time.Time) int64 { return ports.Timestamp(t).UnixMicro() }

// shopTx is a unit of work bound to one shop; every statement its
// repositories run binds s.shop.
type shopTx struct {
	// Shop holds the repositories written once (internal/sqlstore).
	sqlstore.Shop
	q     *sqlx.Tx
	shop  ports.ShopID
	store *Store
	// conn is the transaction's connection when the store declares app
	// tables; wall is the tenant wall once SQL() engaged it (wall.go).
	conn     *sqlx.Conn
	readOnly bool
	wall     *wall
}

func (t *shopTx) ShopID() ports.ShopID { return t.shop }

type globalTx struct {
	// Global holds the repositories written once (internal/sqlstore).
	sqlstore.Global
	q     *sqlx.Tx
	store *Store
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return mapErr(fmt.Sprintf("sqlite: %s", op), err)
}
