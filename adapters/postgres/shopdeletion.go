package postgres

import (
	"context"
	"fmt"

	"github.com/stockadehq/stockade/internal/sqlstore"
	"github.com/stockadehq/stockade/ports"
)

// A shop's deletion runs as the application role in units of work bound
// to the shop, so row-level security confines every statement to it. The
// tables whose DELETE the role does not hold, and the directory row, go
// through the SECURITY DEFINER functions of migration 00026, which act
// only on the transaction's shop and only while it has a deletion record.

// definerDeleted are the tenant tables the application role deletes from
// only through stockade_delete_shop_rows.
var definerDeleted = map[string]bool{
	"impersonations": true, "billing_accounts": true, "messaging_settings": true, "auth_mail": true,
	"audit_checkpoints": true, "audit_events": true, "audit_heads": true,
}

// batchDelete deletes up to limit of one table's rows of a shop: a
// DELETE by row address where the role holds DELETE, else the function.
func batchDelete(table string, shop ports.ShopID, limit int) (string, []any, bool) {
	if definerDeleted[table] {
		return `SELECT stockade_delete_shop_rows(?, ?)`, []any{table, limit}, true
	}
	return fmt.Sprintf(`DELETE FROM %[1]s WHERE ctid = ANY(ARRAY(SELECT ctid FROM %[1]s WHERE shop_id = ? LIMIT ?))`, table), []any{shop, limit}, false
}

var _ ports.ShopDeleter = (*Store)(nil)

// deletion runs fn in one unit of work bound to shop.
func (s *Store) deletion(ctx context.Context, shop ports.ShopID, fn func(context.Context, *sqlstore.Deletion) error) error {
	if shop.IsZero() {
		return ports.Invalid("shop id", "must be set")
	}
	return s.run(ctx, shop.String(), ports.TxOptions{}, func(ctx context.Context, f *flight) error {
		d := sqlstore.NewDeletion(f, s.dialect, s.clock, batchDelete)
		return fn(ctx, &d)
	})
}

// DeletionTables implements ports.ShopDeleter.
func (s *Store) DeletionTables() []string { return sqlstore.TenantTables(s.appTables) }

// StartShopDeletion implements ports.ShopDeleter.
func (s *Store) StartShopDeletion(ctx context.Context, d ports.ShopDeletion) (out ports.ShopDeletion, err error) {
	err = s.deletion(ctx, d.Shop, func(ctx context.Context, t *sqlstore.Deletion) error {
		out, err = t.Start(ctx, d)
		return err
	})
	return out, err
}

// SetDeletionChain implements ports.ShopDeleter.
func (s *Store) SetDeletionChain(ctx context.Context, shop ports.ShopID, size int64, hash ports.AuditHash, checkpoint string) error {
	return s.deletion(ctx, shop, func(ctx context.Context, t *sqlstore.Deletion) error {
		return t.SetChain(ctx, shop, size, hash, checkpoint)
	})
}

// AddDeletedObjects implements ports.ShopDeleter.
func (s *Store) AddDeletedObjects(ctx context.Context, shop ports.ShopID, n int64) error {
	return s.deletion(ctx, shop, func(ctx context.Context, t *sqlstore.Deletion) error {
		return t.AddObjects(ctx, shop, n)
	})
}

// DeleteShopRows implements ports.ShopDeleter: one batch is one
// transaction, holding the row locks of at most limit rows.
func (s *Store) DeleteShopRows(ctx context.Context, shop ports.ShopID, table string, limit int) (n int, err error) {
	err = s.deletion(ctx, shop, func(ctx context.Context, t *sqlstore.Deletion) error {
		n, err = t.DeleteRows(ctx, s.DeletionTables(), shop, table, limit)
		return err
	})
	return n, err
}

// ShopRows implements ports.ShopDeleter, under row-level security.
func (s *Store) ShopRows(ctx context.Context, shop ports.ShopID, table string) (n int64, err error) {
	err = s.deletion(ctx, shop, func(ctx context.Context, t *sqlstore.Deletion) error {
		n, err = t.CountRows(ctx, s.DeletionTables(), shop, table, "%[1]s")
		return err
	})
	return n, err
}

// FinishShopDeletion implements ports.ShopDeleter through
// stockade_finish_shop_deletion (the role holds no DELETE on shops).
func (s *Store) FinishShopDeletion(ctx context.Context, shop ports.ShopID) (out ports.ShopDeletion, err error) {
	err = s.deletion(ctx, shop, func(ctx context.Context, t *sqlstore.Deletion) error {
		out, err = t.Finish(ctx, shop, `SELECT stockade_finish_shop_deletion(?)`)
		return err
	})
	return out, err
}

// ShopDeletion implements ports.ShopDeleter.
func (s *Store) ShopDeletion(ctx context.Context, shop ports.ShopID) (out ports.ShopDeletion, err error) {
	err = s.deletion(ctx, shop, func(ctx context.Context, t *sqlstore.Deletion) error {
		out, err = t.Get(ctx, shop)
		return err
	})
	return out, err
}
