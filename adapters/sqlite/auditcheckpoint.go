package sqlite

import (
	"context"
	"errors"

	sqlite3 "modernc.org/sqlite"
	sqlitelib "modernc.org/sqlite/lib"

	"github.com/stockadehq/stockade/ports"
)

// AuditCheckpoints implements ports.ShopTx: the shared repository
// (internal/sqlstore) over SQLite's own insert. Triggers refuse UPDATE
// and DELETE of audit_checkpoints, and an INSERT the log does not state
// (migration 00021).
func (t *shopTx) AuditCheckpoints() ports.AuditCheckpointRepo {
	return t.Checkpoints(t.insertCheckpoint)
}

// insertCheckpoint is the sqlstore.CheckpointInsert of SQLite: it numbers
// the checkpoint after the shop's last one; the single writer serialises
// concurrent adds. The trigger audit_checkpoints_follow_the_log refuses a
// checkpoint the log does not state (see ports.AuditCheckpointRepo); it
// is the only trigger on this INSERT.
func (t *shopTx) insertCheckpoint(ctx context.Context, c ports.AuditCheckpoint) (n int64, refused bool, err error) {
	err = t.q.GetContext(ctx, &n, `INSERT INTO audit_checkpoints (shop_id, n, size, hash, note, created_at)
		SELECT ?, coalesce(max(n), 0) + 1, ?, ?, ?, ? FROM audit_checkpoints WHERE shop_id = ?
		RETURNING n`, t.shop, c.Size, c.Hash.Bytes(), c.Note, micros(c.CreatedAt), t.shop)
	var se *sqlite3.Error
	return n, errors.As(err, &se) && se.Code() == sqlitelib.SQLITE_CONSTRAINT_TRIGGER, err
}

var _ ports.AuditShopLister = (*Store)(nil)

// AuditShops implements ports.AuditShopLister from the shop directory.
func (s *Store) AuditShops(ctx context.Context, after ports.ShopID, limit int) ([]ports.ShopID, error) {
	var ids []ports.ShopID
	err := s.reader.SelectContext(ctx, &ids, `SELECT id FROM shops WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	return ids, wrap("list shops", err)
}
