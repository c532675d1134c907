package billing

import (
	"context"
	"fmt"

	"github.com/stockadehq/stockade/events"
	"github.com/stockadehq/stockade/ports"
)

// Refresh re-reads the shop's subscription and Connect account from the
// provider and applies them under the webhooks' rules — a state fetched
// now is stored unless the shop already holds a newer one — each change
// audited with its source "refresh" (access.BillingManage); a subscription
// change also publishes subscription.changed (source "refresh"). It
// recovers the state after missed webhooks (an endpoint down for longer
// than the provider retries, a secret rolled wrongly) and brings Connect
// status up to date when onboarding returns. ErrConflict when the provider names
// another customer for the shop's subscription: nothing is applied.
func (s *Service) Refresh(ctx context.Context) (State, error) {
	sc, err := s.requireManage(ctx)
	if err != nil {
		return State{}, err
	}
	a, err := s.account(ctx, sc.Shop)
	if err != nil {
		return State{}, fmt.Errorf("refresh billing: %w", err)
	}
	var sub *ports.SubscriptionState
	var conn *ports.ConnectState
	if a.SubscriptionID != "" {
		st, err := s.provider.Subscription(ctx, a.SubscriptionID)
		if err != nil {
			return State{}, fmt.Errorf("refresh billing: %w", err)
		}
		if st.CustomerID != a.CustomerID {
			return State{}, fmt.Errorf("refresh billing: the provider names another customer for %s: %w", a.SubscriptionID, ports.ErrConflict)
		}
		sub = &st
	}
	if a.ConnectAccountID != "" {
		st, err := s.provider.ConnectAccount(ctx, a.ConnectAccountID)
		if err != nil {
			return State{}, fmt.Errorf("refresh billing: %w", err)
		}
		conn = &st
	}
	var changed events.Event
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		changed = events.Event{}
		if sub != nil {
			ch, err := tx.Billing().ApplySubscription(ctx, *sub)
			if err != nil {
				return err
			}
			if ch.Applied {
				e := subscriptionRecord(ch.Before, ch.After)
				e.after = map[string]any{"source": "refresh", "state": e.after}
				if err := s.appendAudit(ctx, tx, sc, e); err != nil {
					return err
				}
				if changed, err = s.subscriptionChanged(ctx, tx, ch, "refresh"); err != nil {
					return err
				}
			}
			a = ch.After
		}
		if conn != nil {
			ch, err := tx.Billing().ApplyConnect(ctx, *conn)
			if err != nil {
				return err
			}
			if ch.Applied {
				if err := s.appendAudit(ctx, tx, sc, record{action: "billing.connect_updated", target: "account:" + ch.After.ConnectAccountID,
					before: connect(ch.Before), after: map[string]any{"source": "refresh", "state": connect(ch.After)}}); err != nil {
					return err
				}
			}
			a = ch.After
		}
		return nil
	})
	if err != nil {
		return State{}, fmt.Errorf("refresh billing: %w", err)
	}
	s.events.After(ctx, changed)
	return s.state(a), nil
}
