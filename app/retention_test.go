package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/localfs"
	"github.com/stockadehq/stockade/adapters/localkms"
	"github.com/stockadehq/stockade/core/housekeeping"
	"github.com/stockadehq/stockade/core/storage"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/stockadetest"
)

// retentionNotes is an embedding app's schema: one tenant table.
var retentionNotes = []stockadetest.Option{
	stockadetest.WithAppMigrations("notes",
		fstest.MapFS{"00001_notes.sql": {Data: []byte(`-- +goose Up
CREATE TABLE notes (
    shop_id uuid NOT NULL REFERENCES shops (id),
    id      uuid NOT NULL,
    body    text NOT NULL,
    PRIMARY KEY (shop_id, id)
);
SELECT stockade_tenant_table('notes');

-- +goose Down
DROP TABLE notes;
`)}},
		fstest.MapFS{"00001_notes.sql": {Data: []byte(`-- +goose Up
CREATE TABLE notes (
    shop_id TEXT NOT NULL REFERENCES shops (id),
    id      TEXT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (shop_id, id)
) STRICT;

-- +goose Down
DROP TABLE notes;
`)}}),
	stockadetest.WithAppTables(ports.TenantTable{Name: "notes"}),
}

// retentionStores opens each store with the notes table declared.
var retentionStores = []struct {
	name string
	open func(testing.TB) ports.Store
}{
	{"sqlite", func(t testing.TB) ports.Store { return stockadetest.SQLite(t, retentionNotes...) }},
	{"postgres", func(t testing.TB) ports.Store { return stockadetest.Postgres(t, retentionNotes...) }},
}

// movableClock is a test clock the test moves.
type movableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movableClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *movableClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// failingDeleter fails DeleteShopRows after allowed batches: a job killed
// halfway through a shop's rows.
type failingDeleter struct {
	ports.ShopDeleter
	allowed int
}

var errJobKilled = errors.New("killed")

func (f *failingDeleter) DeleteShopRows(ctx context.Context, shop ports.ShopID, table string, limit int) (int, error) {
	if f.allowed == 0 {
		return 0, errJobKilled
	}
	f.allowed--
	return f.ShopDeleter.DeleteShopRows(ctx, shop, table, limit)
}

// seededShop is a shop with rows in Stockade's tables and the app's,
// objects under its prefix, and an envelope-wrapped data key.
type seededShop struct {
	stockadetest.Shop
	keys    []string // object keys
	wrapped []byte   // a data key wrapped for the shop
	sealed  []byte   // an object's bytes at rest
}

func seedRetentionShop(t *testing.T, st ports.Store, objects ports.ObjectStore, keys ports.KeyManager, customer string, cancelledAt time.Time) seededShop {
	t.Helper()
	ctx := context.Background()
	s := seededShop{Shop: stockadetest.NewShop(t, st)}
	require.NoError(t, st.InShop(ctx, s.ID, func(ctx context.Context, tx ports.ShopTx) error {
		for i := range 5 {
			ph := "?, ?, ?"
			if tx.SQL().Dialect() == ports.DialectPostgres {
				ph = "$1, $2, $3"
			}
			if _, err := tx.SQL().ExecContext(ctx, "INSERT INTO notes (shop_id, id, body) VALUES ("+ph+")",
				s.ID.String(), ports.NewFileID().String(), fmt.Sprintf("note %d", i)); err != nil {
				return err
			}
		}
		if _, err := tx.Audit().Append(ctx, ports.AuditEvent{ID: ports.NewEventID(), Time: time.Now(), Actor: "system:test",
			Action: "settings.changed", Target: "shop:" + s.ID.String(), Outcome: ports.OutcomeSuccess}); err != nil {
			return err
		}
		if _, err := tx.Files().Create(ctx, ports.File{ID: ports.NewFileID(), Kind: "photo", Name: "a.jpg", ContentType: "image/jpeg",
			UploadedBy: s.Owner, State: ports.FilePending, ObjectKey: storage.ObjectKey(s.ID, "photo", ports.NewFileID())}); err != nil {
			return err
		}
		if _, err := tx.Billing().LinkCustomer(ctx, customer); err != nil {
			return err
		}
		if !cancelledAt.IsZero() {
			_, err := tx.Billing().ApplySubscription(ctx, ports.SubscriptionState{ID: "sub_" + customer[4:], CustomerID: customer,
				Status: ports.SubscriptionCanceled, EndedAt: cancelledAt, AsOf: cancelledAt})
			return err
		}
		return nil
	}))
	dataKey := make([]byte, 32)
	_, _ = rand.Read(dataKey)
	var err error
	s.wrapped, err = keys.WrapKey(ctx, s.ID, dataKey)
	require.NoError(t, err)
	s.sealed = []byte("ciphertext under the data key of " + s.ID.String())
	for i := range 7 {
		k := storage.ObjectKey(s.ID, "photo", ports.NewFileID())
		if i == 6 {
			k = storage.StagingKey(s.ID, ports.NewFileID())
		}
		require.NoError(t, objects.Put(ctx, k, bytes.NewReader(s.sealed), int64(len(s.sealed)), ""))
		s.keys = append(s.keys, k)
	}
	return s
}

