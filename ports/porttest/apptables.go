package porttest

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// The app tables porttest ships for TestAppTables (AppTablesMigrations).
const (
	// AppCustomersTable is porttest's parent app table.
	AppCustomersTable = "porttest_customers"
	// AppQuotesTable is porttest's child app table: a quote points at a
	// customer of its own shop.
	AppQuotesTable = "porttest_quotes"
)

// AppTablesMigrations returns an app migration directory for dialect
// (ports.DialectPostgres or ports.DialectSQLite) that creates
// porttest_customers (shop_id, id, name) and porttest_quotes (shop_id, id,
// customer_id, cents), both keyed on (shop_id, id), the quote's foreign key
// (shop_id, customer_id) referencing the customer's (shop_id, id), and, on
// Postgres, both made tenant tables with stockade_tenant_table. Declare
// both to the store (the adapters' WithAppTables); AppTablesSchema
// describes them to TestAppTables.
func AppTablesMigrations(dialect string) fs.FS {
	id, text, integer, helper := "TEXT", "TEXT", "INTEGER", ""
	if dialect == ports.DialectPostgres {
		id, text, integer = "uuid", "text", "integer"
		helper = "SELECT stockade_tenant_table('" + AppCustomersTable + "');\nSELECT stockade_tenant_table('" + AppQuotesTable + "');\n"
	}
	up := fmt.Sprintf(`CREATE TABLE %[1]s (
    shop_id %[3]s NOT NULL REFERENCES shops (id),
    id      %[3]s NOT NULL,
    name    %[4]s NOT NULL,
    PRIMARY KEY (shop_id, id)
);
CREATE TABLE %[2]s (
    shop_id     %[3]s NOT NULL REFERENCES shops (id),
    id          %[3]s NOT NULL,
    customer_id %[3]s NOT NULL,
    cents       %[5]s NOT NULL,
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, customer_id) REFERENCES %[1]s (shop_id, id)
);
%[6]s`, AppCustomersTable, AppQuotesTable, id, text, integer, helper)
	down := "DROP TABLE " + AppQuotesTable + ";\nDROP TABLE " + AppCustomersTable + ";"
	return fstest.MapFS{"00001_customers_quotes.sql": &fstest.MapFile{
		Data: []byte("-- +goose Up\n" + up + "\n-- +goose Down\n" + down + "\n"),
	}}
}

// AppTable describes one of the embedding app's tenant tables to
// TestAppTables: it has shop_id and id columns and is keyed on
// (shop_id, id). IDs the suite writes are UUID strings, so id may be a
// uuid or a text column.
type AppTable struct {
	// Name is the table's unquoted name (ports.TenantTable's rules).
	Name string
	// Values gives, by unquoted column name, a value for each other
	// column a row needs (NOT NULL without a default); the suite writes
	// them into every row it inserts.
	Values map[string]any
}

// AppSchema names the two app tables TestAppTables attacks: Parent, and
// Child, whose foreign key (shop_id, Ref) references Parent's
// (shop_id, id), the way DESIGN.md keys app tables.
type AppSchema struct {
	Parent AppTable
	Child  AppTable
	// Ref is Child's column naming its parent row.
	Ref string
}

// AppTablesSchema describes the tables of AppTablesMigrations.
func AppTablesSchema() AppSchema {
	return AppSchema{
		Parent: AppTable{Name: AppCustomersTable, Values: map[string]any{"name": "Customer"}},
		Child:  AppTable{Name: AppQuotesTable, Values: map[string]any{"cents": 100}},
		Ref:    "customer_id",
	}
}

// check fails the test unless every name is a plain lowercase SQL
// identifier, safe to splice into the suite's statements.
func (sc AppSchema) check(t *testing.T) {
	t.Helper()
	names := []string{sc.Parent.Name, sc.Child.Name, sc.Ref}
	for _, tbl := range []AppTable{sc.Parent, sc.Child} {
		for col := range tbl.Values {
			names = append(names, col)
		}
	}
	for _, n := range names {
		require.NoError(t, ports.TenantTable{Name: n}.Validate(), "porttest: AppSchema name %q", n)
	}
	require.NotEqual(t, sc.Parent.Name, sc.Child.Name, "porttest: AppSchema needs two tables")
}

