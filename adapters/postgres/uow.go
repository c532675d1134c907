package postgres

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/internal/sqlstore"
	"github.com/stockadehq/stockade/ports"
)

// querier is what repositories run statements on: the unit of work's
// connection, inside its transaction.
type querier interface {
	sqlx.QueryerContext
	sqlx.ExecerContext
}

// InShop implements ports.Store. BEGIN and the tenant GUC travel in one
// round trip; row-level security then binds every statement of fn to shop,
// whatever SQL a repository sends.
func (s *Store) InShop(ctx context.Context, shop ports.ShopID, fn func(context.Context, ports.ShopTx) error, opts ...ports.TxOption) error {
	if shop.IsZero() {
		return ports.Invalid("shop id", "must be set")
	}
	// The UUID's canonical text is 36 characters of [0-9a-f-]: safe to
	// inline, which keeps the message in the simple protocol (one round
	// trip, several statements).
	begin := beginSQL(ports.ApplyTxOptions(opts)) + "; SELECT set_config('" + TenantSetting + "', '" + shop.String() + "', true)"
	return s.run(ctx, begin, func(ctx context.Context, conn *sqlx.Conn) error {
		return fn(ctx, &shopTx{Shop: sqlstore.NewShop(conn, s.dialect, s.clock, shop), q: conn, conn: conn, shop: shop, store: s})
	})
}

// Global implements ports.Store. Its transaction has no tenant set, so
// tenant tables show no rows inside it.
func (s *Store) Global(ctx context.Context, fn func(context.Context, ports.GlobalTx) error, opts ...ports.TxOption) error {
	return s.run(ctx, beginSQL(ports.ApplyTxOptions(opts)), func(ctx context.Context, conn *sqlx.Conn) error {
		return fn(ctx, &globalTx{Global: sqlstore.NewGlobal(conn, s.dialect, s.clock), q: conn, store: s})
	})
}

func beginSQL(o ports.TxOptions) string {
	if o.ReadOnly {
		return "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY"
	}
	return "BEGIN ISOLATION LEVEL READ COMMITTED"
}

// commitSQL ends the transaction. The leading statement fails with
// "current transaction is aborted" when an earlier statement failed (and
// its error was swallowed by fn): without it PostgreSQL would answer COMMIT
// with a silent ROLLBACK. Both statements travel in one round trip.
const commitSQL = "SELECT; COMMIT"

// run executes fn inside a transaction on one pooled connection. The
// transaction is driven by hand (not database/sql's Tx) so that BEGIN and
// set_config share a round trip; every exit path ends it, and a connection
// whose transaction cannot be ended is discarded, never pooled.
func (s *Store) run(ctx context.Context, begin string, fn func(context.Context, *sqlx.Conn) error) (err error) {
	ctx, err = ports.EnterUnitOfWork(ctx)
	if err != nil {
		return err
	}
	conn, err := s.db.Connx(ctx)
	if err != nil {
		return mapErr("begin", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, begin); err != nil {
		s.rollback(ctx, conn)
		return mapErr("begin", err)
	}
	done := false
	defer func() {
		if done {
			return
		}
		s.rollback(ctx, conn)
		if p := recover(); p != nil {
			panic(p)
		}
	}()
	if err := fn(ctx, conn); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, commitSQL); err != nil {
		return mapErr("commit", err) // the deferred rollback ends the failed transaction
	}
	done = true
	return nil
}

// rollback ends the transaction; if that fails the connection's state is
// unknown and it is dropped from the pool.
func (s *Store) rollback(ctx context.Context, conn *sqlx.Conn) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(rctx, "ROLLBACK"); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

func (s *Store) now() time.Time { return ports.Timestamp(s.clock.Now()) }

// shopTx is a unit of work bound to one shop. Its repositories bind shop
// in every statement too; row-level security is the second wall.
type shopTx struct {
	// Shop holds the repositories written once (internal/sqlstore).
	sqlstore.Shop
	q     querier
	conn  *sqlx.Conn // the connection q runs on, inside the transaction
	shop  ports.ShopID
	store *Store
}

func (t *shopTx) ShopID() ports.ShopID { return t.shop }

type globalTx struct {
	// Global holds the repositories written once (internal/sqlstore).
	sqlstore.Global
	q     querier
	store *Store
}

func wrap(op string, err error) error { return mapErr(op, err) }

func notFound(op string) error { return fmt.Errorf("postgres: %s: %w", op, ports.ErrNotFound) }
