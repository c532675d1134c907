package httpapi_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
)

// TestStripeWebhookRemembersTheCustomersShop: the customer → shop lookup
// (a global unit of work) runs for a customer's first event only; another
// customer's first event looks its shop up, and still reaches only that
// shop.
func TestStripeWebhookRemembersTheCustomersShop(t *testing.T) {
	w := newBillingMatrixWorld(t, false)
	cs := &countingStore{inner: w.raw}
	a := w.apiOver(cs, access.DefaultPolicy())
	_, cus := linkAlpha(t, w, a)
	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	event := func(id, sub, customer, status string, at time.Time) []byte {
		return stripeEvent(id, "customer.subscription.updated", at, "", subObject(sub, customer, status, at.Add(time.Hour)))
	}

	cs.reset()
	require.Equal(t, "applied", deliver(t, a.api, event("evt_1", "sub_alpha", cus, "active", at), false))
	first := cs.snapshot()
	require.Positive(t, first.Global, "the first event looks the customer up")

	cs.reset()
	require.Equal(t, "applied", deliver(t, a.api, event("evt_2", "sub_alpha", cus, "past_due", at.Add(time.Second)), false))
	second := cs.snapshot()
	assert.Equal(t, first.Global-1, second.Global, "the second event of the customer does not")
	assert.Equal(t, first.InShop, second.InShop)
	assert.Equal(t, "past_due", string(billingOf(t, w.raw, w.alpha.ID).SubscriptionStatus))

	cs.reset()
	require.Equal(t, "applied", deliver(t, a.api, event("evt_3", w.bravoSub, w.bravoCustomer, "past_due", at.Add(2*time.Second)), false))
	assert.Equal(t, first.Global, cs.snapshot().Global, "another customer is looked up")
	assert.Equal(t, "past_due", string(billingOf(t, w.raw, w.bravo.ID).SubscriptionStatus))
	assert.Equal(t, "past_due", string(billingOf(t, w.raw, w.alpha.ID).SubscriptionStatus), "alpha unchanged by bravo's event")
}
