package sqlstore

import (
	"context"
	"fmt"

	"github.com/stockadehq/stockade/ports"
)

// Checkpoints returns the unit of work's checkpoint repository, which
// adds with insert. The databases guard the checkpoints differently, so
// each adapter's unit of work defines AuditCheckpoints with its own
// insert: Postgres adds through the SECURITY DEFINER
// stockade_audit_checkpoint_add (which accepts only its repository's exact
// statement text), SQLite inserts under a trigger. Both refuse a
// checkpoint the log does not state. Every statement here binds t.shop.
func (t *Shop) Checkpoints(insert CheckpointInsert) ports.AuditCheckpointRepo {
	return checkpoints{t: t, insert: insert}
}

// CheckpointInsert stores c, which Add has validated and stamped (ShopID
// is the unit of work's shop, CreatedAt the store clock's time, N zero),
// under the number after the shop's last checkpoint, and returns that
// number. refused reports that err is the database refusing a checkpoint
// the log does not state (its event at Size has another hash or none, or
// an earlier checkpoint is larger); err is returned as the driver gave it.
type CheckpointInsert func(ctx context.Context, c ports.AuditCheckpoint) (n int64, refused bool, err error)

// checkpoints is the signed-checkpoint repository of one Shop. Like the
// log it has no update and no delete: the database refuses both.
type checkpoints struct {
	t      *Shop
	insert CheckpointInsert
}

var _ ports.AuditCheckpointRepo = checkpoints{}

type checkpointRow struct {
	ShopID    ports.ShopID `db:"shop_id"`
	N         int64        `db:"n"`
	Size      int64        `db:"size"`
	Hash      []byte       `db:"hash"`
	Note      string       `db:"note"`
	CreatedAt Time         `db:"created_at"`
}

const checkpointCols = `shop_id, n, size, hash, note, created_at`

func (r checkpointRow) port() (ports.AuditCheckpoint, error) {
	h, err := ports.AuditHashFromBytes(r.Hash)
	return ports.AuditCheckpoint{
		ShopID: r.ShopID, N: r.N, Size: r.Size, Hash: h, Note: r.Note, CreatedAt: r.CreatedAt.Time,
	}, err
}

// Add validates c, stamps it and has the database's insert store it.
// ErrInvalid for a malformed checkpoint or one the log does not state.
func (r checkpoints) Add(ctx context.Context, c ports.AuditCheckpoint) (ports.AuditCheckpoint, error) {
	if err := c.Validate(); err != nil {
		return ports.AuditCheckpoint{}, err
	}
	c.ShopID, c.N, c.CreatedAt = r.t.shop, 0, r.t.now()
	n, refused, err := r.insert(ctx, c)
	if refused {
		return ports.AuditCheckpoint{}, fmt.Errorf("%s: add audit checkpoint: %w", r.t.d.Name(),
			ports.Invalid("checkpoint", "the log's event at its size has another hash or none, or an earlier checkpoint is larger"))
	}
	if err != nil {
		return ports.AuditCheckpoint{}, r.t.wrap("add audit checkpoint", err)
	}
	c.N = n
	return c, nil
}

// List reads a page of the shop's checkpoints in number order.
func (r checkpoints) List(ctx context.Context, q ports.AuditCheckpointQuery) ([]ports.AuditCheckpoint, error) {
	var rows []checkpointRow
	err := r.t.sel(ctx, &rows, `SELECT `+checkpointCols+` FROM audit_checkpoints
		WHERE shop_id = ? AND n > ? ORDER BY n LIMIT ?`, r.t.shop, q.AfterN, q.PageLimit())
	if err != nil {
		return nil, r.t.wrap("list audit checkpoints", err)
	}
	out := make([]ports.AuditCheckpoint, len(rows))
	for i, row := range rows {
		if out[i], err = row.port(); err != nil {
			return nil, r.t.wrap("list audit checkpoints", err)
		}
	}
	return out, nil
}

// Latest reads the shop's last checkpoint (ErrNotFound if none).
func (r checkpoints) Latest(ctx context.Context) (ports.AuditCheckpoint, error) {
	var row checkpointRow
	err := r.t.get(ctx, &row, `SELECT `+checkpointCols+` FROM audit_checkpoints
		WHERE shop_id = ? ORDER BY n DESC LIMIT 1`, r.t.shop)
	if err != nil {
		return ports.AuditCheckpoint{}, r.t.wrap("latest audit checkpoint", err)
	}
	c, err := row.port()
	if err != nil {
		return ports.AuditCheckpoint{}, r.t.wrap("latest audit checkpoint", err)
	}
	return c, nil
}
