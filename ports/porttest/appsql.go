package porttest

import (
	"context"
	"io/fs"
	"strconv"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// AppNotesTable is the app table TestAppSQL writes through ShopTx.SQL.
const AppNotesTable = "porttest_notes"

// AppNotesMigrations returns an app migration directory for dialect
// (ports.DialectPostgres or ports.DialectSQLite) that creates
// porttest_notes (shop_id, id, body), keyed on (shop_id, id) and, on
// Postgres, made a tenant table with stockade_tenant_table.
func AppNotesMigrations(dialect string) fs.FS {
	up := `CREATE TABLE porttest_notes (
    shop_id TEXT NOT NULL REFERENCES shops (id),
    id      TEXT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (shop_id, id)
);`
	down := `DROP TABLE porttest_notes;`
	if dialect == ports.DialectPostgres {
		up = `CREATE TABLE porttest_notes (
    shop_id uuid NOT NULL REFERENCES shops (id),
    id      uuid NOT NULL,
    body    text NOT NULL,
    PRIMARY KEY (shop_id, id)
);
SELECT stockade_tenant_table('porttest_notes');`
	}
	return fstest.MapFS{"00001_notes.sql": &fstest.MapFile{
		Data: []byte("-- +goose Up\n" + up + "\n\n-- +goose Down\n" + down + "\n"),
	}}
}

// TestAppSQL checks the open unit of work: a store from newStore has
// AppNotesMigrations applied and porttest_notes declared as an app table.
// A write through ShopTx.SQL and an audit append in one InShop commit
// together, and roll back together.
func TestAppSQL(t *testing.T, newStore StoreHarness) {
	t.Run("CommitsWithAuditEvent", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 0)
		shop := f.shops[0].ID
		id := ports.NewEventID().String()
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			if err := insertNote(ctx, tx, id, "first"); err != nil {
				return err
			}
			_, err := tx.Audit().Append(ctx, event("note.created"))
			return err
		})
		assert.Equal(t, []string{"first"}, notes(t, s, shop))
		require.Len(t, auditLog(t, s, shop), 1)
	})

	t.Run("RollsBackWithFnError", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 0)
		shop := f.shops[0].ID
		err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			if err := insertNote(ctx, tx, ports.NewEventID().String(), "gone"); err != nil {
				return err
			}
			if _, err := tx.Audit().Append(ctx, event("note.created")); err != nil {
				return err
			}
			return errBoom
		})
		require.ErrorIs(t, err, errBoom)
		assert.Empty(t, notes(t, s, shop), "the app's row rolled back")
		assert.Empty(t, auditLog(t, s, shop), "the audit event rolled back with it")
	})

	t.Run("FailedAuditAppendLeavesNoRow", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 0)
		shop := f.shops[0].ID
		ev := event("note.created")
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Audit().Append(ctx, ev)
			return err
		})
		err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			if err := insertNote(ctx, tx, ports.NewEventID().String(), "orphan"); err != nil {
				return err
			}
			_, err := tx.Audit().Append(ctx, ev) // the same event ID again: the store refuses it
			return err
		})
		require.Error(t, err, "a second event with the same ID is refused")
		assert.Empty(t, notes(t, s, shop), "the app's row did not outlive its failed audit event")
		assert.Len(t, auditLog(t, s, shop), 1)
	})

	t.Run("DialectNamesThePlaceholders", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 0)
		inShop(t, s, f.shops[0].ID, func(ctx context.Context, tx ports.ShopTx) error {
			assert.Contains(t, []string{ports.DialectPostgres, ports.DialectSQLite}, tx.SQL().Dialect())
			var n int
			require.NoError(t, tx.SQL().QueryRowContext(ctx, rebind(tx, "SELECT count(*) FROM porttest_notes WHERE body = ?"), "x").Scan(&n))
			assert.Zero(t, n)
			return nil
		}, ports.ReadOnly())
	})
}

// rebind turns ? placeholders into the handle's dialect.
func rebind(tx ports.ShopTx, q string) string { return bind(tx.SQL(), q) }

// bind turns ? placeholders into db's dialect.
func bind(db ports.TxSQL, q string) string {
	if db.Dialect() != ports.DialectPostgres {
		return q
	}
	out, n := make([]byte, 0, len(q)+8), 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			out = append(out, q[i])
			continue
		}
		n++
		out = append(out, '$')
		out = append(out, strconv.Itoa(n)...)
	}
	return string(out)
}

func insertNote(ctx context.Context, tx ports.ShopTx, id, body string) error {
	_, err := tx.SQL().ExecContext(ctx, rebind(tx, "INSERT INTO porttest_notes (shop_id, id, body) VALUES (?, ?, ?)"),
		tx.ShopID().String(), id, body)
	return err
}

// notes lists the bodies of the shop's notes, read through ShopTx.SQL.
func notes(t *testing.T, s ports.Store, shop ports.ShopID) []string {
	t.Helper()
	var out []string
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		rows, err := tx.SQL().QueryContext(ctx, rebind(tx, "SELECT body FROM porttest_notes WHERE shop_id = ? ORDER BY body"), shop.String())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b string
			if err := rows.Scan(&b); err != nil {
				return err
			}
			out = append(out, b)
		}
		return rows.Err()
	}, ports.ReadOnly())
	return out
}