// shopLeft counts s's rows in every table that holds shop rows, and its
// objects.
func shopLeft(t *testing.T, del ports.ShopDeleter, objects ports.ObjectStore, shop ports.ShopID) (map[string]int64, int) {
	t.Helper()
	ctx := context.Background()
	rows := map[string]int64{}
	for _, table := range del.DeletionTables() {
		n, err := del.ShopRows(ctx, shop, table)
		require.NoError(t, err, table)
		if n > 0 {
			rows[table] = n
		}
	}
	page, err := objects.List(ctx, storage.ShopPrefix(shop), "", ports.MaxListPageSize)
	require.NoError(t, err)
	return rows, len(page.Objects)
}

// TestRetentionDeletesCancelledShops is LIFE-2 (issue 21, acceptance 2):
// with a controllable clock, on day 59 after A's cancellation nothing is
// deleted; on day 60 a pass killed halfway through A's rows fails, the
// next pass finishes it, and then A has no row in any table (the app's
// included) and no object, its deletion record keeps the counts and the
// chain head, B (active) and C (cancelled, then reactivated) are
// untouched.
func TestRetentionDeletesCancelledShops(t *testing.T) {
	for _, be := range retentionStores {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			st := be.open(t)
			del := st.(ports.ShopDeleter)
			objects, err := localfs.Open(t.TempDir(), localfs.Options{})
			require.NoError(t, err)
			t.Cleanup(func() { objects.Close() })
			master := make([]byte, localkms.MinMasterKeyLen)
			_, _ = rand.Read(master)
			keys, err := localkms.New(t.TempDir(), [][]byte{master})
			require.NoError(t, err)

			cancelled := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
			a := seedRetentionShop(t, st, objects, keys, "cus_retentionA", cancelled)
			b := seedRetentionShop(t, st, objects, keys, "cus_retentionB", time.Time{})
			c := seedRetentionShop(t, st, objects, keys, "cus_retentionC", cancelled)
			require.NoError(t, st.InShop(ctx, c.ID, func(ctx context.Context, tx ports.ShopTx) error {
				later := cancelled.Add(24 * time.Hour)
				_, err := tx.Billing().ApplySubscription(ctx, ports.SubscriptionState{ID: "sub_retentionC2", CustomerID: "cus_retentionC",
					Status: ports.SubscriptionActive, AsOf: later})
				return err
			}))
			beforeA, objsA := shopLeft(t, del, objects, a.ID)
			beforeB, objsB := shopLeft(t, del, objects, b.ID)
			beforeC, objsC := shopLeft(t, del, objects, c.ID)
			require.Equal(t, int64(5), beforeA["notes"])
			require.Equal(t, 7, objsA)

			clock := &movableClock{t: cancelled.Add(59 * 24 * time.Hour)}
			deleter := func(d ports.ShopDeleter) *housekeeping.Deleter {
				dl, err := housekeeping.NewDeleter(housekeeping.RetentionDeps{Store: st, Deleter: d, Objects: objects, Keys: keys, Clock: clock},
					housekeeping.RetentionConfig{RowBatch: 2, ObjectBatch: 3})
				require.NoError(t, err)
				return dl
			}

			// Day 59: nothing.
			rep, err := deleter(del).RunRetention(ctx)
			require.NoError(t, err)
			assert.Empty(t, rep.Deleted)
			left, objs := shopLeft(t, del, objects, a.ID)
			assert.Equal(t, beforeA, left)
			assert.Equal(t, objsA, objs)

			// A shop reactivated after a pass listed it does not start.
			_, err = del.StartShopDeletion(ctx, ports.ShopDeletion{Shop: c.ID, Reason: ports.DeletionRetention, Actor: housekeeping.RetentionActor})
			require.ErrorIs(t, err, ports.ErrNotFound)
			_, err = del.ShopDeletion(ctx, c.ID)
			require.ErrorIs(t, err, ports.ErrNotFound)

			// Day 60, killed after three batches of rows.
			clock.Set(cancelled.Add(60 * 24 * time.Hour))
			rep, err = deleter(&failingDeleter{ShopDeleter: del, allowed: 3}).RunRetention(ctx)
			require.ErrorIs(t, err, errJobKilled)
			assert.Equal(t, 1, rep.Failed)
			left, objs = shopLeft(t, del, objects, a.ID)
			assert.Zero(t, objs, "objects go first")
			assert.Less(t, left["notes"], beforeA["notes"], "the first batches ran")
			assert.NotEmpty(t, left, "killed halfway")

			// The next pass finishes.
			rep, err = deleter(del).RunRetention(ctx)
			require.NoError(t, err)
			require.Len(t, rep.Deleted, 1)
			rec := rep.Deleted[0]
			assert.Equal(t, a.ID, rec.Shop)
			assert.Equal(t, ports.DeletionRetention, rec.Reason)
			assert.Equal(t, housekeeping.RetentionActor, rec.Actor)
			assert.False(t, rec.FinishedAt.IsZero())
			assert.Equal(t, int64(objsA), rec.Objects)
			assert.Equal(t, beforeA["notes"], rec.Rows["notes"])
			assert.Equal(t, beforeA["memberships"], rec.Rows["memberships"])
			assert.Equal(t, beforeA["audit_events"]+1, rec.Rows["audit_events"], "the chain ends with the deletion's own event")
			assert.Equal(t, rec.Rows["audit_events"], rec.ChainSize)
			assert.False(t, rec.ChainHash.IsZero())

			left, objs = shopLeft(t, del, objects, a.ID)
			assert.Empty(t, left, "no row of A is left in any table")
			assert.Zero(t, objs)
			require.NoError(t, st.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
				_, err := tx.Shops().Get(ctx, a.ID)
				assert.ErrorIs(t, err, ports.ErrNotFound, "the directory row went last")
				return nil
			}))
			_, err = keys.UnwrapKey(ctx, a.ID, a.wrapped)
			require.ErrorIs(t, err, ports.ErrNotFound, "A's keys are destroyed with it")
			_, err = keys.UnwrapKey(ctx, b.ID, b.wrapped)
			require.NoError(t, err, "B's keys are kept")
			kept, err := del.ShopDeletion(ctx, a.ID)
			require.NoError(t, err)
			assert.Equal(t, rec.Rows, kept.Rows)

			for _, s := range []struct {
				id     ports.ShopID
				before map[string]int64
				objs   int
			}{{b.ID, beforeB, objsB}, {c.ID, beforeC, objsC}} {
				left, objs := shopLeft(t, del, objects, s.id)
				assert.Equal(t, s.before, left)
				assert.Equal(t, s.objs, objs)
			}

			// A later pass has nothing to do.
			rep, err = deleter(del).RunRetention(ctx)
			require.NoError(t, err)
			assert.Empty(t, rep.Deleted)
		})
	}
}

