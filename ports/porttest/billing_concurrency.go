package porttest

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// testBillingConcurrency: copies of one event delivered at once are
// processed exactly once, and states delivered at once in any order leave
// the newest stored.
func testBillingConcurrency(t *testing.T, s ports.Store, shop ports.ShopID, base time.Time) {
	cus := providerID("cus_")
	_, err := linkCustomer(s, shop, cus)
	require.NoError(t, err)
	subID := providerID("sub_")

	t.Run("CopiesOfOneEventHaveOneEffect", func(t *testing.T) {
		const copies = 20
		e := ports.ProcessedEvent{ID: providerID("evt_"), Type: "customer.subscription.updated", Created: base}
		var fresh, effects atomic.Int32
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, copies)
		for i := 0; i < copies; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs <- s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
					first, err := tx.Billing().RecordEvent(ctx, e)
					if err != nil || !first {
						return err
					}
					fresh.Add(1)
					ch, err := tx.Billing().ApplySubscription(ctx, sub(subID, cus, ports.SubscriptionActive, base))
					if ch.Applied {
						effects.Add(1)
					}
					return err
				})
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		assert.EqualValues(t, 1, fresh.Load(), "exactly one copy is new")
		assert.EqualValues(t, 1, effects.Load(), "exactly one copy changed the state")
	})

	t.Run("StatesInAnyOrderLeaveTheNewest", func(t *testing.T) {
		const n = 20
		statuses := []ports.SubscriptionStatus{ports.SubscriptionActive, ports.SubscriptionPastDue, ports.SubscriptionUnpaid, ports.SubscriptionTrialing}
		states := make([]ports.SubscriptionState, n)
		for i := range states {
			states[i] = sub(subID, cus, statuses[i%len(statuses)], base.Add(time.Duration(i+1)*time.Minute))
		}
		newest := states[n-1]
		rand.Shuffle(n, func(i, j int) { states[i], states[j] = states[j], states[i] })
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for _, st := range states {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, _, err := applySub(s, shop, st)
				errs <- err
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		a := mustBilling(t, s, shop)
		assert.Equal(t, newest.Status, a.SubscriptionStatus)
		assert.Equal(t, newest.AsOf, a.SubscriptionAsOf)
		assert.Equal(t, ports.Timestamp(newest.CurrentPeriodEnd), a.CurrentPeriodEnd)
	})
}
