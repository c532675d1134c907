package main

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/capability"
	"github.com/stockadehq/stockade/examples/fieldservice/quoting"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/stockadetest"
)

func TestMain(m *testing.M) { os.Exit(stockadetest.Main(m)) }

// stores opens the example's store, each with the app's migrations applied
// after Stockade's and its tables declared, through the public test kit:
// SQLite in a temporary file, and a throwaway Postgres database migrated as
// its owner and opened as the application role (which bypasses no
// row-level security), as in production. Without PostgreSQL installed the
// postgres half skips, or fails when STOCKADE_REQUIRE_INTEGRATION=1.
var stores = map[string]func(t *testing.T) ports.Store{
	"sqlite":   func(t *testing.T) ports.Store { return stockadetest.SQLite(t, kitOptions(t)...) },
	"postgres": func(t *testing.T) ports.Store { return stockadetest.Postgres(t, kitOptions(t)...) },
}

// kitOptions are the app's schema for the test kit: its migrations for each
// store and its tenant tables.
func kitOptions(t *testing.T) []stockadetest.Option {
	t.Helper()
	pg, err := quoting.Migrations(ports.DialectPostgres)
	require.NoError(t, err)
	lite, err := quoting.Migrations(ports.DialectSQLite)
	require.NoError(t, err)
	return []stockadetest.Option{stockadetest.WithAppMigrations(quoting.SchemaName, pg, lite), stockadetest.WithAppTables(quoting.Tables()...)}
}

// world is two shops, each with its Owner and a salesperson, made by the
// test kit.
type world struct {
	Bobs, Alices stockadetest.Shop
	Dana, Erin   ports.UserID // Dana sells for Bob's, Erin for Alice's
}

// as returns ctx acting as user, a Sales member of shop, as the HTTP layer
// would build it from the session.
func as(ctx context.Context, shop stockadetest.Shop, user ports.UserID) context.Context {
	return access.With(ctx, access.Scope{Shop: shop.ID, Org: shop.Org, User: user, Role: ports.RoleSales})
}

// fixture is a seeded world with a customer and a quote in each shop.
type fixture struct {
	app          App
	w            world
	custA, custB quoting.Customer
	quoteA       quoting.Quote
	quoteB       quoting.Quote
}

func setUp(t *testing.T, store ports.Store) fixture {
	t.Helper()
	ctx := context.Background()
	a, err := NewApp(store)
	require.NoError(t, err)
	w := world{Bobs: stockadetest.NewShop(t, store), Alices: stockadetest.NewShop(t, store)}
	w.Dana = stockadetest.AddMember(t, store, w.Bobs.ID, ports.RoleSales)
	w.Erin = stockadetest.AddMember(t, store, w.Alices.ID, ports.RoleSales)
	f := fixture{app: a, w: w}
	asA, asB := as(ctx, w.Bobs, w.Dana), as(ctx, w.Alices, w.Erin)
	f.custA, err = a.Quotes.AddCustomer(asA, "Mrs. Patel")
	require.NoError(t, err)
	f.custB, err = a.Quotes.AddCustomer(asB, "Mr. Okafor")
	require.NoError(t, err)
	f.quoteA, err = a.Quotes.Create(asA, quoting.NewQuote{CustomerID: f.custA.ID, Title: "Water heater", Cents: 189900})
	require.NoError(t, err)
	f.quoteB, err = a.Quotes.Create(asB, quoting.NewQuote{CustomerID: f.custB.ID, Title: "Heat pump", Cents: 650000})
	require.NoError(t, err)
	return f
}

// rawQuotes reads shop's quotes table through the owner of its own unit
// of work, as id → cents and shop_id, to check attacks from outside.
func rawQuotes(t *testing.T, store ports.Store, shop ports.ShopID) map[string][2]any {
	t.Helper()
	got := map[string][2]any{}
	err := store.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		rows, err := tx.SQL().QueryContext(ctx, quoting.Rebind(tx.SQL().Dialect(), `SELECT id, shop_id, cents FROM quotes WHERE shop_id = ?`), shop.String())
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, sh string
			var cents int64
			if err := rows.Scan(&id, &sh, &cents); err != nil {
				return err
			}
			got[id] = [2]any{sh, cents}
		}
		return rows.Err()
	}, ports.ReadOnly())
	require.NoError(t, err)
	return got
}

func auditActions(t *testing.T, store ports.Store, shop ports.ShopID) []string {
	t.Helper()
	var out []string
	err := store.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		log, err := tx.Audit().List(ctx, ports.AuditQuery{})
		for _, e := range log {
			out = append(out, e.Action+" "+e.Target)
		}
		return err
	}, ports.ReadOnly())
	require.NoError(t, err)
	return out
}

// inB runs stmt (with ? placeholders) through shop B's (Alice's) handle
// and returns the statement's error and the IDs it returned, if any.
func inB(f fixture, stmt string, args ...any) ([]string, error) {
	var ids []string
	err := f.app.Store.InShop(context.Background(), f.w.Alices.ID, func(ctx context.Context, tx ports.ShopTx) error {
		rows, err := tx.SQL().QueryContext(ctx, quoting.Rebind(tx.SQL().Dialect(), stmt), args...)
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
	})
	return ids, err
}

