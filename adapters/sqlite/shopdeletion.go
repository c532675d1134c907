package sqlite

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/internal/sqlstore"
	"github.com/stockadehq/stockade/ports"
)

// batchDelete deletes up to limit of one table's rows of a shop. The
// table is qualified with main: a connection may hold the tenant wall's
// temp view of the same name.
func batchDelete(table string, shop ports.ShopID, limit int) (string, []any, bool) {
	return fmt.Sprintf(`DELETE FROM main.%[1]s WHERE rowid IN (SELECT rowid FROM main.%[1]s WHERE shop_id = ? LIMIT ?)`, table), []any{shop, limit}, false
}

var _ ports.ShopDeleter = (*Store)(nil)

// deletion runs fn in one writing transaction over the deletion SQL.
func (s *Store) deletion(ctx context.Context, fn func(context.Context, *sqlstore.Deletion) error) error {
	return s.run(ctx, ports.TxOptions{}, func(ctx context.Context, tx *sqlx.Tx, _ *sqlx.Conn) error {
		d := sqlstore.NewDeletion(sqlstore.SQLX(tx), dialect{}, s.clock, batchDelete)
		return fn(ctx, &d)
	})
}

// DeletionTables implements ports.ShopDeleter.
func (s *Store) DeletionTables() []string { return sqlstore.TenantTables(s.appTables) }

// StartShopDeletion implements ports.ShopDeleter.
func (s *Store) StartShopDeletion(ctx context.Context, d ports.ShopDeletion) (out ports.ShopDeletion, err error) {
	err = s.deletion(ctx, func(ctx context.Context, t *sqlstore.Deletion) error {
		out, err = t.Start(ctx, d)
		return err
	})
	return out, err
}

// SetDeletionChain implements ports.ShopDeleter.
func (s *Store) SetDeletionChain(ctx context.Context, shop ports.ShopID, size int64, hash ports.AuditHash, checkpoint string) error {
	return s.deletion(ctx, func(ctx context.Context, t *sqlstore.Deletion) error {
		return t.SetChain(ctx, shop, size, hash, checkpoint)
	})
}

// AddDeletedObjects implements ports.ShopDeleter.
func (s *Store) AddDeletedObjects(ctx context.Context, shop ports.ShopID, n int64) error {
	return s.deletion(ctx, func(ctx context.Context, t *sqlstore.Deletion) error {
		return t.AddObjects(ctx, shop, n)
	})
}

// DeleteShopRows implements ports.ShopDeleter. SQLite has one writer, so
// a batch holds the database's write lock for its duration only.
func (s *Store) DeleteShopRows(ctx context.Context, shop ports.ShopID, table string, limit int) (n int, err error) {
	err = s.deletion(ctx, func(ctx context.Context, t *sqlstore.Deletion) error {
		n, err = t.DeleteRows(ctx, s.DeletionTables(), shop, table, limit)
		return err
	})
	return n, err
}

// FinishShopDeletion implements ports.ShopDeleter.
func (s *Store) FinishShopDeletion(ctx context.Context, shop ports.ShopID) (out ports.ShopDeletion, err error) {
	err = s.deletion(ctx, func(ctx context.Context, t *sqlstore.Deletion) error {
		out, err = t.Finish(ctx, shop, "")
		return err
	})
	return out, err
}

// ShopRows implements ports.ShopDeleter.
func (s *Store) ShopRows(ctx context.Context, shop ports.ShopID, table string) (n int64, err error) {
	err = s.deletion(ctx, func(ctx context.Context, t *sqlstore.Deletion) error {
		n, err = t.CountRows(ctx, s.DeletionTables(), shop, table, "main.%[1]s")
		return err
	})
	return n, err
}

// ShopDeletion implements ports.ShopDeleter.
func (s *Store) ShopDeletion(ctx context.Context, shop ports.ShopID) (out ports.ShopDeletion, err error) {
	err = s.deletion(ctx, func(ctx context.Context, t *sqlstore.Deletion) error {
		out, err = t.Get(ctx, shop)
		return err
	})
	return out, err
}
