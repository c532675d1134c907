package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
)

// quotesMigrations is an embedding app's schema: customers, and quotes
// whose foreign key to customers carries shop_id; both made tenant tables
// with the helper.
var quotesMigrations = fstest.MapFS{"00001_quotes.sql": &fstest.MapFile{Data: []byte(`-- +goose Up
CREATE TABLE customers (
    shop_id uuid NOT NULL REFERENCES shops (id),
    id      uuid NOT NULL,
    name    text NOT NULL,
    PRIMARY KEY (shop_id, id)
);
SELECT stockade_tenant_table('customers');
CREATE TABLE quotes (
    shop_id     uuid    NOT NULL REFERENCES shops (id),
    id          uuid    NOT NULL,
    customer_id uuid    NOT NULL,
    cents       integer NOT NULL,
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, customer_id) REFERENCES customers (shop_id, id)
);
SELECT stockade_tenant_table('quotes');

-- +goose Down
DROP TABLE quotes;
DROP TABLE customers;
`)}}

func pqCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// TestAppTableRLS attacks an app table made a tenant table by
// stockade_tenant_table, as the application role through ShopTx.SQL.
func TestAppTableRLS(t *testing.T) {
	pg := testinfra.StartPostgres(t)
	ctx := context.Background()
	_, err := postgres.Migrate(ctx, pg.OwnerURL)
	require.NoError(t, err)
	_, err = postgres.MigrateApp(ctx, pg.OwnerURL, "fieldservice", quotesMigrations)
	require.NoError(t, err)
	s, err := postgres.Open(ctx, pg.AppURL, postgres.WithAppTables(ports.TenantTable{Name: "customers"}, ports.TenantTable{Name: "quotes"}))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })

	a, b := seedShops(t, s)
	type ids struct{ customer, quote ports.ShopID } // uuids; ShopID is a convenient uuid wrapper
	made := map[ports.ShopID]ids{}
	for _, shop := range []ports.ShopID{a, b} {
		x := ids{customer: ports.NewShopID(), quote: ports.NewShopID()}
		made[shop] = x
		require.NoError(t, s.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
			if _, err := tx.SQL().ExecContext(ctx, `INSERT INTO customers (shop_id, id, name) VALUES ($1, $2, 'Ann')`, shop, x.customer); err != nil {
				return err
			}
			_, err := tx.SQL().ExecContext(ctx, `INSERT INTO quotes (shop_id, id, customer_id, cents) VALUES ($1, $2, $3, 100)`, shop, x.quote, x.customer)
			return err
		}))
	}

	attack := func(t *testing.T, fn func(ctx context.Context, q ports.TxSQL) error) error {
		t.Helper()
		return s.InShop(ctx, a, func(ctx context.Context, tx ports.ShopTx) error { return fn(ctx, tx.SQL()) })
	}

	t.Run("ForgottenWhereSeesOnlyTheShop", func(t *testing.T) {
		require.NoError(t, attack(t, func(ctx context.Context, q ports.TxSQL) error {
			var n int
			require.NoError(t, q.QueryRowContext(ctx, `SELECT count(*) FROM quotes`).Scan(&n))
			assert.Equal(t, 1, n)
			require.NoError(t, q.QueryRowContext(ctx, `SELECT count(*) FROM quotes WHERE shop_id = $1`, b).Scan(&n))
			assert.Zero(t, n, "naming the other shop finds nothing")
			return nil
		}))
	})
	t.Run("InsertNamingAnotherShopRefused", func(t *testing.T) {
		err := attack(t, func(ctx context.Context, q ports.TxSQL) error {
			_, err := q.ExecContext(ctx, `INSERT INTO customers (shop_id, id, name) VALUES ($1, $2, 'Eve')`, b, ports.NewShopID())
			return err
		})
		assert.Equal(t, "42501", pqCode(err), "row-level security refuses it: %v", err)
	})
	t.Run("MoveToAnotherShopRefused", func(t *testing.T) {
		err := attack(t, func(ctx context.Context, q ports.TxSQL) error {
			_, err := q.ExecContext(ctx, `UPDATE customers SET shop_id = $1`, b)
			return err
		})
		assert.Equal(t, "42501", pqCode(err), "%v", err)
	})
	t.Run("UpdateAndDeleteOfAnotherShopTouchNothing", func(t *testing.T) {
		require.NoError(t, attack(t, func(ctx context.Context, q ports.TxSQL) error {
			res, err := q.ExecContext(ctx, `UPDATE quotes SET cents = 1 WHERE id = $1`, made[b].quote)
			require.NoError(t, err)
			n, _ := res.RowsAffected()
			assert.Zero(t, n)
			res, err = q.ExecContext(ctx, `DELETE FROM quotes WHERE shop_id = $1`, b)
			require.NoError(t, err)
			n, _ = res.RowsAffected()
			assert.Zero(t, n)
			return nil
		}))
		require.NoError(t, s.InShop(ctx, b, func(ctx context.Context, tx ports.ShopTx) error {
			var cents int
			require.NoError(t, tx.SQL().QueryRowContext(ctx, `SELECT cents FROM quotes WHERE id = $1`, made[b].quote).Scan(&cents))
			assert.Equal(t, 100, cents, "shop b's quote is untouched")
			return nil
		}))
	})
	t.Run("QuoteCannotPointAtAnotherShopsCustomer", func(t *testing.T) {
		err := attack(t, func(ctx context.Context, q ports.TxSQL) error {
			_, err := q.ExecContext(ctx, `INSERT INTO quotes (shop_id, id, customer_id, cents) VALUES ($1, $2, $3, 5)`, a, ports.NewShopID(), made[b].customer)
			return err
		})
		assert.Equal(t, "23503", pqCode(err), "the composite foreign key refuses it: %v", err)
		err = attack(t, func(ctx context.Context, q ports.TxSQL) error {
			_, err := q.ExecContext(ctx, `UPDATE quotes SET customer_id = $1`, made[b].customer)
			return err
		})
		assert.Equal(t, "23503", pqCode(err), "%v", err)
	})
	t.Run("NoTenantSetSeesNothing", func(t *testing.T) {
		app := sqlx.MustConnect("pgx", pg.AppURL)
		defer app.Close()
		var n int
		require.NoError(t, app.Get(&n, `SELECT count(*) FROM quotes`))
		assert.Zero(t, n)
	})
	t.Run("AppRoleCannotCallTheHelper", func(t *testing.T) {
		app := sqlx.MustConnect("pgx", pg.AppURL)
		defer app.Close()
		_, err := app.Exec(`SELECT stockade_tenant_table('quotes')`)
		assert.Equal(t, "42501", pqCode(err), "%v", err)
	})
	t.Run("CatalogCoversAppTables", func(t *testing.T) {
		assert.Empty(t, catalogViolations(t, pg.AppURL))
		owner := sqlx.MustConnect("pgx", pg.OwnerURL)
		defer owner.Close()
		owner.MustExec(`CREATE TABLE invoices (shop_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (shop_id, id))`)
		invoices := fmt.Sprint(problemsOf(catalogViolations(t, pg.AppURL), "table public.invoices"))
		for _, want := range []string{"row-level security is not enabled", "row-level security is not forced", "has no tenant policy"} {
			assert.Contains(t, invoices, want, "an app table without the helper is caught (enable=false force=false policies with USING+CHECK=0)")
		}
	})
	t.Run("HelperRefusesTablesWithoutShopKey", func(t *testing.T) {
		owner := sqlx.MustConnect("pgx", pg.OwnerURL)
		defer owner.Close()
		owner.MustExec(`CREATE TABLE no_shop (id uuid PRIMARY KEY)`)
		owner.MustExec(`CREATE TABLE loose_key (shop_id uuid NOT NULL, id uuid PRIMARY KEY)`)
		owner.MustExec(`CREATE TABLE nullable_shop (shop_id uuid, id uuid, UNIQUE (shop_id, id))`)
		for _, tbl := range []string{"no_shop", "loose_key", "nullable_shop"} {
			_, err := owner.Exec(`SELECT stockade_tenant_table($1)`, tbl)
			assert.Equal(t, "42P16", pqCode(err), "%s: %v", tbl, err)
		}
	})
}

