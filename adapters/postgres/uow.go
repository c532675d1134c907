package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/stockadehq/stockade/internal/sqlstore"
	"github.com/stockadehq/stockade/ports"
)

// InShop implements ports.Store. The tenant setting travels with the
// first statement (see flight); row-level security then binds every
// statement of fn to shop, whatever SQL a repository sends.
func (s *Store) InShop(ctx context.Context, shop ports.ShopID, fn func(context.Context, ports.ShopTx) error, opts ...ports.TxOption) error {
	if shop.IsZero() {
		return ports.Invalid("shop id", "must be set")
	}
	return s.run(ctx, shop.String(), ports.ApplyTxOptions(opts), func(ctx context.Context, f *flight) error {
		return fn(ctx, &shopTx{Shop: sqlstore.NewShop(f, s.dialect, s.clock, shop), q: f, shop: shop, store: s})
	})
}

// Global implements ports.Store. Its transaction has no tenant set, so
// tenant tables show no rows inside it.
func (s *Store) Global(ctx context.Context, fn func(context.Context, ports.GlobalTx) error, opts ...ports.TxOption) error {
	return s.run(ctx, "", ports.ApplyTxOptions(opts), func(ctx context.Context, f *flight) error {
		return fn(ctx, &globalTx{Global: sqlstore.NewGlobal(f, s.dialect, s.clock), q: f, store: s})
	})
}

// run executes fn as one unit of work on one pooled connection. Every
// exit path leaves the connection outside any transaction, and a
// connection whose transaction cannot be ended is discarded, never pooled.
func (s *Store) run(ctx context.Context, shop string, o ports.TxOptions, fn func(context.Context, *flight) error) (err error) {
	ctx, err = ports.EnterUnitOfWork(ctx)
	if err != nil {
		return err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return mapErr("begin", err)
	}
	defer conn.Close()
	f := &flight{conn: conn, mapper: s.mapper, shop: shop, readOnly: o.ReadOnly, snapshot: o.Snapshot}
	done := false
	defer func() {
		if done {
			return
		}
		f.rollback(ctx)
		if p := recover(); p != nil {
			panic(p)
		}
	}()
	if err := fn(ctx, f); err != nil {
		return err
	}
	if f.failed != nil {
		return f.failed
	}
	if err := f.commit(ctx); err != nil {
		return mapErr("commit", err) // the deferred rollback ends the failed transaction
	}
	done = true
	return nil
}

func (s *Store) now() time.Time { return ports.Timestamp(s.clock.Now()) }

// shopTx is a unit of work bound to one shop. Its repositories bind shop
// in every statement too; row-level security is the second wall.
type shopTx struct {
	// Shop holds the repositories written once (internal/sqlstore).
	sqlstore.Shop
	q     *flight
	shop  ports.ShopID
	store *Store
}

func (t *shopTx) ShopID() ports.ShopID { return t.shop }

type globalTx struct {
	// Global holds the repositories written once (internal/sqlstore).
	sqlstore.Global
	q     *flight
	store *Store
}

func wrap(op string, err error) error { return mapErr(op, err) }

func notFound(op string) error { return fmt.Errorf("postgres: %s: %w", op, ports.ErrNotFound) }