// AppTablesHarness is what TestAppTables runs against.
type AppTablesHarness struct {
	// New returns a fresh store (its own database) as the embedding app
	// would open it: the app's migrations created Schema's tables and
	// made them tenant tables (Postgres: SELECT stockade_tenant_table in
	// the migration; SQLite: the tables declared with WithAppTables), and
	// on Postgres the store connects as the application role. The suite
	// calls it once and shares the store between its attacks.
	New StoreHarness
	// Schema describes the tables; the zero value is AppTablesSchema.
	Schema AppSchema
	// Features are the store's optional parts (AppSQL,
	// AppSQLRowsAffected), as declared for StoreSuite.
	Features Features
}

// TestAppTables attacks the embedding app's tenant tables through
// ShopTx.SQL as a careless or hostile app would, from shop A's unit of
// work against shop B's rows: a query that forgets WHERE shop_id sees only
// A's rows; reads by B's IDs find nothing; an INSERT naming B is refused;
// an UPDATE or DELETE of B's rows touches nothing (or is refused); moving
// a row to B (UPDATE shop_id) is refused; a child row pointing at B's
// parent is refused by the database. Every attack is checked from B's
// side too. Without Features.AppSQL it checks instead that ShopTx.SQL
// refuses statements with ports.ErrUnsupported.
func TestAppTables(t *testing.T, h AppTablesHarness) {
	require.NotNil(t, h.New, "porttest: AppTablesHarness.New is nil")
	h.Features.check(t)
	if h.Schema.Parent.Name == "" {
		h.Schema = AppTablesSchema()
	}
	h.Schema.check(t)
	st := h.New(t)
	f := seed(t, st, 2, 0)
	w := &appWorld{s: st, sc: h.Schema, f: h.Features, a: f.shops[0].ID, b: f.shops[1].ID}
	if !h.Features.AppSQL {
		t.Run("Unsupported", func(t *testing.T) {
			inShop(t, st, w.a, func(ctx context.Context, tx ports.ShopTx) error {
				requireAppSQLUnsupported(ctx, t, tx.SQL(), "SELECT id FROM "+w.sc.Parent.Name)
				return nil
			})
		})
		return
	}

	t.Run("ForgottenWhereSeesOnlyThisShop", func(t *testing.T) {
		a, b := w.rows(t)
		for _, opts := range [][]ports.TxOption{nil, {ports.ReadOnly()}} {
			w.in(t, w.a, func(ctx context.Context, db ports.TxSQL) {
				for _, tbl := range []string{w.sc.Parent.Name, w.sc.Child.Name} {
					got := w.pairs(ctx, t, db, "SELECT shop_id, id FROM "+tbl)
					assert.Contains(t, got, [2]string{w.a.String(), a.id(tbl, w)}, "shop A reads its own %s", tbl)
					for _, p := range got {
						assert.Equal(t, w.a.String(), p[0], "forgotten WHERE: shop A's unit of work read row %s of shop %s from %s (read-only=%v)", p[1], p[0], tbl, opts != nil)
					}
				}
				got := w.ids(ctx, t, db, "SELECT c.id FROM "+w.sc.Child.Name+" c JOIN "+w.sc.Parent.Name+" p ON p.id = c."+w.sc.Ref)
				assert.Contains(t, got, a.child)
				assert.NotContains(t, got, b.child, "forgotten WHERE: a join on id alone brought shop B's %s into shop A (read-only=%v)", w.sc.Child.Name, opts != nil)
			}, opts...)
		}
	})

	t.Run("ReadsByIDOfAnotherShopFindNothing", func(t *testing.T) {
		a, b := w.rows(t)
		for _, opts := range [][]ports.TxOption{nil, {ports.ReadOnly()}} {
			w.in(t, w.a, func(ctx context.Context, db ports.TxSQL) {
				for _, r := range []struct{ tbl, mine, theirs string }{
					{w.sc.Parent.Name, a.parent, b.parent},
					{w.sc.Child.Name, a.child, b.child},
				} {
					assert.Equal(t, []string{r.mine}, w.ids(ctx, t, db, "SELECT id FROM "+r.tbl+" WHERE id = ?", r.mine), "shop A reads its own %s by ID", r.tbl)
					assert.Empty(t, w.ids(ctx, t, db, "SELECT id FROM "+r.tbl+" WHERE id = ?", r.theirs),
						"read by ID: shop A's unit of work found shop B's %s %s (read-only=%v)", r.tbl, r.theirs, opts != nil)
					assert.Empty(t, w.ids(ctx, t, db, "SELECT id FROM "+r.tbl+" WHERE shop_id = ? AND id = ?", w.b.String(), r.theirs),
						"read by ID naming shop B: shop A's unit of work found shop B's %s %s (read-only=%v)", r.tbl, r.theirs, opts != nil)
				}
			}, opts...)
		}
	})

	t.Run("InsertNamingAnotherShopRefused", func(t *testing.T) {
		_, b := w.rows(t)
		parent, child := uuid.NewString(), uuid.NewString()
		err := w.attack(t, func(ctx context.Context, db ports.TxSQL) error {
			return w.insert(ctx, db, w.sc.Parent, w.b, parent, nil)
		})
		assert.Error(t, err, "insert naming another shop: shop A's unit of work wrote a %s into shop B", w.sc.Parent.Name)
		err = w.attack(t, func(ctx context.Context, db ports.TxSQL) error {
			return w.insert(ctx, db, w.sc.Child, w.b, child, map[string]any{w.sc.Ref: b.parent})
		})
		assert.Error(t, err, "insert naming another shop: shop A's unit of work wrote a %s into shop B", w.sc.Child.Name)
		w.requireAbsent(t, w.b, w.sc.Parent.Name, parent, "insert naming another shop: the row shop A wrote is in shop B")
		w.requireAbsent(t, w.b, w.sc.Child.Name, child, "insert naming another shop: the row shop A wrote is in shop B")
	})

	t.Run("UpdateOfAnotherShopsRowsTouchesNothing", func(t *testing.T) {
		_, b := w.rows(t)
		for _, q := range []struct {
			tbl, id, sql string
			args         []any
		}{
			{w.sc.Child.Name, b.child, "UPDATE " + w.sc.Child.Name + " SET id = ? WHERE id = ?", []any{uuid.NewString(), b.child}},
			{w.sc.Child.Name, b.child, "UPDATE " + w.sc.Child.Name + " SET id = ? WHERE shop_id = ? AND id = ?", []any{uuid.NewString(), w.b.String(), b.child}},
			{w.sc.Parent.Name, b.lonely, "UPDATE " + w.sc.Parent.Name + " SET id = ? WHERE id = ?", []any{uuid.NewString(), b.lonely}},
			{w.sc.Parent.Name, b.lonely, "UPDATE " + w.sc.Parent.Name + " SET id = ? WHERE shop_id = ? AND id = ?", []any{uuid.NewString(), w.b.String(), b.lonely}},
		} {
			w.touchesNothing(t, q.sql, q.args...)
			w.requirePresent(t, w.b, q.tbl, q.id, "update of another shop's row: shop A's unit of work changed the ID of shop B's row ("+q.sql+")")
		}
	})

	t.Run("DeleteOfAnotherShopsRowsTouchesNothing", func(t *testing.T) {
		_, b := w.rows(t)
		for _, q := range []struct {
			tbl, id, sql string
			args         []any
		}{
			{w.sc.Child.Name, b.child, "DELETE FROM " + w.sc.Child.Name + " WHERE id = ?", []any{b.child}},
			{w.sc.Child.Name, b.child, "DELETE FROM " + w.sc.Child.Name + " WHERE shop_id = ?", []any{w.b.String()}},
			{w.sc.Parent.Name, b.lonely, "DELETE FROM " + w.sc.Parent.Name + " WHERE id = ?", []any{b.lonely}},
			{w.sc.Parent.Name, b.lonely, "DELETE FROM " + w.sc.Parent.Name + " WHERE shop_id = ? AND id = ?", []any{w.b.String(), b.lonely}},
		} {
			w.touchesNothing(t, q.sql, q.args...)
			w.requirePresent(t, w.b, q.tbl, q.id, "delete of another shop's row: shop A's unit of work deleted shop B's row ("+q.sql+")")
		}
		// A forgotten WHERE empties shop A's tables only.
		w.in(t, w.a, func(ctx context.Context, db ports.TxSQL) {
			_, err := db.ExecContext(ctx, "DELETE FROM "+w.sc.Child.Name)
			require.NoError(t, err, "shop A deletes its own rows")
			_, err = db.ExecContext(ctx, "DELETE FROM "+w.sc.Parent.Name)
			require.NoError(t, err, "shop A deletes its own rows")
		})
		for _, r := range [][2]string{{w.sc.Child.Name, b.child}, {w.sc.Parent.Name, b.parent}, {w.sc.Parent.Name, b.lonely}} {
			w.requirePresent(t, w.b, r[0], r[1], "forgotten WHERE: shop A's DELETE without WHERE deleted shop B's row")
		}
	})

	t.Run("MoveToAnotherShopRefused", func(t *testing.T) {
		a, b := w.rows(t)
		for _, q := range []struct {
			tbl, id, sql string
			args         []any
		}{
			{w.sc.Parent.Name, a.lonely, "UPDATE " + w.sc.Parent.Name + " SET shop_id = ? WHERE id = ?", []any{w.b.String(), a.lonely}},
			{w.sc.Child.Name, a.child, "UPDATE " + w.sc.Child.Name + " SET shop_id = ?, " + w.sc.Ref + " = ? WHERE id = ?", []any{w.b.String(), b.parent, a.child}},
			{w.sc.Parent.Name, a.lonely, "UPDATE " + w.sc.Parent.Name + " SET shop_id = ?", []any{w.b.String()}},
		} {
			err := w.attack(t, func(ctx context.Context, db ports.TxSQL) error {
				_, err := db.ExecContext(ctx, bind(db, q.sql), q.args...)
				return err
			})
			assert.Error(t, err, "move to another shop: shop A's unit of work moved its %s %s to shop B (%s)", q.tbl, q.id, q.sql)
			w.requirePresent(t, w.a, q.tbl, q.id, "move to another shop: shop A's row left shop A ("+q.sql+")")
			w.requireAbsent(t, w.b, q.tbl, q.id, "move to another shop: shop A's row arrived in shop B ("+q.sql+")")
		}
	})

	t.Run("ForeignKeyToAnotherShopsRowRefused", func(t *testing.T) {
		a, b := w.rows(t)
		child := uuid.NewString()
		err := w.attack(t, func(ctx context.Context, db ports.TxSQL) error {
			return w.insert(ctx, db, w.sc.Child, w.a, child, map[string]any{w.sc.Ref: b.parent})
		})
		assert.Error(t, err, "foreign key across shops: shop A's %s points at shop B's %s", w.sc.Child.Name, w.sc.Parent.Name)
		w.requireAbsent(t, w.a, w.sc.Child.Name, child, "foreign key across shops: the row pointing at shop B's parent was written")
		err = w.attack(t, func(ctx context.Context, db ports.TxSQL) error {
			_, err := db.ExecContext(ctx, bind(db, "UPDATE "+w.sc.Child.Name+" SET "+w.sc.Ref+" = ? WHERE id = ?"), b.parent, a.child)
			return err
		})
		assert.Error(t, err, "foreign key across shops: shop A's %s was re-pointed at shop B's %s", w.sc.Child.Name, w.sc.Parent.Name)
		w.in(t, w.a, func(ctx context.Context, db ports.TxSQL) {
			assert.Equal(t, []string{a.parent}, w.ids(ctx, t, db, "SELECT "+w.sc.Ref+" FROM "+w.sc.Child.Name+" WHERE id = ?", a.child),
				"foreign key across shops: shop A's row now points at shop B's parent")
		}, ports.ReadOnly())
	})
}

