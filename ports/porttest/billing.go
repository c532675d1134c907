package porttest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// billingOp runs do on shop's billing repository in its own unit of work
// (rolled back when do fails) and returns what it returned.
func billingOp(s ports.Store, shop ports.ShopID, do func(ctx context.Context, r ports.BillingRepo) (ports.BillingAccount, error)) (ports.BillingAccount, error) {
	var out ports.BillingAccount
	err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = do(ctx, tx.Billing())
		return err
	})
	return out, err
}

func getBilling(s ports.Store, shop ports.ShopID) (ports.BillingAccount, error) {
	return billingOp(s, shop, func(ctx context.Context, r ports.BillingRepo) (ports.BillingAccount, error) { return r.Get(ctx) })
}

// mustBilling returns shop's billing state and requires it to exist.
func mustBilling(t *testing.T, s ports.Store, shop ports.ShopID) ports.BillingAccount {
	t.Helper()
	a, err := getBilling(s, shop)
	require.NoError(t, err)
	return a
}

func linkCustomer(s ports.Store, shop ports.ShopID, id string) (ports.BillingAccount, error) {
	return billingOp(s, shop, func(ctx context.Context, r ports.BillingRepo) (ports.BillingAccount, error) {
		return r.LinkCustomer(ctx, id)
	})
}

func linkAccount(s ports.Store, shop ports.ShopID, id string) (ports.BillingAccount, error) {
	return billingOp(s, shop, func(ctx context.Context, r ports.BillingRepo) (ports.BillingAccount, error) {
		return r.LinkConnectAccount(ctx, id)
	})
}

// applied runs one Apply call in its own unit of work and returns the
// state after it and whether it applied.
func applied(s ports.Store, shop ports.ShopID, do func(ctx context.Context, r ports.BillingRepo) (ports.BillingChange, error)) (ports.BillingAccount, bool, error) {
	ch, err := change(s, shop, do)
	return ch.After, ch.Applied, err
}

// change runs one Apply call in its own unit of work and returns what it
// reported.
func change(s ports.Store, shop ports.ShopID, do func(ctx context.Context, r ports.BillingRepo) (ports.BillingChange, error)) (ports.BillingChange, error) {
	var ch ports.BillingChange
	_, err := billingOp(s, shop, func(ctx context.Context, r ports.BillingRepo) (ports.BillingAccount, error) {
		var err error
		ch, err = do(ctx, r)
		return ch.After, err
	})
	return ch, err
}

func applySub(s ports.Store, shop ports.ShopID, sub ports.SubscriptionState) (ports.BillingAccount, bool, error) {
	return applied(s, shop, func(ctx context.Context, r ports.BillingRepo) (ports.BillingChange, error) {
		return r.ApplySubscription(ctx, sub)
	})
}

func applyCard(s ports.Store, shop ports.ShopID, c ports.CardState) (ports.BillingAccount, bool, error) {
	return applied(s, shop, func(ctx context.Context, r ports.BillingRepo) (ports.BillingChange, error) {
		return r.ApplyCard(ctx, c)
	})
}

func applyConnect(s ports.Store, shop ports.ShopID, c ports.ConnectState) (ports.BillingAccount, bool, error) {
	return applied(s, shop, func(ctx context.Context, r ports.BillingRepo) (ports.BillingChange, error) {
		return r.ApplyConnect(ctx, c)
	})
}

func recordEvent(s ports.Store, shop ports.ShopID, e ports.ProcessedEvent) (bool, error) {
	var fresh bool
	err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		fresh, err = tx.Billing().RecordEvent(ctx, e)
		return err
	})
	return fresh, err
}

func shopByCustomer(s ports.Store, id string) (ports.ShopID, error) {
	var shop ports.ShopID
	err := s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		shop, err = tx.BillingDirectory().ShopByCustomer(ctx, id)
		return err
	}, ports.ReadOnly())
	return shop, err
}

