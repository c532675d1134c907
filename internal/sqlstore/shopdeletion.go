package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/stockadehq/stockade/ports"
)

// Deletion is the shared SQL of ports.ShopDeleter over one transaction the
// adapter has begun: the shop_deletions record and the batched deletion of
// a shop's rows. Each method is one step; the adapter runs each in its own
// transaction.
type Deletion struct {
	runner
	batch BatchDelete
}

// BatchDelete returns the adapter's statement deleting up to limit of
// shop's rows of table, with its arguments; count reports that the
// statement is a SELECT returning the number of rows deleted (a function
// call) rather than a DELETE whose affected rows are the number.
type BatchDelete func(table string, shop ports.ShopID, limit int) (query string, args []any, count bool)

// NewDeletion binds the deletion SQL to q, deleting batches with batch.
func NewDeletion(q Querier, d Dialect, clock ports.Clock, batch BatchDelete) Deletion {
	return Deletion{runner: runner{q: q, d: d, clock: clock}, batch: batch}
}

type deletionRow struct {
	Shop        ports.ShopID `db:"deleted_shop_id"`
	Org         ports.OrgID  `db:"org_id"`
	Slug        string       `db:"slug"`
	Reason      string       `db:"reason"`
	Actor       string       `db:"actor"`
	Note        string       `db:"note"`
	CancelledAt Time         `db:"cancelled_at"`
	StartedAt   Time         `db:"started_at"`
	FinishedAt  Time         `db:"finished_at"`
	Objects     int64        `db:"objects"`
	Rows        string       `db:"rows"`
	ChainSize   int64        `db:"chain_size"`
	ChainHash   []byte       `db:"chain_hash"`
	Checkpoint  string       `db:"checkpoint"`
}

const deletionColumns = `deleted_shop_id, org_id, slug, reason, actor, note, cancelled_at, started_at, finished_at, objects, rows, chain_size, chain_hash, checkpoint`

// Start implements ports.ShopDeleter.StartShopDeletion.
func (t *Deletion) Start(ctx context.Context, d ports.ShopDeletion) (ports.ShopDeletion, error) {
	switch {
	case d.Shop.IsZero():
		return ports.ShopDeletion{}, ports.Invalid("shop id", "must be set")
	case d.Reason != ports.DeletionRetention && d.Reason != ports.DeletionErasure:
		return ports.ShopDeletion{}, ports.Invalid("deletion reason", "must be retention or erasure")
	case d.Actor == "" || len(d.Actor) > 200:
		return ports.ShopDeletion{}, ports.Invalid("deletion actor", "must be 1 to 200 bytes")
	case len(d.Note) > 2000:
		return ports.ShopDeletion{}, ports.Invalid("deletion note", "must be at most 2000 bytes")
	}
	_, err := t.exec(ctx, `INSERT INTO shop_deletions (deleted_shop_id, org_id, slug, reason, actor, note, cancelled_at, started_at)
		SELECT id, org_id, slug, ?, ?, ?, cancelled_at, ? FROM shops WHERE id = ? AND (? = 'erasure' OR cancelled_at IS NOT NULL)
		ON CONFLICT (deleted_shop_id) DO NOTHING`, d.Reason, d.Actor, d.Note, t.now(), d.Shop, d.Reason)
	if err != nil {
		return ports.ShopDeletion{}, t.wrap("start shop deletion", err)
	}
	return t.Get(ctx, d.Shop)
}

// Get implements ports.ShopDeleter.ShopDeletion.
func (t *Deletion) Get(ctx context.Context, shop ports.ShopID) (ports.ShopDeletion, error) {
	var r deletionRow
	err := t.get(ctx, &r, `SELECT `+deletionColumns+` FROM shop_deletions WHERE deleted_shop_id = ?`, shop)
	if errors.Is(err, sql.ErrNoRows) {
		return ports.ShopDeletion{}, t.notFound("shop deletion")
	}
	if err != nil {
		return ports.ShopDeletion{}, t.wrap("shop deletion", err)
	}
	out := ports.ShopDeletion{
		Shop: r.Shop, Org: r.Org, Slug: r.Slug, Reason: r.Reason, Actor: r.Actor, Note: r.Note,
		CancelledAt: r.CancelledAt.Time, StartedAt: r.StartedAt.Time, FinishedAt: r.FinishedAt.Time,
		Objects: r.Objects, ChainSize: r.ChainSize, Checkpoint: r.Checkpoint, Rows: map[string]int64{},
	}
	if len(r.ChainHash) > 0 {
		if out.ChainHash, err = ports.AuditHashFromBytes(r.ChainHash); err != nil {
			return ports.ShopDeletion{}, fmt.Errorf("shop deletion: chain hash: %w", err)
		}
	}
	if err := json.Unmarshal([]byte(r.Rows), &out.Rows); err != nil {
		return ports.ShopDeletion{}, fmt.Errorf("shop deletion: row counts: %w", err)
	}
	return out, nil
}