func TestFieldService(t *testing.T) {
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testFlow(t, open)
		})
	}
}

func testFlow(t *testing.T, open func(t *testing.T) ports.Store) {
	ctx := context.Background()

	t.Run("QuoteCommitsWithItsAuditEvent", func(t *testing.T) {
		store := open(t)
		f := setUp(t, store)
		assert.Equal(t, map[string][2]any{f.quoteA.ID: {f.w.Bobs.ID.String(), int64(189900)}}, rawQuotes(t, store, f.w.Bobs.ID))
		assert.Equal(t, []string{"customer.created customer:" + f.custA.ID, "quote.created quote:" + f.quoteA.ID},
			auditActions(t, store, f.w.Bobs.ID))
		got, err := f.app.Quotes.Get(as(ctx, f.w.Bobs, f.w.Dana), f.quoteA.ID)
		require.NoError(t, err)
		assert.Equal(t, f.quoteA, got)
	})

	t.Run("FailedAuditAppendLeavesNoQuote", func(t *testing.T) {
		store := open(t)
		f := setUp(t, store)
		policy, err := quoting.Policy()
		require.NoError(t, err)
		broken, err := quoting.NewQuotes(auditDown{store}, policy, nil)
		require.NoError(t, err)
		_, err = broken.Create(as(ctx, f.w.Bobs, f.w.Dana), quoting.NewQuote{CustomerID: f.custA.ID, Title: "Never", Cents: 1})
		require.ErrorIs(t, err, errAuditDown)
		assert.Len(t, rawQuotes(t, store, f.w.Bobs.ID), 1, "only the setUp quote: the failed one rolled back")
		assert.Len(t, auditActions(t, store, f.w.Bobs.ID), 2)
	})

	t.Run("PermissionIsTheAppsOwn", func(t *testing.T) {
		store := open(t)
		f := setUp(t, store)
		viewer := access.With(ctx, access.Scope{Shop: f.w.Bobs.ID, Org: f.w.Bobs.Org, User: f.w.Dana, Role: ports.RoleViewer})
		_, err := f.app.Quotes.Create(viewer, quoting.NewQuote{CustomerID: f.custA.ID, Title: "Nope", Cents: 1})
		require.ErrorIs(t, err, ports.ErrForbidden)
		_, err = f.app.Quotes.Get(viewer, f.quoteA.ID)
		require.NoError(t, err, "every role reads quotes")
		assert.Len(t, rawQuotes(t, store, f.w.Bobs.ID), 1)
	})

	t.Run("ShopBsHandleCannotReachShopAsQuotes", func(t *testing.T) {
		store := open(t)
		f := setUp(t, store)
		a := f.w.Bobs.ID.String()
		before := rawQuotes(t, store, f.w.Bobs.ID)

		// Read: no WHERE at all, then naming A's shop and quote.
		ids, err := inB(f, `SELECT id FROM quotes`)
		require.NoError(t, err)
		assert.Equal(t, []string{f.quoteB.ID}, ids, "a query that forgets WHERE shop_id sees B's rows only")
		ids, err = inB(f, `SELECT id FROM quotes WHERE shop_id = ? OR id = ?`, a, f.quoteA.ID)
		require.NoError(t, err)
		assert.Empty(t, ids)

		// Insert a row naming A (with A's customer, so only the wall stands).
		_, err = inB(f, `INSERT INTO quotes (shop_id, id, customer_id, title, cents) VALUES (?, ?, ?, 'planted', 1) RETURNING id`,
			a, uuid.NewString(), f.custA.ID)
		refusedByWall(t, store, err)

		// Update and delete A's quote by ID.
		ids, err = inB(f, `UPDATE quotes SET cents = 1 WHERE id = ? RETURNING id`, f.quoteA.ID)
		require.NoError(t, err)
		assert.Empty(t, ids, "A's quote is not B's to change")
		ids, err = inB(f, `DELETE FROM quotes WHERE id = ? RETURNING id`, f.quoteA.ID)
		require.NoError(t, err)
		assert.Empty(t, ids, "A's quote is not B's to change")

		// Move B's quote into A (onto A's customer, so the foreign key
		// would allow it and only the wall refuses).
		_, err = inB(f, `UPDATE quotes SET shop_id = ?, customer_id = ? WHERE id = ? RETURNING id`, a, f.custA.ID, f.quoteB.ID)
		refusedByWall(t, store, err)

		assert.Equal(t, before, rawQuotes(t, store, f.w.Bobs.ID), "A's quotes are untouched")
		assert.Equal(t, map[string][2]any{f.quoteB.ID: {f.w.Alices.ID.String(), int64(650000)}}, rawQuotes(t, store, f.w.Alices.ID))
	})

	t.Run("QuoteOnAnotherShopsCustomerIsRefused", func(t *testing.T) {
		store := open(t)
		f := setUp(t, store)
		// Through the use case: A's customer is not found in B.
		_, err := f.app.Quotes.Create(as(ctx, f.w.Alices, f.w.Erin), quoting.NewQuote{CustomerID: f.custA.ID, Title: "Poached", Cents: 1})
		require.ErrorIs(t, err, ports.ErrNotFound)
		// Through raw SQL in B, naming B: the composite foreign key refuses.
		_, err = inB(f, `INSERT INTO quotes (shop_id, id, customer_id, title, cents) VALUES (?, ?, ?, 'poached', 1) RETURNING id`,
			f.w.Alices.ID.String(), uuid.NewString(), f.custA.ID)
		refusedByForeignKey(t, store, err)
		assert.Len(t, rawQuotes(t, store, f.w.Alices.ID), 1)
	})

	t.Run("LinkResolvesForItsQuoteOnly", func(t *testing.T) {
		store := open(t)
		f := setUp(t, store)
		asA := as(ctx, f.w.Bobs, f.w.Dana)
		link, err := f.app.Links.Mint(asA, capability.MintInput{RecordType: quoting.QuoteRecord, RecordID: f.quoteA.ID, Actions: []string{"view"}})
		require.NoError(t, err)

		holder, err := f.app.Links.Resolve(ctx, f.w.Bobs.ID, link.Token)
		require.NoError(t, err)
		hctx := access.With(ctx, holder)
		got, err := f.app.Quotes.ViewByLink(hctx, f.quoteA.ID)
		require.NoError(t, err)
		assert.Equal(t, f.quoteA, got)

		// Another quote, another action, a member's use case, another host.
		second, err := f.app.Quotes.Create(asA, quoting.NewQuote{CustomerID: f.custA.ID, Title: "Second", Cents: 5})
		require.NoError(t, err)
		_, err = f.app.Quotes.ViewByLink(hctx, second.ID)
		require.ErrorIs(t, err, access.ErrNoCapability)
		_, err = f.app.Quotes.ViewByLink(hctx, f.quoteB.ID)
		require.ErrorIs(t, err, access.ErrNoCapability)
		_, err = access.RequireRecord(hctx, quoting.QuoteRecord, f.quoteA.ID, "accept")
		require.ErrorIs(t, err, access.ErrNoCapability)
		_, err = f.app.Quotes.Get(hctx, f.quoteA.ID)
		require.ErrorIs(t, err, ports.ErrUnauthenticated)
		_, err = f.app.Links.Resolve(ctx, f.w.Alices.ID, link.Token)
		require.ErrorIs(t, err, access.ErrNoCapability)

		// No link for another shop's quote.
		_, err = f.app.Links.Mint(asA, capability.MintInput{RecordType: quoting.QuoteRecord, RecordID: f.quoteB.ID, Actions: []string{"view"}})
		require.ErrorIs(t, err, ports.ErrNotFound)
	})
}