func shopByAccount(s ports.Store, id string) (ports.ShopID, error) {
	var shop ports.ShopID
	err := s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		shop, err = tx.BillingDirectory().ShopByConnectAccount(ctx, id)
		return err
	}, ports.ReadOnly())
	return shop, err
}

func cancelledBefore(t *testing.T, s ports.Store, at time.Time, limit int) []ports.ShopCancellation {
	t.Helper()
	var out []ports.ShopCancellation
	require.NoError(t, s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		out, err = tx.BillingDirectory().CancelledBefore(ctx, at, limit)
		return err
	}, ports.ReadOnly()))
	return out
}

// providerID returns a fresh provider ID with prefix, unique in the test.
func providerID(prefix string) string {
	return prefix + "T" + ports.NewEventID().String()[24:] + fmt.Sprint(time.Now().UnixNano()%100000)
}

// sub returns a subscription state of customer at asOf.
func sub(id, customer string, status ports.SubscriptionStatus, asOf time.Time) ports.SubscriptionState {
	return ports.SubscriptionState{
		ID: id, CustomerID: customer, Status: status, PriceID: "price_Pro",
		CurrentPeriodEnd: asOf.Add(30 * 24 * time.Hour), AsOf: asOf,
	}
}

// stateOf keeps the parts of a billing state a test compares (the store
// stamps CreatedAt and UpdatedAt).
func stateOf(a ports.BillingAccount) ports.BillingAccount {
	a.CreatedAt, a.UpdatedAt = time.Time{}, time.Time{}
	return a
}

