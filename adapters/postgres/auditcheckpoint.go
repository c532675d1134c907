package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stockadehq/stockade/ports"
)

// AuditCheckpoints implements ports.ShopTx: the shared repository
// (internal/sqlstore) over Postgres' own insert. The application role
// holds only SELECT on audit_checkpoints and adds through
// stockade_audit_checkpoint_add (migration 00021); a trigger refuses
// UPDATE, DELETE and TRUNCATE for every role.
func (t *shopTx) AuditCheckpoints() ports.AuditCheckpointRepo { return t.Checkpoints(t.addCheckpoint) }

// addCheckpoint is the sqlstore.CheckpointInsert of Postgres: it calls
// stockade_audit_checkpoint_add, which numbers the checkpoint after the
// shop's last one and refuses one the log does not state (see
// ports.AuditCheckpointRepo). The function accepts exactly this statement.
// Two concurrent adds may pick the same number; the primary key refuses
// the second (ErrConflict).
func (t *shopTx) addCheckpoint(ctx context.Context, c ports.AuditCheckpoint) (n int64, refused bool, err error) {
	err = t.q.GetContext(ctx, &n, `SELECT stockade_audit_checkpoint_add($1, $2, $3, $4)`,
		c.Size, c.Hash.Bytes(), c.Note, c.CreatedAt)
	var pe *pgconn.PgError
	return n, errors.As(err, &pe) && pe.ConstraintName == "audit_checkpoint_follows_the_log", err
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