// seedShops creates one org with two shops.
func seedShops(t *testing.T, s *postgres.Store) (ports.ShopID, ports.ShopID) {
	t.Helper()
	var shops [2]ports.ShopID
	require.NoError(t, s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		org, err := tx.Orgs().Create(ctx, ports.Org{ID: ports.NewOrgID(), Name: "Acme"})
		if err != nil {
			return err
		}
		for i, slug := range []string{"north", "south"} {
			sh, err := tx.Shops().Create(ctx, ports.Shop{ID: ports.NewShopID(), OrgID: org.ID, Slug: slug, Name: slug, Status: ports.ShopActive})
			if err != nil {
				return err
			}
			shops[i] = sh.ID
		}
		return nil
	}))
	return shops[0], shops[1]
}

// TestOpenRefusesAppTableWithoutTheWall: a declared app table the owner did
// not pass to stockade_tenant_table stops Open.
func TestOpenRefusesAppTableWithoutTheWall(t *testing.T) {
	pg := testinfra.StartPostgres(t)
	ctx := context.Background()
	_, err := postgres.Migrate(ctx, pg.OwnerURL)
	require.NoError(t, err)
	owner := sqlx.MustConnect("pgx", pg.OwnerURL)
	defer owner.Close()
	owner.MustExec(`CREATE TABLE plain (shop_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (shop_id, id))`)
	for _, name := range []string{"plain", "missing"} {
		_, err = postgres.Open(ctx, pg.AppURL, postgres.WithAppTables(ports.TenantTable{Name: name}))
		require.ErrorIs(t, err, ports.ErrInvalid, name)
	}
	_, err = postgres.Open(ctx, pg.AppURL, postgres.WithAppTables(ports.TenantTable{Name: "Bad;Name"}))
	require.ErrorIs(t, err, ports.ErrInvalid)
	owner.MustExec(`SELECT stockade_tenant_table('plain')`)
	s, err := postgres.Open(ctx, pg.AppURL, postgres.WithAppTables(ports.TenantTable{Name: "plain"}))
	require.NoError(t, err)
	require.NoError(t, s.Close())
}