func testBilling(t *testing.T, newStore StoreHarness) {
	t.Run("RefusedLinkWritesNothing", func(t *testing.T) { testRefusedLinkWritesNothing(t, newStore) })
	s := newStore(t)
	f := seed(t, s, 3, 0)
	shop := f.shops[0].ID
	base := ports.Timestamp(time.Now().Add(-time.Hour)).Truncate(time.Second)
	cus := providerID("cus_")

	t.Run("NoStateYet", func(t *testing.T) {
		_, err := getBilling(s, shop)
		require.ErrorIs(t, err, ports.ErrNotFound)
		_, _, err = applySub(s, shop, sub(providerID("sub_"), cus, ports.SubscriptionActive, base))
		require.ErrorIs(t, err, ports.ErrNotFound, "an event cannot create a shop's billing state")
		_, _, err = applyCard(s, shop, ports.CardState{CustomerID: cus, Brand: "visa", Last4: "4242", AsOf: base})
		require.ErrorIs(t, err, ports.ErrNotFound)
		_, err = shopByCustomer(s, cus)
		require.ErrorIs(t, err, ports.ErrNotFound)
		_, err = shopByCustomer(s, "")
		require.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("LinkCustomer", func(t *testing.T) {
		for _, bad := range []string{"", "cus_", "sub_x", "cus_a b", "cus_4242424242424242'--", "4242424242424242"} {
			err := refusedInShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
				_, err := tx.Billing().LinkCustomer(ctx, bad)
				return err
			})
			require.ErrorIs(t, err, ports.ErrInvalid, "%q", bad)
		}
		_, err := getBilling(s, shop)
		require.ErrorIs(t, err, ports.ErrNotFound, "refusals wrote nothing")

		a, err := linkCustomer(s, shop, cus)
		require.NoError(t, err)
		assert.Equal(t, ports.BillingAccount{CustomerID: cus}, stateOf(a))
		assert.False(t, a.CreatedAt.IsZero())
		again, err := linkCustomer(s, shop, cus)
		require.NoError(t, err, "linking the same customer again is a no-op")
		assert.Equal(t, a, again)
		_, err = linkCustomer(s, shop, providerID("cus_"))
		require.ErrorIs(t, err, ports.ErrConflict, "a shop has one customer")
		got, err := shopByCustomer(s, cus)
		require.NoError(t, err)
		assert.Equal(t, shop, got)
	})

	t.Run("LinkConnectAccount", func(t *testing.T) {
		acct := providerID("acct_")
		err := refusedInShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Billing().LinkConnectAccount(ctx, "cus_x")
			return err
		})
		require.ErrorIs(t, err, ports.ErrInvalid)
		a, err := linkAccount(s, shop, acct)
		require.NoError(t, err)
		assert.Equal(t, ports.BillingAccount{CustomerID: cus, ConnectAccountID: acct}, stateOf(a))
		_, err = linkAccount(s, shop, providerID("acct_"))
		require.ErrorIs(t, err, ports.ErrConflict)
		got, err := shopByAccount(s, acct)
		require.NoError(t, err)
		assert.Equal(t, shop, got)
		_, err = shopByAccount(s, providerID("acct_"))
		require.ErrorIs(t, err, ports.ErrNotFound)

		// A Connect-first shop: the account row exists before any customer.
		other := f.shops[2].ID
		a, err = linkAccount(s, other, providerID("acct_"))
		require.NoError(t, err)
		assert.Empty(t, a.CustomerID)
	})

	t.Run("SubscriptionsNeverRegress", func(t *testing.T) {
		subID := providerID("sub_")
		first := sub(subID, cus, ports.SubscriptionIncomplete, base)
		a, ok, err := applySub(s, shop, first)
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, ports.SubscriptionIncomplete, a.SubscriptionStatus)

		newer := sub(subID, cus, ports.SubscriptionActive, base.Add(2*time.Second))
		newer.CancelAtPeriodEnd = true
		prior := mustBilling(t, s, shop)
		ch, err := change(s, shop, func(ctx context.Context, r ports.BillingRepo) (ports.BillingChange, error) {
			return r.ApplySubscription(ctx, newer)
		})
		require.NoError(t, err)
		require.True(t, ch.Applied)
		assert.Equal(t, prior, ch.Before, "Before is the state the change replaced")
		a = ch.After
		want := ports.BillingAccount{
			CustomerID: cus, ConnectAccountID: mustBilling(t, s, shop).ConnectAccountID,
			SubscriptionID: subID, SubscriptionStatus: ports.SubscriptionActive, PriceID: "price_Pro",
			CurrentPeriodEnd: newer.CurrentPeriodEnd, CancelAtPeriodEnd: true, SubscriptionAsOf: newer.AsOf,
		}
		assert.Equal(t, want, stateOf(a))
		assert.Equal(t, want, stateOf(mustBilling(t, s, shop)), "what Apply reports is what is stored")

		older := sub(subID, cus, ports.SubscriptionPastDue, base.Add(time.Second))
		stored := mustBilling(t, s, shop)
		ch, err = change(s, shop, func(ctx context.Context, r ports.BillingRepo) (ports.BillingChange, error) {
			return r.ApplySubscription(ctx, older)
		})
		require.NoError(t, err)
		assert.False(t, ch.Applied, "an older state arriving late is not applied")
		assert.Equal(t, ports.BillingChange{Before: stored, After: stored}, ch, "a refusal reports the state as it is, twice")
		assert.Equal(t, want, stateOf(mustBilling(t, s, shop)))

		same := sub(subID, cus, ports.SubscriptionPastDue, newer.AsOf)
		_, ok, err = applySub(s, shop, same)
		require.NoError(t, err)
		assert.True(t, ok, "at the same second the later arrival wins")
		assert.Equal(t, ports.SubscriptionPastDue, mustBilling(t, s, shop).SubscriptionStatus)
	})

	t.Run("ForeignOrMalformedStatesAreRefused", func(t *testing.T) {
		before := mustBilling(t, s, shop)
		_, _, err := applySub(s, shop, sub(providerID("sub_"), providerID("cus_"), ports.SubscriptionActive, base.Add(time.Hour)))
		require.ErrorIs(t, err, ports.ErrConflict, "another customer's subscription")
		_, _, err = applyCard(s, shop, ports.CardState{CustomerID: providerID("cus_"), Brand: "visa", Last4: "4242", AsOf: base.Add(time.Hour)})
		require.ErrorIs(t, err, ports.ErrConflict, "another customer's card")
		_, _, err = applyConnect(s, shop, ports.ConnectState{AccountID: providerID("acct_"), ChargesEnabled: true, AsOf: base.Add(time.Hour)})
		require.ErrorIs(t, err, ports.ErrConflict, "another account's status")
		for _, bad := range []ports.SubscriptionState{
			{ID: "sub_x", CustomerID: cus, Status: "gone", AsOf: base},
			{ID: "sub_x", CustomerID: cus, Status: ports.SubscriptionActive},
			{ID: "x", CustomerID: cus, Status: ports.SubscriptionActive, AsOf: base},
			{ID: "sub_x", CustomerID: cus, Status: ports.SubscriptionActive, PriceID: "4242424242424242", AsOf: base},
		} {
			_, _, err := applySub(s, shop, bad)
			require.ErrorIs(t, err, ports.ErrInvalid, "%+v", bad)
		}
		for _, bad := range []ports.CardState{
			{CustomerID: cus, Brand: "visa", Last4: "424", AsOf: base},
			{CustomerID: cus, Brand: "visa", Last4: "42424", AsOf: base},
			{CustomerID: cus, Brand: "visa", Last4: "4242424242424242", AsOf: base},
			{CustomerID: cus, Brand: "visa", Last4: "42a2", AsOf: base},
			{CustomerID: cus, Brand: "Visa 4242", Last4: "4242", AsOf: base},
			{CustomerID: cus, Brand: "", Last4: "4242", AsOf: base},
		} {
			_, _, err := applyCard(s, shop, bad)
			require.ErrorIs(t, err, ports.ErrInvalid, "%+v", bad)
		}
		assert.Equal(t, stateOf(before), stateOf(mustBilling(t, s, shop)))
	})

	t.Run("Cards", func(t *testing.T) {
		a, ok, err := applyCard(s, shop, ports.CardState{CustomerID: cus, Brand: "visa", Last4: "4242", AsOf: base.Add(10 * time.Second)})
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, []string{"visa", "4242"}, []string{a.CardBrand, a.CardLast4})
		_, ok, err = applyCard(s, shop, ports.CardState{CustomerID: cus, Brand: "amex", Last4: "0005", AsOf: base.Add(9 * time.Second)})
		require.NoError(t, err)
		assert.False(t, ok, "an older card does not replace a newer one")
		_, ok, err = applyCard(s, shop, ports.CardState{CustomerID: cus, Brand: "mastercard", Last4: "4444", AsOf: base.Add(11 * time.Second)})
		require.NoError(t, err)
		assert.True(t, ok)
		a = mustBilling(t, s, shop)
		assert.Equal(t, []string{"mastercard", "4444"}, []string{a.CardBrand, a.CardLast4})
		assert.Equal(t, base.Add(11*time.Second), a.CardAsOf)
	})

	t.Run("Connect", func(t *testing.T) {
		acct := mustBilling(t, s, shop).ConnectAccountID
		a, ok, err := applyConnect(s, shop, ports.ConnectState{AccountID: acct, DetailsSubmitted: true, ChargesEnabled: true, PayoutsEnabled: true, AsOf: base.Add(20 * time.Second)})
		require.NoError(t, err)
		require.True(t, ok)
		assert.True(t, a.ChargesEnabled && a.PayoutsEnabled && a.DetailsSubmitted)
		_, ok, err = applyConnect(s, shop, ports.ConnectState{AccountID: acct, AsOf: base.Add(19 * time.Second)})
		require.NoError(t, err)
		assert.False(t, ok, "an older account.updated does not switch payouts off again")
		a = mustBilling(t, s, shop)
		assert.True(t, a.ChargesEnabled && a.PayoutsEnabled && a.DetailsSubmitted)
		_, _, err = applyConnect(s, f.shops[1].ID, ports.ConnectState{AccountID: acct, AsOf: base})
		require.ErrorIs(t, err, ports.ErrNotFound, "a shop without billing state")
	})

	t.Run("CancellationStartsTheRetentionClock", func(t *testing.T) {
		testBillingCancellation(t, s, f.shops[1].ID, base)
	})

	t.Run("Events", func(t *testing.T) {
		e := ports.ProcessedEvent{ID: providerID("evt_"), Type: "customer.subscription.updated", Created: base}
		fresh, err := recordEvent(s, shop, e)
		require.NoError(t, err)
		assert.True(t, fresh)
		fresh, err = recordEvent(s, shop, e)
		require.NoError(t, err)
		assert.False(t, fresh, "a redelivery is recognised")

		rolledBack := ports.ProcessedEvent{ID: providerID("evt_"), Type: "account.updated", Created: base}
		err = s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			fresh, err := tx.Billing().RecordEvent(ctx, rolledBack)
			require.True(t, fresh)
			require.NoError(t, err)
			return errBoom
		})
		require.ErrorIs(t, err, errBoom)
		fresh, err = recordEvent(s, shop, rolledBack)
		require.NoError(t, err)
		assert.True(t, fresh, "an event whose unit of work rolled back was not processed")

		for _, bad := range []ports.ProcessedEvent{
			{ID: "evt_", Type: "x", Created: base},
			{ID: "cus_1", Type: "x", Created: base},
			{ID: "evt_1", Type: "", Created: base},
			{ID: "evt_1", Type: "Customer Updated", Created: base},
			{ID: "evt_1", Type: "x"},
		} {
			err := refusedInShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
				_, err := tx.Billing().RecordEvent(ctx, bad)
				return err
			})
			require.ErrorIs(t, err, ports.ErrInvalid, "%+v", bad)
		}

		old := ports.ProcessedEvent{ID: providerID("evt_"), Type: "x.y", Created: base.Add(-96 * time.Hour)}
		_, err = recordEvent(s, shop, old)
		require.NoError(t, err)
		var n int
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			n, err = tx.Billing().DeleteEventsBefore(ctx, base.Add(-72*time.Hour))
			return err
		})
		assert.Equal(t, 1, n)
		fresh, err = recordEvent(s, shop, old)
		require.NoError(t, err)
		assert.True(t, fresh, "a forgotten event is new again")
		fresh, err = recordEvent(s, shop, e)
		require.NoError(t, err)
		assert.False(t, fresh, "recent events are kept")
	})

	t.Run("Concurrency", func(t *testing.T) { testBillingConcurrency(t, s, f.shops[2].ID, base) })
}