// TestEraseShop is LIFE-3 (issue 21, acceptance 3): an erasure without a
// reason or an operator is refused and changes nothing; with both it is
// audited before it runs, destroys A's keys first (A's objects at rest, a
// copy included, can no longer be decrypted), deletes A's rows and
// objects now, and leaves B untouched.
func TestEraseShop(t *testing.T) {
	for _, be := range retentionStores {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			st := be.open(t)
			del := st.(ports.ShopDeleter)
			objects, err := localfs.Open(t.TempDir(), localfs.Options{})
			require.NoError(t, err)
			t.Cleanup(func() { objects.Close() })
			master := make([]byte, localkms.MinMasterKeyLen)
			_, _ = rand.Read(master)
			keys, err := localkms.New(t.TempDir(), [][]byte{master})
			require.NoError(t, err)
			a := seedRetentionShop(t, st, objects, keys, "cus_eraseA", time.Time{})
			b := seedRetentionShop(t, st, objects, keys, "cus_eraseB", time.Time{})
			beforeA, objsA := shopLeft(t, del, objects, a.ID)
			beforeB, objsB := shopLeft(t, del, objects, b.ID)
			dl, err := housekeeping.NewDeleter(housekeeping.RetentionDeps{Store: st, Deleter: del, Objects: objects, Keys: keys}, housekeeping.RetentionConfig{})
			require.NoError(t, err)

			_, err = dl.Erase(ctx, a.ID, "operator:ops", "  ")
			require.ErrorIs(t, err, ports.ErrInvalid)
			_, err = dl.Erase(ctx, a.ID, "", "customer asked by e-mail")
			require.ErrorIs(t, err, ports.ErrInvalid)
			left, objs := shopLeft(t, del, objects, a.ID)
			assert.Equal(t, beforeA, left, "a refused erasure changes nothing")
			assert.Equal(t, objsA, objs)
			_, err = keys.UnwrapKey(ctx, a.ID, a.wrapped)
			require.NoError(t, err, "a refused erasure keeps the keys")
			_, err = del.ShopDeletion(ctx, a.ID)
			require.ErrorIs(t, err, ports.ErrNotFound)

			rec, err := dl.Erase(ctx, a.ID, "operator:ops", "customer asked by e-mail, ticket 42")
			require.NoError(t, err)
			assert.Equal(t, ports.DeletionErasure, rec.Reason)
			assert.Equal(t, "operator:ops", rec.Actor)
			assert.Equal(t, "customer asked by e-mail, ticket 42", rec.Note)
			// The erase event and the deletion's own: the chain ends with both.
			assert.Equal(t, beforeA["audit_events"]+2, rec.ChainSize)
			_, err = keys.UnwrapKey(ctx, a.ID, a.wrapped)
			require.ErrorIs(t, err, ports.ErrNotFound, "A's data keys cannot be unwrapped: a copy of its objects stays sealed")
			left, objs = shopLeft(t, del, objects, a.ID)
			assert.Empty(t, left)
			assert.Zero(t, objs)
			left, objs = shopLeft(t, del, objects, b.ID)
			assert.Equal(t, beforeB, left)
			assert.Equal(t, objsB, objs)
			_, err = keys.UnwrapKey(ctx, b.ID, b.wrapped)
			require.NoError(t, err, "B's keys are kept")

			again, err := dl.Erase(ctx, a.ID, "operator:ops", "again")
			require.NoError(t, err)
			assert.Equal(t, rec.FinishedAt, again.FinishedAt, "an erased shop stays erased")
		})
	}
}