// appWorld is TestAppTables' store with two shops.
type appWorld struct {
	s    ports.Store
	sc   AppSchema
	f    Features
	a, b ports.ShopID
}

// appRows are the rows the suite wrote into one shop for one attack: a
// parent, a child pointing at it, and a parent nothing points at.
type appRows struct{ parent, child, lonely string }

// id returns the row's ID in tbl: the parent's or the child's.
func (r appRows) id(tbl string, w *appWorld) string {
	if tbl == w.sc.Child.Name {
		return r.child
	}
	return r.parent
}

// rows writes fresh rows into shop A and shop B, each through its own
// shop's unit of work, the way the app would.
func (w *appWorld) rows(t *testing.T) (a, b appRows) {
	t.Helper()
	write := func(shop ports.ShopID) appRows {
		r := appRows{parent: uuid.NewString(), child: uuid.NewString(), lonely: uuid.NewString()}
		inShop(t, w.s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			db := tx.SQL()
			if err := w.insert(ctx, db, w.sc.Parent, shop, r.parent, nil); err != nil {
				return fmt.Errorf("shop writes its own %s: %w", w.sc.Parent.Name, err)
			}
			if err := w.insert(ctx, db, w.sc.Parent, shop, r.lonely, nil); err != nil {
				return fmt.Errorf("shop writes its own %s: %w", w.sc.Parent.Name, err)
			}
			if err := w.insert(ctx, db, w.sc.Child, shop, r.child, map[string]any{w.sc.Ref: r.parent}); err != nil {
				return fmt.Errorf("shop writes its own %s: %w", w.sc.Child.Name, err)
			}
			return nil
		})
		return r
	}
	return write(w.a), write(w.b)
}

