package sqlite_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/sqlite"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

// declareHint is what every refusal caused by a missing declaration says.
const declareHint = "declare the table with sqlite.WithAppTables"

// TestWallWithNoTablesDeclaredSaysSo: an app that migrated its table but
// declared none gets an error naming the missing declaration from every
// entry of tx.SQL(), and reads nothing.
func TestWallWithNoTablesDeclaredSaysSo(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, "sqlite://:memory:", sqlite.WithAppMigrations("porttest", porttest.AppNotesMigrations(ports.DialectSQLite)))
	require.NoError(t, err)
	defer s.Close()
	q := "SELECT count(*) FROM " + porttest.AppNotesTable
	in := func(fn func(ctx context.Context, db ports.TxSQL) error) error {
		return s.InShop(ctx, ports.NewShopID(), func(ctx context.Context, tx ports.ShopTx) error {
			return fn(ctx, tx.SQL())
		}, ports.ReadOnly())
	}

	err = in(func(ctx context.Context, db ports.TxSQL) error {
		_, err := db.ExecContext(ctx, q)
		return err
	})
	require.ErrorIs(t, err, ports.ErrUnsupported)
	require.ErrorContains(t, err, declareHint)

	err = in(func(ctx context.Context, db ports.TxSQL) error {
		rows, err := db.QueryContext(ctx, q)
		if err == nil {
			rows.Close()
		}
		return err
	})
	require.ErrorIs(t, err, ports.ErrUnsupported)
	require.ErrorContains(t, err, declareHint)

	n := -1
	err = in(func(ctx context.Context, db ports.TxSQL) error {
		return db.QueryRowContext(ctx, q).Scan(&n)
	})
	require.ErrorContains(t, err, declareHint, "a *sql.Row cannot carry the sentinel, but its message names the fix")
	require.Equal(t, -1, n, "nothing was read")
}

// TestWallUndeclaredTableSaysSo: with other tables declared, a statement
// on an app table that was not declared is refused, and the error names
// the table and the fix; Stockade's own tables are refused without it.
func TestWallUndeclaredTableSaysSo(t *testing.T) {
	w := newWallWorld(t)
	ctx := context.Background()
	_, err := w.s.DB().ExecContext(ctx, `CREATE TABLE invoices (shop_id TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (shop_id, id))`)
	require.NoError(t, err)
	_, err = w.s.DB().ExecContext(ctx, `INSERT INTO invoices VALUES (?, 'i-b')`, w.b)
	require.NoError(t, err)

	for _, q := range []string{
		`SELECT * FROM invoices`,
		`SELECT * FROM main.invoices`,
		`DELETE FROM invoices`,
		`INSERT INTO invoices (shop_id, id) VALUES ('x', 'y')`,
	} {
		err := w.in(t, w.a, func(ctx context.Context, db ports.TxSQL) error {
			_, err := db.ExecContext(ctx, q)
			return err
		})
		require.ErrorIs(t, err, ports.ErrInvalid, q)
		require.ErrorIs(t, err, ports.ErrForbidden, q)
		require.ErrorContains(t, err, "invoices", q)
		require.ErrorContains(t, err, declareHint, q)

		rows := 0
		err = w.in(t, w.a, func(ctx context.Context, db ports.TxSQL) error {
			r, err := db.QueryContext(ctx, q)
			if err != nil {
				return err
			}
			defer r.Close()
			for r.Next() {
				rows++
			}
			return r.Err()
		}, ports.ReadOnly())
		require.ErrorIs(t, err, ports.ErrInvalid, q)
		require.ErrorContains(t, err, declareHint, q)
		require.Zero(t, rows, q)
	}
	n := -1
	err = w.in(t, w.a, func(ctx context.Context, db ports.TxSQL) error {
		return db.QueryRowContext(ctx, `SELECT count(*) FROM invoices`).Scan(&n)
	}, ports.ReadOnly())
	require.ErrorContains(t, err, "invoices is not a declared app table", "a *sql.Row cannot carry the sentinels, but its message names the table")
	require.ErrorContains(t, err, declareHint)
	require.Equal(t, -1, n, "nothing was read")

	var ids []string
	require.NoError(t, w.s.DB().SelectContext(ctx, &ids, `SELECT id FROM invoices`))
	require.Equal(t, []string{"i-b"}, ids, "the refused statements wrote nothing")

	for _, q := range []string{`SELECT * FROM sessions`, `SELECT * FROM main.shops`, `SELECT * FROM stockade_app_fieldapp_versions`, `SELECT * FROM sqlite_master`} {
		err := w.in(t, w.a, func(ctx context.Context, db ports.TxSQL) error {
			_, err := db.ExecContext(ctx, q)
			return err
		})
		require.ErrorIs(t, err, ports.ErrForbidden, q)
		require.NotErrorIs(t, err, ports.ErrInvalid, q)
		require.NotContains(t, err.Error(), "WithAppTables", "Stockade's own tables are not the app's to declare: %s", q)
	}
}
