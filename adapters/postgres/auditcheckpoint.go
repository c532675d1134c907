package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/stockadehq/stockade/ports"
)

// auditCheckpoints keeps the signed checkpoints of one shopTx's chain. The
// application role holds only SELECT on audit_checkpoints and adds through
// stockade_audit_checkpoint_add (migration 00021), which stores only
// checkpoints the log states; a trigger refuses UPDATE, DELETE and
// TRUNCATE for every role.
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

// Add calls stockade_audit_checkpoint_add, which numbers the checkpoint
// after the shop's last one and refuses one the log does not state (see
// ports.AuditCheckpointRepo). The function accepts exactly this statement.
// Two concurrent adds may pick the same number; the primary key refuses
// the second (ErrConflict).
func (r auditCheckpoints) Add(ctx context.Context, c ports.AuditCheckpoint) (ports.AuditCheckpoint, error) {
	if err := c.Validate(); err != nil {
		return ports.AuditCheckpoint{}, err
	}
	row := checkpointRow{ShopID: r.t.shop, Size: c.Size, Hash: c.Hash.Bytes(), Note: c.Note, CreatedAt: r.t.store.now()}
	err := sqlx.GetContext(ctx, r.t.q, &row.N, `SELECT stockade_audit_checkpoint_add($1, $2, $3, $4)`,
		row.Size, row.Hash, row.Note, row.CreatedAt)
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Constraint == "audit_checkpoint_follows_the_log" {
		return ports.AuditCheckpoint{}, fmt.Errorf("postgres: add audit checkpoint: %w", ports.Invalid("checkpoint", checkpointNotInLog))
	}
	if err != nil {
		return ports.AuditCheckpoint{}, wrap("add audit checkpoint", err)
	}
	return row.port()
}

// checkpointNotInLog is why Add refuses a checkpoint the log does not
// state.
const checkpointNotInLog = "the log's event at its size has another hash or none, or an earlier checkpoint is larger"

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
