package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/sqlite"
	"github.com/stockadehq/stockade/ports"
)

// The field-service app's tables: quotes point at customers through a
// foreign key that carries shop_id.
const fieldAppUp = `-- +goose Up
CREATE TABLE customers (
    shop_id TEXT NOT NULL REFERENCES shops (id),
    id      TEXT NOT NULL,
    name    TEXT NOT NULL,
    PRIMARY KEY (shop_id, id)
);
CREATE TABLE quotes (
    shop_id     TEXT NOT NULL,
    id          TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    cents       INTEGER NOT NULL,
    status      TEXT NOT NULL DEFAULT 'draft',
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, customer_id) REFERENCES customers (shop_id, id)
);
-- +goose Down
DROP TABLE quotes;
DROP TABLE customers;
`

// wallWorld is a file store with the field app's tables declared and two
// shops, each with one customer and one quote (written below the wall).
type wallWorld struct {
	s    *sqlite.Store
	a, b ports.ShopID
}

func newWallWorld(t testing.TB) wallWorld {
	t.Helper()
	ctx := context.Background()
	url := "sqlite://" + filepath.Join(t.TempDir(), "wall.db")
	_, err := sqlite.Migrate(ctx, url)
	require.NoError(t, err)
	_, err = sqlite.MigrateApp(ctx, url, "fieldapp", fstest.MapFS{"00001_field.sql": {Data: []byte(fieldAppUp)}})
	require.NoError(t, err)
	s, err := sqlite.Open(ctx, url, sqlite.WithAppTables(ports.TenantTable{Name: "customers"}, ports.TenantTable{Name: "quotes"}))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	w := wallWorld{s: s, a: ports.NewShopID(), b: ports.NewShopID()}
	require.NoError(t, s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		org, err := tx.Orgs().Create(ctx, ports.Org{ID: ports.NewOrgID(), Name: "HQ"})
		if err != nil {
			return err
		}
		for i, id := range []ports.ShopID{w.a, w.b} {
			slug := []string{"shop-a", "shop-b"}[i]
			if _, err := tx.Shops().Create(ctx, ports.Shop{ID: id, OrgID: org.ID, Slug: slug, Name: slug, Status: ports.ShopActive}); err != nil {
				return err
			}
		}
		return nil
	}))
	db := s.DB() // below the wall, as the app's migrations or an operator would
	for _, sh := range []struct {
		shop ports.ShopID
		tag  string
	}{{w.a, "a"}, {w.b, "b"}} {
		_, err := db.ExecContext(ctx, `INSERT INTO customers (shop_id, id, name) VALUES (?, ?, ?)`, sh.shop, "c-"+sh.tag, "Customer "+sh.tag)
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, `INSERT INTO quotes (shop_id, id, customer_id, cents) VALUES (?, ?, ?, 100)`, sh.shop, "q-"+sh.tag, "c-"+sh.tag)
		require.NoError(t, err)
	}
	return w
}

// quoteIDs lists every quote row of shop, read below the wall.
func (w wallWorld) quoteRows(t *testing.T, shop ports.ShopID) []string {
	t.Helper()
	var ids []string
	require.NoError(t, w.s.DB().SelectContext(context.Background(), &ids, `SELECT id || ':' || customer_id || ':' || cents FROM main.quotes WHERE shop_id = ? ORDER BY id`, shop))
	return ids
}

func (w wallWorld) in(t *testing.T, shop ports.ShopID, fn func(ctx context.Context, db ports.TxSQL) error, opts ...ports.TxOption) error {
	t.Helper()
	return w.s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		return fn(ctx, tx.SQL())
	}, opts...)
}

func TestWallForgottenWhereSeesOnlyThisShop(t *testing.T) {
	w := newWallWorld(t)
	for _, ro := range []bool{false, true} {
		var opts []ports.TxOption
		if ro {
			opts = append(opts, ports.ReadOnly())
		}
		var ids []string
		require.NoError(t, w.in(t, w.a, func(ctx context.Context, db ports.TxSQL) error {
			rows, err := db.QueryContext(ctx, `SELECT q.id FROM quotes q JOIN customers c ON c.id = q.customer_id ORDER BY q.id`)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					return err
				}
				ids = append(ids, id)
			}
			return rows.Err()
		}, opts...))
		require.Equal(t, []string{"q-a"}, ids, "read-only=%v", ro)
		var n int
		require.NoError(t, w.in(t, w.b, func(ctx context.Context, db ports.TxSQL) error {
			return db.QueryRowContext(ctx, `SELECT count(*) FROM quotes WHERE shop_id = ?`, w.a).Scan(&n)
		}, opts...))
		require.Zero(t, n, "shop b names shop a's id and still sees none of its quotes (read-only=%v)", ro)
	}
}

func TestWallRefusesWritesNamingAnotherShop(t *testing.T) {
	w := newWallWorld(t)
	err := w.in(t, w.a, func(ctx context.Context, db ports.TxSQL) error {
		_, err := db.ExecContext(ctx, `INSERT INTO quotes (shop_id, id, customer_id, cents) VALUES (?, 'q-evil', 'c-b', 1)`, w.b)
		return err
	})
	require.ErrorIs(t, err, ports.ErrForbidden)
	err = w.in(t, w.a, func(ctx context.Context, db ports.TxSQL) error {
		_, err := db.ExecContext(ctx, `UPDATE quotes SET shop_id = ? WHERE id = 'q-a'`, w.b)
		return err
	})
	require.ErrorIs(t, err, ports.ErrForbidden, "moving a quote to another shop")
	require.NoError(t, w.in(t, w.a, func(ctx context.Context, db ports.TxSQL) error {
		if _, err := db.ExecContext(ctx, `UPDATE quotes SET cents = 999`); err != nil {
			return err
		}
		_, err := db.ExecContext(ctx, `DELETE FROM quotes WHERE shop_id = ? OR id = 'q-b'`, w.b)
		return err
	}))
	require.Equal(t, []string{"q-b:c-b:100"}, w.quoteRows(t, w.b), "shop b's quote is untouched by shop a's update and delete")
	require.Equal(t, []string{"q-a:c-a:999"}, w.quoteRows(t, w.a))
}