// TestShopDeletionWallsOnPostgres shows what the application role can do
// to a shop's audit chain on Postgres: nothing directly (no grant, and the
// triggers refuse), not through stockade_delete_shop_rows while the shop
// has no deletion record or by any other statement text, and not to a
// deletion record once written (who, why and when are fixed; it is never
// deleted).
func TestShopDeletionWallsOnPostgres(t *testing.T) {
	ctx := context.Background()
	st := stockadetest.Postgres(t, retentionNotes...)
	var del ports.ShopDeleter = st
	a := stockadetest.NewShop(t, st)
	require.NoError(t, st.InShop(ctx, a.ID, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Audit().Append(ctx, ports.AuditEvent{ID: ports.NewEventID(), Time: time.Now(), Actor: "system:test",
			Action: "settings.changed", Target: "shop:" + a.ID.String(), Outcome: ports.OutcomeSuccess})
		return err
	}))
	try := func(query string, args ...any) error {
		return st.InShop(ctx, a.ID, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.SQL().ExecContext(ctx, query, args...)
			return err
		})
	}
	require.Error(t, try(`DELETE FROM audit_events`))
	require.ErrorContains(t, try(`SELECT stockade_delete_shop_rows($1, $2)`, "audit_events", 10), "no running deletion")
	rows, err := del.ShopRows(ctx, a.ID, "audit_events")
	require.NoError(t, err)
	require.Positive(t, rows)

	_, err = del.StartShopDeletion(ctx, ports.ShopDeletion{Shop: a.ID, Reason: ports.DeletionErasure, Actor: "operator:ops", Note: "test"})
	require.NoError(t, err)
	require.Error(t, try(`DELETE FROM audit_events`), "a record opens no direct DELETE")
	require.ErrorContains(t, try(`SELECT stockade_delete_shop_rows('audit_events', 10)`), "another statement")
	require.ErrorContains(t, try(`SELECT stockade_delete_shop_rows($1, $2)`, "memberships", 10), "not a table")
	require.Error(t, try(`UPDATE shop_deletions SET reason = 'retention'`))
	require.Error(t, try(`DELETE FROM shop_deletions`))
	after, err := del.ShopRows(ctx, a.ID, "audit_events")
	require.NoError(t, err)
	assert.Equal(t, rows, after, "nothing was deleted")
	rec, err := del.ShopDeletion(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, ports.DeletionErasure, rec.Reason)
	_, err = del.FinishShopDeletion(ctx, a.ID)
	require.Error(t, err, "the directory row cannot go while the shop has rows")
}
