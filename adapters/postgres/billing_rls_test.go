package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

// TestBillingRowLevelSecurity attacks billing_accounts and billing_events
// with raw SQL as the application role: a SELECT that forgets its WHERE
// sees the current shop's rows only, an INSERT or UPDATE naming another
// shop is refused by the database (42501), an UPDATE or DELETE aimed at
// another shop's rows touches none, and with no tenant set nothing is
// visible.
func TestBillingRowLevelSecurity(t *testing.T) {
	s, _ := fresh(t)
	a, b := twoShops(t, s)
	db := s.DB()
	ctx := context.Background()
	asOf := time.Now().Add(-time.Hour).Truncate(time.Second)
	for i, shop := range []ports.ShopID{a, b} {
		cus := []string{"cus_A", "cus_B"}[i]
		require.NoError(t, s.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
			if _, err := tx.Billing().LinkCustomer(ctx, cus); err != nil {
				return err
			}
			if _, err := tx.Billing().ApplySubscription(ctx, ports.SubscriptionState{
				ID: "sub_" + cus[4:], CustomerID: cus, Status: ports.SubscriptionActive, AsOf: asOf,
			}); err != nil {
				return err
			}
			_, err := tx.Billing().RecordEvent(ctx, ports.ProcessedEvent{ID: "evt_" + cus[4:], Type: "customer.subscription.created", Created: asOf})
			return err
		}))
	}
	tables := []string{"billing_accounts", "billing_events"}

	t.Run("SelectWithoutWhereSeesOnlyCurrentShop", func(t *testing.T) {
		for _, table := range tables {
			asTenant(t, db, a, func(tx *sqlx.Tx) {
				var shops []string
				require.NoError(t, tx.Select(&shops, `SELECT shop_id::text FROM `+table))
				assert.Equal(t, []string{a.String()}, shops, table)
			})
		}
	})

	t.Run("NoTenantSeesNothing", func(t *testing.T) {
		for _, table := range tables {
			asTenant(t, db, ports.ShopID{}, func(tx *sqlx.Tx) {
				var n int
				require.NoError(t, tx.Get(&n, `SELECT count(*) FROM `+table))
				assert.Zero(t, n, table)
			})
		}
	})

	t.Run("InsertNamingAnotherShopIsRejected", func(t *testing.T) {
		for _, stmt := range []string{
			`INSERT INTO billing_events (shop_id, event_id, type, created, processed_at) VALUES ($1, 'evt_forged', 'customer.subscription.deleted', now(), now())`,
			`INSERT INTO billing_accounts (shop_id, customer_id, created_at, updated_at) VALUES ($1, 'cus_forged', now(), now())
				ON CONFLICT (shop_id) DO UPDATE SET customer_id = 'cus_forged'`,
		} {
			asTenant(t, db, a, func(tx *sqlx.Tx) {
				_, err := tx.Exec(stmt, b.String())
				require.Error(t, err, stmt)
				assert.Equal(t, "42501", sqlState(err), "%s: %v", stmt, err)
			})
		}
	})

	t.Run("UpdateMovingARowToAnotherShopIsRejected", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`UPDATE billing_accounts SET shop_id = $1`, b.String())
			require.Error(t, err)
			assert.Equal(t, "42501", sqlState(err))
		})
	})

	t.Run("UpdateAndDeleteOfAnotherShopTouchNothing", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			for _, stmt := range []string{
				`UPDATE billing_accounts SET subscription_status = 'canceled', subscription_as_of = now() + interval '1 year' WHERE shop_id = $1`,
				`DELETE FROM billing_events WHERE shop_id = $1`,
			} {
				res, err := tx.Exec(stmt, b.String())
				require.NoError(t, err, stmt)
				n, err := res.RowsAffected()
				require.NoError(t, err)
				assert.Zero(t, n, stmt)
			}
		})
		var got ports.BillingAccount
		var fresh bool
		require.NoError(t, s.InShop(ctx, b, func(ctx context.Context, tx ports.ShopTx) error {
			var err error
			if got, err = tx.Billing().Get(ctx); err != nil {
				return err
			}
			fresh, err = tx.Billing().RecordEvent(ctx, ports.ProcessedEvent{ID: "evt_B", Type: "x", Created: asOf})
			return err
		}))
		assert.Equal(t, ports.SubscriptionActive, got.SubscriptionStatus, "B's subscription is intact")
		assert.False(t, fresh, "B's processed event is still there")
	})

	t.Run("TheApplicationRoleCannotDeleteBillingStateOrRewriteEvents", func(t *testing.T) {
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`DELETE FROM billing_accounts`)
			require.Error(t, err)
			assert.Equal(t, "42501", sqlState(err), "no DELETE grant: %v", err)
		})
		asTenant(t, db, a, func(tx *sqlx.Tx) {
			_, err := tx.Exec(`UPDATE billing_events SET type = 'x'`)
			require.Error(t, err)
			assert.Equal(t, "42501", sqlState(err), "no UPDATE grant on processed events: %v", err)
		})
	})

	t.Run("NoCardNumberFitsAReferenceColumn", func(t *testing.T) {
		// The CHECKs hold even against the adapter: raw SQL as the
		// application role cannot park a card number in the billing row.
		for _, stmt := range []string{
			`UPDATE billing_accounts SET card_brand = 'visa', card_last4 = '4242424242424242'`,
			`UPDATE billing_accounts SET customer_id = '4242424242424242'`,
			`UPDATE billing_accounts SET price_id = 'price 4242 4242 4242 4242'`,
		} {
			asTenant(t, db, a, func(tx *sqlx.Tx) {
				_, err := tx.Exec(stmt)
				require.Error(t, err, stmt)
				assert.Equal(t, "23514", sqlState(err), "%s: %v", stmt, err)
			})
		}
	})
}

// TestBillingColumnsAreTheAllowList reads the billing table's columns from
// the catalog and compares them with BIL-1's allow-list
// (porttest.BillingColumns), and the shop directory's billing columns with
// theirs: a column added for anything else (a card number, an expiry, an
// address) fails here.
func TestBillingColumnsAreTheAllowList(t *testing.T) {
	_, pg := fresh(t)
	super := sqlx.MustConnect("pgx", pg.SuperURL)
	defer super.Close()
	var cols []string
	require.NoError(t, super.Select(&cols, `SELECT column_name::text FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name = 'billing_accounts' ORDER BY column_name`))
	want := slices.Clone(porttest.BillingColumns)
	slices.Sort(want)
	assert.Equal(t, want, cols)

	var dir []string
	require.NoError(t, super.Select(&dir, `SELECT column_name::text FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name = 'shops' AND column_name = ANY($1) ORDER BY column_name`,
		porttest.BillingDirectoryColumns))
	wantDir := slices.Clone(porttest.BillingDirectoryColumns)
	slices.Sort(wantDir)
	assert.Equal(t, wantDir, dir)
	var all []string
	require.NoError(t, super.Select(&all, `SELECT table_name || '.' || column_name FROM information_schema.columns
		WHERE table_schema = 'public' AND column_name ~* '(card_?number|(^|_)pan($|_)|cvc|cvv|exp_(month|year)|expiry|iban|account_number|routing_number)'`))
	assert.Empty(t, all, "no column anywhere is named for card or bank data")
}
