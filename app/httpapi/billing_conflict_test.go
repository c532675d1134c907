package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// conflictOnce is a store whose billing repository fails the next
// ApplySubscription with a conflict, as Postgres reports a deadlock or a
// serialization failure, after the unit of work has recorded the event.
type conflictOnce struct {
	ports.Store
	armed *atomic.Bool
}

type conflictOnceTx struct {
	ports.ShopTx
	armed *atomic.Bool
}

type conflictOnceRepo struct {
	ports.BillingRepo
	armed *atomic.Bool
}

func (s conflictOnce) InShop(ctx context.Context, shop ports.ShopID, fn func(context.Context, ports.ShopTx) error, opts ...ports.TxOption) error {
	return s.Store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		return fn(ctx, conflictOnceTx{tx, s.armed})
	}, opts...)
}

func (t conflictOnceTx) Billing() ports.BillingRepo {
	return conflictOnceRepo{t.ShopTx.Billing(), t.armed}
}

func (r conflictOnceRepo) ApplySubscription(ctx context.Context, s ports.SubscriptionState) (ports.BillingChange, error) {
	if r.armed.CompareAndSwap(true, false) {
		return ports.BillingChange{}, fmt.Errorf("concurrent update, retry: %w", ports.ErrConflict)
	}
	return r.BillingRepo.ApplySubscription(ctx, s)
}

// TestStripeWebhookConflictIsRetried: a transient conflict while applying
// an event is not acknowledged (which would lose the event for good): the
// answer is a 5xx so Stripe redelivers, the event's ID is not kept as
// processed, and the redelivery applies it.
func TestStripeWebhookConflictIsRetried(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			w := newBillingMatrixWorld(t, pg)
			armed := &atomic.Bool{}
			a := w.apiOver(conflictOnce{w.raw, armed}, access.DefaultPolicy())
			_, cus := linkAlpha(t, w, a)
			at := time.Now().Add(-time.Minute).Truncate(time.Second)
			ev := stripeEvent("evt_conflict", "customer.subscription.created", at, "", subObject("sub_conflict", cus, "active", at.Add(time.Hour)))
			before := len(billingEvents(t, w.raw, w.alpha.ID))

			armed.Store(true)
			code, body := postWebhook(t, a.api, "/webhooks/stripe", ev, stripeSignature(ev, whPlatformSecret, time.Now()))
			require.False(t, armed.Load(), "the fault was reached")
			assert.False(t, code >= 200 && code < 300, "a conflict is not acknowledged (Stripe retries any non-2xx): %d %s", code, body)
			assert.Empty(t, billingOf(t, w.raw, w.alpha.ID).SubscriptionStatus, "nothing applied")
			assert.Len(t, billingEvents(t, w.raw, w.alpha.ID), before, "nothing audited")

			assert.Equal(t, "applied", deliver(t, a.api, ev, false), "the redelivery is not taken for a duplicate")
			assert.Equal(t, ports.SubscriptionActive, billingOf(t, w.raw, w.alpha.ID).SubscriptionStatus)
			assert.Equal(t, http.StatusOK, func() int {
				c, _ := postWebhook(t, a.api, "/webhooks/stripe", ev, stripeSignature(ev, whPlatformSecret, time.Now()))
				return c
			}())
		})
	}
}
