package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/postgres"
	"github.com/stockadehq/stockade/ports"
)

// TestRoundTripsOfAWebhook pins what a verified Stripe webhook costs the
// store in round trips: the directory lookup (a read-only global unit of
// work), then the shop's unit of work — the dedupe insert, the billing
// row read under its lock, the update, the audit append — and, for a
// redelivery, the insert that finds the event and nothing else.
func TestRoundTripsOfAWebhook(t *testing.T) {
	d := &tripCounter{}
	s, _ := fresh(t, postgres.WithDialer(d.Dial), postgres.WithMaxConns(1))
	a, _ := twoShops(t, s)
	ctx := context.Background()
	require.NoError(t, s.InShop(ctx, a, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Billing().LinkCustomer(ctx, "cus_trips")
		return err
	}))
	lookup := func() error {
		return s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
			_, err := tx.BillingDirectory().ShopByCustomer(ctx, "cus_trips")
			return err
		}, ports.ReadOnly())
	}
	n := 0
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	apply := func(redeliver bool) func() error {
		return func() error {
			if !redeliver {
				n++
			}
			id := fmt.Sprintf("evt_trips%d", n)
			return s.InShop(ctx, a, func(ctx context.Context, tx ports.ShopTx) error {
				fresh, err := tx.Billing().RecordEvent(ctx, ports.ProcessedEvent{ID: id, Type: "customer.subscription.updated", Created: base})
				if err != nil || !fresh {
					return err
				}
				ch, err := tx.Billing().ApplySubscription(ctx, ports.SubscriptionState{ID: "sub_trips", CustomerID: "cus_trips",
					Status: ports.SubscriptionActive, AsOf: base.Add(time.Duration(n) * time.Second)})
				if err != nil || !ch.Applied {
					return fmt.Errorf("not applied: %v", err)
				}
				_, err = tx.Audit().Append(ctx, ports.AuditEvent{ID: ports.NewEventID(), Time: time.Now(), Actor: "system:stripe-webhook",
					Action: "billing.subscription_updated", Outcome: ports.OutcomeSuccess})
				return err
			})
		}
	}
	assert.EqualValues(t, 1, countTrips(t, d, lookup), "the SELECT in its own read-only implicit transaction")
	assert.EqualValues(t, 5, countTrips(t, d, apply(false)), "BEGIN+set_config+INSERT event, SELECT … FOR UPDATE, UPDATE, audit append, COMMIT")
	assert.EqualValues(t, 2, countTrips(t, d, apply(true)), "BEGIN+set_config+INSERT event (found), COMMIT")
}
