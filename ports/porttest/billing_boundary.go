package porttest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// testBillingTenantBoundary attacks the billing repositories from shop B's
// unit of work: A's state, customer, account and events are out of reach
// by every method, and the directory maps each customer and account to one
// shop only.
func testBillingTenantBoundary(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 2, 0)
	shopA, shopB := f.shops[0].ID, f.shops[1].ID
	base := ports.Timestamp(time.Now().Add(-time.Hour)).Truncate(time.Second)
	cusA, acctA, subA := providerID("cus_"), providerID("acct_"), providerID("sub_")
	_, err := linkCustomer(s, shopA, cusA)
	require.NoError(t, err)
	_, err = linkAccount(s, shopA, acctA)
	require.NoError(t, err)
	_, _, err = applySub(s, shopA, sub(subA, cusA, ports.SubscriptionActive, base))
	require.NoError(t, err)
	_, _, err = applyCard(s, shopA, ports.CardState{CustomerID: cusA, Brand: "visa", Last4: "4242", AsOf: base})
	require.NoError(t, err)
	evA := ports.ProcessedEvent{ID: providerID("evt_"), Type: "customer.subscription.created", Created: base}
	_, err = recordEvent(s, shopA, evA)
	require.NoError(t, err)
	stateA := mustBilling(t, s, shopA)

	t.Run("AnotherShopsStateIsInvisible", func(t *testing.T) {
		_, err := getBilling(s, shopB)
		require.ErrorIs(t, err, ports.ErrNotFound, "B has no billing state, whatever A has")
	})

	t.Run("AnotherShopsCustomerAndAccountCannotBeTaken", func(t *testing.T) {
		_, err := linkCustomer(s, shopB, cusA)
		require.ErrorIs(t, err, ports.ErrConflict)
		_, err = linkAccount(s, shopB, acctA)
		require.ErrorIs(t, err, ports.ErrConflict)
		_, err = getBilling(s, shopB)
		require.ErrorIs(t, err, ports.ErrNotFound, "the refused links left nothing in B")
		got, err := shopByCustomer(s, cusA)
		require.NoError(t, err)
		assert.Equal(t, shopA, got, "the directory still maps A's customer to A")
		got, err = shopByAccount(s, acctA)
		require.NoError(t, err)
		assert.Equal(t, shopA, got)
	})

	t.Run("AnotherShopsStatesCannotBeApplied", func(t *testing.T) {
		cusB := providerID("cus_")
		_, err := linkCustomer(s, shopB, cusB)
		require.NoError(t, err)
		_, _, err = applySub(s, shopB, sub(subA, cusA, ports.SubscriptionCanceled, base.Add(time.Hour)))
		require.ErrorIs(t, err, ports.ErrConflict, "A's subscription in B's unit of work")
		_, _, err = applyCard(s, shopB, ports.CardState{CustomerID: cusA, Brand: "amex", Last4: "0005", AsOf: base.Add(time.Hour)})
		require.ErrorIs(t, err, ports.ErrConflict)
		_, _, err = applyConnect(s, shopB, ports.ConnectState{AccountID: acctA, AsOf: base.Add(time.Hour)})
		require.ErrorIs(t, err, ports.ErrConflict)
		assert.Equal(t, stateA, mustBilling(t, s, shopA), "A is untouched")
	})

	t.Run("EventsArePerShop", func(t *testing.T) {
		fresh, err := recordEvent(s, shopB, evA)
		require.NoError(t, err)
		assert.True(t, fresh, "A's processed event is unknown in B")
		var n int
		inShop(t, s, shopB, func(ctx context.Context, tx ports.ShopTx) error {
			n, err = tx.Billing().DeleteEventsBefore(ctx, base.Add(1000*time.Hour))
			return err
		})
		assert.Equal(t, 1, n, "B forgets only its own")
		fresh, err = recordEvent(s, shopA, evA)
		require.NoError(t, err)
		assert.False(t, fresh, "A still knows its event")
	})

	t.Run("CancellationIsPerShop", func(t *testing.T) {
		ended := sub(subA, cusA, ports.SubscriptionCanceled, base.Add(time.Minute))
		_, ok, err := applySub(s, shopA, ended)
		require.NoError(t, err)
		require.True(t, ok)
		got := cancelledBefore(t, s, base.Add(time.Hour), 0)
		assert.Equal(t, []ports.ShopCancellation{{Shop: shopA, CancelledAt: ended.AsOf}}, got)
		_, err = getBilling(s, shopB)
		require.NoError(t, err)
		assert.True(t, mustBilling(t, s, shopB).CancelledAt.IsZero())
	})
}
