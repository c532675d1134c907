package postgres

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/stockadehq/stockade/ports"
)

// auditCheckpoints keeps the signed checkpoints of one shopTx's chain. The
// application role holds only INSERT and SELECT on audit_checkpoints, and a
// trigger refuses UPDATE, DELETE and TRUNCATE for every role.
type auditCheckpoints struct{ t *shopTx }

type checkpointRow struct {
	ShopID    ports.ShopID `db:"shop_id"`
	N         int64        `db:"n"`
	Size      int64        `db:"size"`
	Hash      []byte       `db:"hash"`
	Note      string       `db:"note"`
	CreatedAt time.Time    `db:"created_at"`
}

const checkpointCols = `shop_id, n, size, hash, note, created_at`

func (r checkpointRow) port() (ports.AuditCheckpoint, error) {
	h, err := ports.AuditHashFromBytes(r.Hash)
	return ports.AuditCheckpoint{
		ShopID: r.ShopID, N: r.N, Size: r.Size, Hash: h, Note: r.Note, CreatedAt: r.CreatedAt.UTC(),
	}, err
}

// Add numbers the checkpoint after the shop's last one. Two concurrent adds
// may pick the same number; the primary key refuses the second
// (ErrConflict).
func (r auditCheckpoints) Add(ctx context.Context, c ports.AuditCheckpoint) (ports.AuditCheckpoint, error) {
	if err := c.Validate(); err != nil {
		return ports.AuditCheckpoint{}, err
	}
	row := checkpointRow{ShopID: r.t.shop, Size: c.Size, Hash: c.Hash.Bytes(), Note: c.Note, CreatedAt: r.t.store.now()}
	err := sqlx.GetContext(ctx, r.t.q, &row.N, `INSERT INTO audit_checkpoints (`+checkpointCols+`)
		SELECT $1::uuid, coalesce(max(n), 0) + 1, $2::bigint, $3::bytea, $4::text, $5::timestamptz
		FROM audit_checkpoints WHERE shop_id = $1::uuid
		RETURNING n`, row.ShopID, row.Size, row.Hash, row.Note, row.CreatedAt)
	if err != nil {
		return ports.AuditCheckpoint{}, wrap("add audit checkpoint", err)
	}
	return row.port()
}

func (r auditCheckpoints) List(ctx context.Context, q ports.AuditCheckpointQuery) ([]ports.AuditCheckpoint, error) {
	var rows []checkpointRow
	err := sqlx.SelectContext(ctx, r.t.q, &rows, `SELECT `+checkpointCols+` FROM audit_checkpoints
		WHERE shop_id = $1 AND n > $2 ORDER BY n LIMIT $3`, r.t.shop, q.AfterN, q.PageLimit())
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
	err := sqlx.GetContext(ctx, r.t.q, &row, `SELECT `+checkpointCols+` FROM audit_checkpoints
		WHERE shop_id = $1 ORDER BY n DESC LIMIT 1`, r.t.shop)
	if err != nil {
		return ports.AuditCheckpoint{}, wrap("latest audit checkpoint", err)
	}
	return row.port()
}

var _ ports.AuditShopLister = (*Store)(nil)

// AuditShops implements ports.AuditShopLister from the shop directory
// (a global table the application role may read).
func (s *Store) AuditShops(ctx context.Context, after ports.ShopID, limit int) ([]ports.ShopID, error) {
	var ids []ports.ShopID
	err := s.db.SelectContext(ctx, &ids, `SELECT id FROM shops WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, wrap("list shops", err)
	}
	return ids, nil
}