// insert writes one row of tbl naming shop, with tbl.Values and extra.
func (w *appWorld) insert(ctx context.Context, db ports.TxSQL, tbl AppTable, shop ports.ShopID, id string, extra map[string]any) error {
	cols, args := []string{"shop_id", "id"}, []any{shop.String(), id}
	for _, m := range []map[string]any{tbl.Values, extra} {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			cols, args = append(cols, k), append(args, m[k])
		}
	}
	q := "INSERT INTO " + tbl.Name + " (" + strings.Join(cols, ", ") + ") VALUES (?" + strings.Repeat(", ?", len(cols)-1) + ")"
	_, err := db.ExecContext(ctx, bind(db, q), args...)
	return err
}

// in runs fn in shop's unit of work, which must commit.
func (w *appWorld) in(t *testing.T, shop ports.ShopID, fn func(ctx context.Context, db ports.TxSQL), opts ...ports.TxOption) {
	t.Helper()
	inShop(t, w.s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		fn(ctx, tx.SQL())
		return nil
	}, opts...)
}

// attack runs fn in shop A's unit of work and returns what InShop
// returned: fn's error, or the commit's.
func (w *appWorld) attack(t *testing.T, fn func(ctx context.Context, db ports.TxSQL) error) error {
	t.Helper()
	return w.s.InShop(context.Background(), w.a, func(ctx context.Context, tx ports.ShopTx) error {
		return fn(ctx, tx.SQL())
	})
}