func TestWallInsertsAndCompositeForeignKey(t *testing.T) {
	w := newWallWorld(t)
	require.NoError(t, w.in(t, w.a, func(ctx context.Context, db ports.TxSQL) error {
		_, err := db.ExecContext(ctx, `INSERT INTO quotes (id, customer_id, cents) VALUES ('q-a2', 'c-a', 5)`)
		return err
	}))
	require.Equal(t, []string{"q-a:c-a:100", "q-a2:c-a:5"}, w.quoteRows(t, w.a), "an insert without shop_id lands in this shop")
	var status string
	require.NoError(t, w.s.DB().GetContext(context.Background(), &status, `SELECT status FROM main.quotes WHERE id = 'q-a2'`))
	require.Equal(t, "draft", status, "an omitted column takes its default")
	err := w.in(t, w.a, func(ctx context.Context, db ports.TxSQL) error {
		_, err := db.ExecContext(ctx, `INSERT INTO quotes (shop_id, id, customer_id, cents) VALUES (?, 'q-x', 'c-b', 1)`, w.a)
		return err
	})
	require.ErrorIs(t, err, ports.ErrNotFound, "a quote pointing at another shop's customer")
	require.Equal(t, []string{"q-a:c-a:100", "q-a2:c-a:5"}, w.quoteRows(t, w.a))
}

func TestWallRefusesSchemaTricks(t *testing.T) {
	w := newWallWorld(t)
	for _, q := range []string{
		`SELECT * FROM main.quotes`,
		`SELECT count(*) FROM main.customers`,
		`INSERT INTO main.quotes (shop_id, id, customer_id, cents) VALUES ('x', 'y', 'z', 1)`,
		`UPDATE main.quotes SET cents = 0`,
		`DELETE FROM main.quotes`,
		`UPDATE temp.stockade_wall SET shop_id = 'x'`,
		`DELETE FROM temp.stockade_wall`,
		`SELECT * FROM shops`,
		`SELECT * FROM sessions`,
		`SELECT * FROM sqlite_master`,
		`PRAGMA foreign_keys = OFF`,
		`ATTACH DATABASE ':memory:' AS other`,
		`DROP VIEW quotes`,
		`DROP TRIGGER stockade_wall_quotes_update`,
		`CREATE TEMP VIEW peek AS SELECT * FROM main.quotes`,
		`CREATE TABLE evil (x)`,
		`ALTER TABLE main.quotes ADD COLUMN x`,
		`COMMIT`,
		`SAVEPOINT s1`,
		`SELECT 1; SELECT * FROM main.quotes`,
		`WITH x AS (SELECT * FROM main.quotes) SELECT * FROM x`,
		`SELECT load_extension('x')`,
	} {
		err := w.in(t, w.a, func(ctx context.Context, db ports.TxSQL) error {
			_, err := db.ExecContext(ctx, q)
			return err
		})
		require.ErrorIs(t, err, ports.ErrForbidden, q)
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
		require.ErrorIs(t, err, ports.ErrForbidden, q)
		require.Zero(t, rows, q)
	}
	require.Equal(t, []string{"q-a:c-a:100"}, w.quoteRows(t, w.a))
	require.Equal(t, []string{"q-b:c-b:100"}, w.quoteRows(t, w.b))
}

func TestWallOutsideInShopSeesNothing(t *testing.T) {
	w := newWallWorld(t)
	var leaked ports.TxSQL
	require.NoError(t, w.in(t, w.a, func(ctx context.Context, db ports.TxSQL) error {
		leaked = db
		var n int
		return db.QueryRowContext(ctx, `SELECT count(*) FROM quotes`).Scan(&n)
	}))
	ctx := context.Background()
	_, err := leaked.ExecContext(ctx, `UPDATE quotes SET cents = 0`)
	require.Error(t, err, "a handle kept past its unit of work")
	var n int
	require.Error(t, leaked.QueryRowContext(ctx, `SELECT count(*) FROM quotes`).Scan(&n))
	// The writer connection keeps the wall's views; with the scope
	// cleared at commit they show no shop's rows.
	require.NoError(t, w.s.DB().GetContext(ctx, &n, `SELECT count(*) FROM temp.quotes`))
	require.Zero(t, n)
	var ro int
	require.NoError(t, w.s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error { return nil }))
	require.NoError(t, w.s.DB().GetContext(ctx, &ro, `SELECT count(*) FROM main.quotes`))
	require.Equal(t, 2, ro, "the authorizer is removed once the unit of work ends")
}

func TestWallRowsAffectedIsRefusedNotFaked(t *testing.T) {
	w := newWallWorld(t)
	require.NoError(t, w.in(t, w.a, func(ctx context.Context, db ports.TxSQL) error {
		res, err := db.ExecContext(ctx, `UPDATE quotes SET cents = 1`)
		if err != nil {
			return err
		}
		_, err = res.RowsAffected()
		require.ErrorIs(t, err, ports.ErrUnsupported)
		var ids []string
		rows, err := db.QueryContext(ctx, `UPDATE quotes SET cents = 2 RETURNING id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			require.NoError(t, rows.Scan(&id))
			ids = append(ids, id)
		}
		require.Equal(t, []string{"q-a"}, ids, "RETURNING reports this shop's rows")
		return rows.Err()
	}))
}