// testBillingCancellation: an ended subscription starts the clock at its
// end, an earlier ending is kept, an incomplete new subscription leaves
// it, a live one stops it; CancelledBefore lists the shops past a time.
func testBillingCancellation(t *testing.T, s ports.Store, shop ports.ShopID, base time.Time) {
	cus := providerID("cus_")
	_, err := linkCustomer(s, shop, cus)
	require.NoError(t, err)
	first := providerID("sub_")
	_, _, err = applySub(s, shop, sub(first, cus, ports.SubscriptionActive, base))
	require.NoError(t, err)
	assert.Empty(t, cancelledBefore(t, s, base.Add(1000*time.Hour), 0))

	ended := sub(first, cus, ports.SubscriptionCanceled, base.Add(time.Minute))
	ended.EndedAt = base.Add(30 * time.Second)
	a, ok, err := applySub(s, shop, ended)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, ended.EndedAt, a.CancelledAt)
	assert.Equal(t, ended.EndedAt, mustBilling(t, s, shop).CancelledAt)

	_, ok, err = applySub(s, shop, sub(first, cus, ports.SubscriptionActive, base.Add(2*time.Minute)))
	require.NoError(t, err)
	assert.False(t, ok, "a canceled subscription never becomes active again")
	_, ok, err = applySub(s, shop, sub(first, cus, ports.SubscriptionActive, ended.AsOf))
	require.NoError(t, err)
	assert.False(t, ok, "not even from an event of the same second")

	again := sub(first, cus, ports.SubscriptionCanceled, base.Add(3*time.Minute))
	again.EndedAt = base.Add(3 * time.Minute)
	_, ok, err = applySub(s, shop, again)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, ended.EndedAt, mustBilling(t, s, shop).CancelledAt, "the clock runs from the first ending")

	got := cancelledBefore(t, s, ended.EndedAt, 0)
	require.Equal(t, []ports.ShopCancellation{{Shop: shop, CancelledAt: ended.EndedAt}}, got, "cancelled at or before")
	assert.Empty(t, cancelledBefore(t, s, ended.EndedAt.Add(-time.Microsecond), 0))

	second := providerID("sub_")
	_, ok, err = applySub(s, shop, sub(second, cus, ports.SubscriptionIncomplete, base.Add(4*time.Minute)))
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, ended.EndedAt, mustBilling(t, s, shop).CancelledAt, "an unpaid new subscription leaves the clock running")
	_, ok, err = applySub(s, shop, sub(second, cus, ports.SubscriptionActive, base.Add(5*time.Minute)))
	require.NoError(t, err)
	require.True(t, ok)
	assert.True(t, mustBilling(t, s, shop).CancelledAt.IsZero(), "a live subscription stops the clock")
	assert.Empty(t, cancelledBefore(t, s, base.Add(1000*time.Hour), 0))

	lateEnd := sub(first, cus, ports.SubscriptionCanceled, base.Add(6*time.Minute))
	_, ok, err = applySub(s, shop, lateEnd)
	require.NoError(t, err)
	assert.False(t, ok, "an old subscription's ending does not end the current one")
	a = mustBilling(t, s, shop)
	assert.Equal(t, second, a.SubscriptionID)
	assert.Equal(t, ports.SubscriptionActive, a.SubscriptionStatus)
	assert.True(t, a.CancelledAt.IsZero())

	last := sub(second, cus, ports.SubscriptionCanceled, base.Add(7*time.Minute))
	_, ok, err = applySub(s, shop, last)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, last.AsOf, mustBilling(t, s, shop).CancelledAt, "with no end time the event's time starts the clock")
	require.Len(t, cancelledBefore(t, s, base.Add(1000*time.Hour), 0), 1)
	assert.Len(t, cancelledBefore(t, s, base.Add(1000*time.Hour), 1), 1)
}

// BillingColumns is the allow-list of BIL-1 as table columns: what a
// store may keep about a shop's billing — provider references, status,
// plan, period end, card brand and last four digits, the Connect account
// and its status — plus the shop key, the freshness of each part and the
// row's own times. An adapter's schema test compares its billing table's
// columns with this list, so that a column added without arguing for it
// here (a card number, an expiry, a billing address) fails the build.
var BillingColumns = []string{
	"shop_id",
	"customer_id", "subscription_id", "subscription_status", "price_id", "current_period_end", "cancel_at_period_end",
	"card_brand", "card_last4",
	"connect_account_id", "charges_enabled", "payouts_enabled", "details_submitted",
	"subscription_as_of", "card_as_of", "connect_as_of",
	"created_at", "updated_at",
}

// BillingDirectoryColumns are the billing columns of the global shop
// directory: the customer and Connect account that map to the shop, and
// its retention clock.
var BillingDirectoryColumns = []string{"stripe_customer_id", "stripe_account_id", "cancelled_at"}