// touchesNothing runs a write aimed at shop B's rows in shop A's unit of
// work and commits whatever it did. Refusing it is fine; when it runs,
// RowsAffected must say it touched nothing (or be ports.ErrUnsupported,
// as declared). The caller checks shop B's rows.
func (w *appWorld) touchesNothing(t *testing.T, query string, args ...any) {
	t.Helper()
	_ = w.s.InShop(context.Background(), w.a, func(ctx context.Context, tx ports.ShopTx) error {
		db := tx.SQL()
		res, err := db.ExecContext(ctx, bind(db, query), args...)
		if err != nil {
			return nil // refused: commit what is left, which is nothing
		}
		requireRowsAffected(t, w.f, res, 0, "a write aimed at another shop's rows ("+query+")")
		return nil
	})
}

// requirePresent checks, from shop's own unit of work, that tbl holds the
// row id.
func (w *appWorld) requirePresent(t *testing.T, shop ports.ShopID, tbl, id, msg string) {
	t.Helper()
	w.in(t, shop, func(ctx context.Context, db ports.TxSQL) {
		assert.Equal(t, []string{id}, w.ids(ctx, t, db, "SELECT id FROM "+tbl+" WHERE id = ?", id), msg)
	}, ports.ReadOnly())
}

// requireAbsent checks, from shop's own unit of work, that tbl holds no
// row id.
func (w *appWorld) requireAbsent(t *testing.T, shop ports.ShopID, tbl, id, msg string) {
	t.Helper()
	w.in(t, shop, func(ctx context.Context, db ports.TxSQL) {
		assert.Empty(t, w.ids(ctx, t, db, "SELECT id FROM "+tbl+" WHERE id = ?", id), msg)
	}, ports.ReadOnly())
}

// ids runs query (? placeholders) and returns its single text column.
func (w *appWorld) ids(ctx context.Context, t *testing.T, db ports.TxSQL, query string, args ...any) []string {
	t.Helper()
	var out []string
	w.query(ctx, t, db, query, args, func(rows *sql.Rows) error {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	return out
}

// pairs runs query and returns its two text columns.
func (w *appWorld) pairs(ctx context.Context, t *testing.T, db ports.TxSQL, query string, args ...any) [][2]string {
	t.Helper()
	var out [][2]string
	w.query(ctx, t, db, query, args, func(rows *sql.Rows) error {
		var p [2]string
		if err := rows.Scan(&p[0], &p[1]); err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	return out
}

func (w *appWorld) query(ctx context.Context, t *testing.T, db ports.TxSQL, query string, args []any, scan func(*sql.Rows) error) {
	t.Helper()
	rows, err := db.QueryContext(ctx, bind(db, query), args...)
	require.NoError(t, err, query)
	defer rows.Close()
	for rows.Next() {
		require.NoError(t, scan(rows), query)
	}
	require.NoError(t, rows.Err(), query)
}