var errAuditDown = errors.New("audit log unavailable (forced)")

// auditDown is the store whose units of work fail every audit append,
// after the app's own statements have run in them.
type auditDown struct{ ports.Store }

func (s auditDown) InShop(ctx context.Context, shop ports.ShopID, fn func(context.Context, ports.ShopTx) error, opts ...ports.TxOption) error {
	return s.Store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		return fn(ctx, auditDownTx{tx})
	}, opts...)
}

type auditDownTx struct{ ports.ShopTx }

func (t auditDownTx) Audit() ports.AuditRepo { return auditDownRepo{t.ShopTx.Audit()} }

type auditDownRepo struct{ ports.AuditRepo }

func (auditDownRepo) Append(context.Context, ports.AuditEvent) (ports.AuditEvent, error) {
	return ports.AuditEvent{}, errAuditDown
}

// dialect names store's SQL dialect.
func dialect(t *testing.T, store ports.Store) string {
	t.Helper()
	var d string
	require.NoError(t, store.InShop(context.Background(), ports.NewShopID(), func(_ context.Context, tx ports.ShopTx) error {
		d = tx.SQL().Dialect()
		return nil
	}, ports.ReadOnly()))
	return d
}

// refusedByWall checks err is the tenant wall's refusal: ErrForbidden
// from the SQLite wall, the row-level security policy on Postgres.
func refusedByWall(t *testing.T, store ports.Store, err error) {
	t.Helper()
	require.Error(t, err)
	if dialect(t, store) == ports.DialectSQLite {
		require.ErrorIs(t, err, ports.ErrForbidden)
		return
	}
	require.ErrorContains(t, err, "violates row-level security policy")
}

// refusedByForeignKey checks err is the composite foreign key's refusal.
func refusedByForeignKey(t *testing.T, store ports.Store, err error) {
	t.Helper()
	require.Error(t, err)
	if dialect(t, store) == ports.DialectSQLite {
		require.ErrorIs(t, err, ports.ErrNotFound)
		require.ErrorContains(t, err, "referenced record")
		return
	}
	require.ErrorContains(t, err, "violates foreign key constraint")
}
