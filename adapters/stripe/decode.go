package stripe

import (
	"time"

	stripego "github.com/stripe/stripe-go/v85"

	"github.com/stockadehq/stockade/ports"
)

// subscriptionState takes a subscription's ID, customer, status, price,
// period end and cancellation from s. Since API version 2025-03-31 the
// billing period lives on the subscription's items; the latest item
// period end is the subscription's.
func subscriptionState(s *stripego.Subscription, asOf time.Time) ports.SubscriptionState {
	st := ports.SubscriptionState{
		ID: s.ID, Status: ports.SubscriptionStatus(s.Status), CancelAtPeriodEnd: s.CancelAtPeriodEnd,
		AsOf: asOf,
	}
	if s.Customer != nil {
		st.CustomerID = s.Customer.ID
	}
	if s.Items != nil {
		for _, it := range s.Items.Data {
			if it == nil {
				continue
			}
			if st.PriceID == "" && it.Price != nil {
				st.PriceID = it.Price.ID
			}
			if end := unixTime(it.CurrentPeriodEnd); end.After(st.CurrentPeriodEnd) {
				st.CurrentPeriodEnd = end
			}
		}
	}
	if st.Status.Ended() {
		st.EndedAt = unixTime(s.EndedAt)
		if st.EndedAt.IsZero() {
			st.EndedAt = unixTime(s.CanceledAt)
		}
	}
	return st
}

// connectState takes a Connect account's status from a.
func connectState(a *stripego.Account, asOf time.Time) ports.ConnectState {
	return ports.ConnectState{
		AccountID: a.ID, ChargesEnabled: a.ChargesEnabled, PayoutsEnabled: a.PayoutsEnabled,
		DetailsSubmitted: a.DetailsSubmitted, AsOf: asOf,
	}
}

// cardState takes brand and last four digits of a card payment method,
// and nothing else of it; ok is false for other payment methods and for
// one attached to no customer.
func cardState(pm *stripego.PaymentMethod, asOf time.Time) (ports.CardState, bool) {
	if pm.Type != stripego.PaymentMethodTypeCard || pm.Card == nil || pm.Customer == nil || pm.Customer.ID == "" {
		return ports.CardState{}, false
	}
	return ports.CardState{CustomerID: pm.Customer.ID, Brand: string(pm.Card.Brand), Last4: pm.Card.Last4, AsOf: asOf}, true
}
