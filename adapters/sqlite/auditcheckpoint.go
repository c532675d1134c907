package sqlite

import (
	"context"
	"errors"
	"fmt"

	sqlite3 "modernc.org/sqlite"
	sqlitelib "modernc.org/sqlite/lib"

	"github.com/stockadehq/stockade/ports"
)

// auditCheckpoints keeps the signed checkpoints of one shopTx's chain.
// Triggers refuse UPDATE and DELETE of audit_checkpoints, and an INSERT
// the log does not state (migration 00021).
type auditCheckpoints struct{ t *shopTx }

type checkpointRow struct {
	ShopID    ports.ShopID `db:"shop_id"`
	N         int64        `db:"n"`
	Size      int64        `db:"size"`
	Hash      []byte       `db:"hash"`
	Note      string       `db:"note"`
	CreatedAt int64        `db:"created_at"`
}

const checkpointCols = `shop_id, n, size, hash, note, created_at`

func (r checkpointRow) port() (ports.AuditCheckpoint, error) {
	h, err := ports.AuditHashFromBytes(r.Hash)
	return ports.AuditCheckpoint{
		ShopID: r.ShopID, N: r.N, Size: r.Size, Hash: h, Note: r.Note, CreatedAt: fromMicros(r.CreatedAt),
	}, err
}

// Add numbers the checkpoint after the shop's last one; the single writer
// serialises concurrent adds. The trigger audit_checkpoints_follow_the_log
// refuses a checkpoint the log does not state (see
// ports.AuditCheckpointRepo); it is the only trigger on this INSERT.
func (r auditCheckpoints) Add(ctx context.Context, c ports.AuditCheckpoint) (ports.AuditCheckpoint, error) {
	if err := c.Validate(); err != nil {
		return ports.AuditCheckpoint{}, err
	}
	row := checkpointRow{ShopID: r.t.shop, Size: c.Size, Hash: c.Hash.Bytes(), Note: c.Note, CreatedAt: r.t.store.now()}
	err := r.t.q.GetContext(ctx, &row.N, `INSERT INTO audit_checkpoints (`+checkpointCols+`)
		SELECT ?, coalesce(max(n), 0) + 1, ?, ?, ?, ? FROM audit_checkpoints WHERE shop_id = ?
		RETURNING n`, row.ShopID, row.Size, row.Hash, row.Note, row.CreatedAt, row.ShopID)
	var se *sqlite3.Error
	if errors.As(err, &se) && se.Code() == sqlitelib.SQLITE_CONSTRAINT_TRIGGER {
		return ports.AuditCheckpoint{}, fmt.Errorf("sqlite: add audit checkpoint: %w",
			ports.Invalid("checkpoint", "the log's event at its size has another hash or none, or an earlier checkpoint is larger"))
	}
	if err != nil {
		return ports.AuditCheckpoint{}, wrap("add audit checkpoint", err)
	}
	return row.port()
}

func (r auditCheckpoints) List(ctx context.Context, q ports.AuditCheckpointQuery) ([]ports.AuditCheckpoint, error) {
	var rows []checkpointRow
	err := r.t.q.SelectContext(ctx, &rows, `SELECT `+checkpointCols+` FROM audit_checkpoints
		WHERE shop_id = ? AND n > ? ORDER BY n LIMIT ?`, r.t.shop, q.AfterN, q.PageLimit())
	if err != nil {
		return nil, wrap("list audit checkpoints", err)
	}
	out := make([]ports.AuditCheckpoint, len(rows))
	for i, row := range rows {
		if out[i], err = row.port(); err != nil {
			return nil, wrap("list audit checkpoints", err)
		}
	}
	return out, nil
}

func (r auditCheckpoints) Latest(ctx context.Context) (ports.AuditCheckpoint, error) {
	var row checkpointRow
	err := r.t.q.GetContext(ctx, &row, `SELECT `+checkpointCols+` FROM audit_checkpoints
		WHERE shop_id = ? ORDER BY n DESC LIMIT 1`, r.t.shop)
	if err != nil {
		return ports.AuditCheckpoint{}, wrap("latest audit checkpoint", err)
	}
	c, err := row.port()
	return c, wrap("latest audit checkpoint", err)
}

var _ ports.AuditShopLister = (*Store)(nil)

// AuditShops implements ports.AuditShopLister from the shop directory.
func (s *Store) AuditShops(ctx context.Context, after ports.ShopID, limit int) ([]ports.ShopID, error) {
	var ids []ports.ShopID
	err := s.reader.SelectContext(ctx, &ids, `SELECT id FROM shops WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	return ids, wrap("list shops", err)
}