// SetChain implements ports.ShopDeleter.SetDeletionChain.
func (t *Deletion) SetChain(ctx context.Context, shop ports.ShopID, size int64, hash ports.AuditHash, checkpoint string) error {
	var h any
	if !hash.IsZero() {
		h = hash.Bytes()
	}
	n, err := t.exec(ctx, `UPDATE shop_deletions SET chain_size = ?, chain_hash = ?, checkpoint = ? WHERE deleted_shop_id = ?`, size, h, checkpoint, shop)
	if err != nil {
		return t.wrap("shop deletion chain", err)
	}
	if n == 0 {
		return t.notFound("shop deletion")
	}
	return nil
}

// AddObjects implements ports.ShopDeleter.AddDeletedObjects.
func (t *Deletion) AddObjects(ctx context.Context, shop ports.ShopID, n int64) error {
	if n < 0 {
		return ports.Invalid("deleted objects", "must not be negative")
	}
	c, err := t.exec(ctx, `UPDATE shop_deletions SET objects = objects + ? WHERE deleted_shop_id = ?`, n, shop)
	if err != nil {
		return t.wrap("shop deletion objects", err)
	}
	if c == 0 {
		return t.notFound("shop deletion")
	}
	return nil
}

// DeleteRows implements ports.ShopDeleter.DeleteShopRows: tables is the
// store's DeletionTables, the only tables it deletes from.
func (t *Deletion) DeleteRows(ctx context.Context, tables []string, shop ports.ShopID, table string, limit int) (int, error) {
	if !slices.Contains(tables, table) {
		return 0, ports.Invalid("table", fmt.Sprintf("%q holds no shop rows", table))
	}
	if limit < 1 {
		return 0, ports.Invalid("limit", "must be at least 1")
	}
	var rows string
	err := t.get(ctx, &rows, `SELECT rows FROM shop_deletions WHERE deleted_shop_id = ? AND finished_at IS NULL`+t.lock(" FOR UPDATE"), shop)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%s: delete shop rows: no running deletion of the shop: %w", t.d.Name(), ports.ErrConflict)
	}
	if err != nil {
		return 0, t.wrap("delete shop rows", err)
	}
	query, args, count := t.batch(table, shop, limit)
	var n int64
	if count {
		err = t.get(ctx, &n, query, args...)
	} else {
		n, err = t.exec(ctx, query, args...)
	}
	if err != nil {
		return 0, t.wrap("delete shop rows from "+table, err)
	}
	if n == 0 {
		return 0, nil
	}
	counts := map[string]int64{}
	if err := json.Unmarshal([]byte(rows), &counts); err != nil {
		return 0, fmt.Errorf("shop deletion: row counts: %w", err)
	}
	counts[table] += n
	b, err := json.Marshal(counts)
	if err != nil {
		return 0, err
	}
	if _, err := t.exec(ctx, `UPDATE shop_deletions SET rows = `+t.cast("?", "jsonb")+` WHERE deleted_shop_id = ?`, string(b), shop); err != nil {
		return 0, t.wrap("shop deletion rows", err)
	}
	return int(n), nil
}

// CountRows implements ports.ShopDeleter.ShopRows; from is the table as
// the adapter spells it (%[1]s is the table).
func (t *Deletion) CountRows(ctx context.Context, tables []string, shop ports.ShopID, table, from string) (int64, error) {
	if !slices.Contains(tables, table) {
		return 0, ports.Invalid("table", fmt.Sprintf("%q holds no shop rows", table))
	}
	var n int64
	err := t.get(ctx, &n, `SELECT count(*) FROM `+fmt.Sprintf(from, table)+` WHERE shop_id = ?`, shop)
	return n, t.wrap("count shop rows in "+table, err)
}

// Finish implements ports.ShopDeleter.FinishShopDeletion: it deletes the
// directory row and stamps the record finished, once. A database whose
// application role may not delete a directory row passes finish, a
// statement doing both that takes the time as its one argument; nil runs
// the two statements here.
func (t *Deletion) Finish(ctx context.Context, shop ports.ShopID, finish string) (ports.ShopDeletion, error) {
	if _, err := t.Get(ctx, shop); err != nil {
		return ports.ShopDeletion{}, err
	}
	if finish != "" {
		if _, err := t.exec(ctx, finish, t.now()); err != nil {
			return ports.ShopDeletion{}, t.wrap("finish shop deletion", err)
		}
		return t.Get(ctx, shop)
	}
	if _, err := t.exec(ctx, `DELETE FROM shops WHERE id = ?`, shop); err != nil {
		return ports.ShopDeletion{}, t.wrap("delete shop directory row", err)
	}
	if _, err := t.exec(ctx, `UPDATE shop_deletions SET finished_at = ? WHERE deleted_shop_id = ? AND finished_at IS NULL`, t.now(), shop); err != nil {
		return ports.ShopDeletion{}, t.wrap("finish shop deletion", err)
	}
	return t.Get(ctx, shop)
}
