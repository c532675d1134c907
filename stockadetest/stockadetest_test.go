package stockadetest_test

import (
	"context"
	"os"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/stockadetest"
)

func TestMain(m *testing.M) { os.Exit(stockadetest.Main(m)) }

// stores opens each store the kit offers.
var stores = map[string]func(testing.TB, ...stockadetest.Option) ports.Store{
	"sqlite":   func(t testing.TB, o ...stockadetest.Option) ports.Store { return stockadetest.SQLite(t, o...) },
	"postgres": func(t testing.TB, o ...stockadetest.Option) ports.Store { return stockadetest.Postgres(t, o...) },
}

// An app's schema: one tenant table, keyed on (shop_id, id).
var (
	notesSQLite = fstest.MapFS{"00001_notes.sql": {Data: []byte(`-- +goose Up
CREATE TABLE notes (
    shop_id TEXT NOT NULL REFERENCES shops (id),
    id      TEXT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (shop_id, id)
) STRICT;

-- +goose Down
DROP TABLE notes;
`)}}
	notesPostgres = fstest.MapFS{"00001_notes.sql": {Data: []byte(`-- +goose Up
CREATE TABLE notes (
    shop_id uuid NOT NULL REFERENCES shops (id),
    id      uuid NOT NULL,
    body    text NOT NULL,
    PRIMARY KEY (shop_id, id)
);
SELECT stockade_tenant_table('notes');

-- +goose Down
DROP TABLE notes;
`)}}
	notes = []stockadetest.Option{
		stockadetest.WithAppMigrations("notes", notesPostgres, notesSQLite),
		stockadetest.WithAppTables(ports.TenantTable{Name: "notes"}),
	}
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// placeholders returns n bind markers for the dialect: ?, ? or $1, $2.
func placeholders(dialect string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "?"
		if dialect == ports.DialectPostgres {
			out[i] = "$" + string(rune('1'+i))
		}
	}
	return out
}

func TestKit(t *testing.T) {
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			t.Run("NewShopHasAnOwner", func(t *testing.T) {
				store := open(t)
				ctx := context.Background()
				a, b := stockadetest.NewShop(t, store), stockadetest.NewShop(t, store)
				assert.NotEqual(t, a.ID, b.ID)
				sales := stockadetest.AddMember(t, store, a.ID, ports.RoleSales)
				require.NoError(t, store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
					shop, err := tx.Shops().Get(ctx, a.ID)
					require.NoError(t, err)
					assert.Equal(t, a.Org, shop.OrgID)
					assert.Equal(t, ports.ShopActive, shop.Status)
					_, err = tx.Users().Get(ctx, a.Owner)
					return err
				}, ports.ReadOnly()))
				require.NoError(t, store.InShop(ctx, a.ID, func(ctx context.Context, tx ports.ShopTx) error {
					members, err := tx.Memberships().List(ctx)
					require.NoError(t, err)
					got := map[ports.UserID]ports.Role{}
					for _, m := range members {
						got[m.UserID] = m.Role
					}
					assert.Equal(t, map[ports.UserID]ports.Role{a.Owner: ports.RoleOwner, sales: ports.RoleSales}, got)
					log, err := tx.Audit().List(ctx, ports.AuditQuery{})
					assert.Empty(t, log, "the kit seeds through repositories, which write no audit event")
					return err
				}, ports.ReadOnly()))
				require.NoError(t, store.InShop(ctx, b.ID, func(ctx context.Context, tx ports.ShopTx) error {
					m, err := tx.Memberships().Get(ctx, b.Owner)
					require.NoError(t, err)
					assert.Equal(t, ports.RoleOwner, m.Role)
					_, err = tx.Memberships().Get(ctx, sales)
					assert.ErrorIs(t, err, ports.ErrNotFound, "a member of A is not one of B")
					return nil
				}, ports.ReadOnly()))
			})

			t.Run("ClockStampsRows", func(t *testing.T) {
				at := time.Date(2031, 5, 6, 7, 8, 9, 123456000, time.UTC)
				store := open(t, stockadetest.WithClock(fixedClock{at}))
				s := stockadetest.NewShop(t, store)
				require.NoError(t, store.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
					shop, err := tx.Shops().Get(ctx, s.ID)
					require.NoError(t, err)
					assert.True(t, at.Equal(shop.CreatedAt), "created at %v, want %v", shop.CreatedAt, at)
					return nil
				}, ports.ReadOnly()))
			})

			t.Run("AppTablesAreMigratedAndWalled", func(t *testing.T) {
				store := open(t, notes...)
				ctx := context.Background()
				a, b := stockadetest.NewShop(t, store), stockadetest.NewShop(t, store)
				for _, shop := range []ports.ShopID{a.ID, b.ID} {
					require.NoError(t, store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
						p := placeholders(tx.SQL().Dialect(), 3)
						_, err := tx.SQL().ExecContext(ctx, `INSERT INTO notes (shop_id, id, body) VALUES (`+p[0]+`, `+p[1]+`, `+p[2]+`)`,
							shop.String(), ports.NewShopID().String(), "note of "+shop.String())
						return err
					}))
				}
				require.NoError(t, store.InShop(ctx, a.ID, func(ctx context.Context, tx ports.ShopTx) error {
					var bodies []string
					rows, err := tx.SQL().QueryContext(ctx, `SELECT body FROM notes`) // no WHERE: the wall keeps it to A
					require.NoError(t, err)
					defer rows.Close()
					for rows.Next() {
						var s string
						require.NoError(t, rows.Scan(&s))
						bodies = append(bodies, s)
					}
					require.NoError(t, rows.Err())
					assert.Equal(t, []string{"note of " + a.ID.String()}, bodies)
					return nil
				}, ports.ReadOnly()))
			})
		})
	}
}

// TestPostgresIsTheAppRole checks the Postgres store's own SQL runs as a
// role that is no superuser, bypasses no row-level security and owns none
// of the tables it reaches.
func TestPostgresIsTheAppRole(t *testing.T) {
	store := stockadetest.Postgres(t, notes...)
	s := stockadetest.NewShop(t, store)
	require.NoError(t, store.InShop(context.Background(), s.ID, func(ctx context.Context, tx ports.ShopTx) error {
		var super, bypass bool
		var owner, me string
		require.NoError(t, tx.SQL().QueryRowContext(ctx,
			`SELECT rolsuper, rolbypassrls, current_user FROM pg_roles WHERE rolname = current_user`).Scan(&super, &bypass, &me))
		require.NoError(t, tx.SQL().QueryRowContext(ctx,
			`SELECT tableowner FROM pg_tables WHERE tablename = 'notes'`).Scan(&owner))
		assert.False(t, super, "superuser")
		assert.False(t, bypass, "bypasses row-level security")
		assert.NotEqual(t, owner, me, "the app role owns the app's table")
		return nil
	}, ports.ReadOnly()))
}

// TestSQLiteWallNeedsTheTablesDeclared shows WithAppTables is what puts an
// app table behind the SQLite wall: undeclared, the shop-bound handle
// refuses it rather than letting it through unwalled.
func TestSQLiteWallNeedsTheTablesDeclared(t *testing.T) {
	store := stockadetest.SQLite(t, stockadetest.WithAppMigrations("notes", nil, notesSQLite))
	s := stockadetest.NewShop(t, store)
	err := store.InShop(context.Background(), s.ID, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.SQL().ExecContext(ctx, `SELECT count(*) FROM notes`)
		return err
	}, ports.ReadOnly())
	require.ErrorIs(t, err, ports.ErrUnsupported)
	assert.ErrorContains(t, err, "WithAppTables")
}
