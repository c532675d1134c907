package billing

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/events"
	"github.com/stockadehq/stockade/ports"
)

// WebhookActor names the provider's webhooks in audit events
// ("system:stripe-webhook").
const WebhookActor = "stripe-webhook"

// Outcome says what a verified webhook did. Every outcome is acknowledged
// to the provider (2xx): sending the same event again would change
// nothing.
type Outcome string

// Webhook outcomes.
const (
	// OutcomeApplied: the event's state is now the shop's.
	OutcomeApplied Outcome = "applied"
	// OutcomeDuplicate: the shop processed this event before.
	OutcomeDuplicate Outcome = "duplicate"
	// OutcomeStale: the shop holds a newer state; the event is recorded
	// as processed and changed nothing.
	OutcomeStale Outcome = "stale"
	// OutcomeUnknown: the event names a customer or account of no shop.
	OutcomeUnknown Outcome = "unknown_customer"
	// OutcomeIgnored: an event type (or object) the service does not
	// apply.
	OutcomeIgnored Outcome = "ignored"
	// OutcomeInvalid: validly signed, but not an event the service can
	// read.
	OutcomeInvalid Outcome = "invalid"
)

// EventMemory is how long a shop remembers a processed event's ID. Stripe
// retries a delivery for up to three days; a month leaves room for a
// replay from its dashboard. About one new event in 32 (by its ID) also
// forgets the shop's events older than that, in the same unit of work, so
// the table stays small without a separate job.
const EventMemory = 30 * 24 * time.Hour

// prunes reports whether the event with id also prunes old event IDs.
func prunes(id string) bool {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return h.Sum32()%32 == 0
}

// WebhookInput is one webhook request as received.
type WebhookInput struct {
	Endpoint  ports.BillingEndpoint
	Payload   []byte // the raw body, already size-capped
	Signature string // the Stripe-Signature header
	RequestID string
	IP        string
}

// WebhookResult is what HandleWebhook did.
type WebhookResult struct {
	Outcome Outcome
	EventID string
	Type    string
	Shop    ports.ShopID // zero unless the event found a shop
}

// HandleWebhook verifies and applies one provider webhook (BIL-2). The
// signature is checked (Deps.Webhooks) before anything in the payload is
// read: a forgery is ErrUnauthenticated and changes nothing. The event's
// customer or account is then mapped to its shop through the billing
// directory, and in one unit of work of that shop — under a system scope
// that the guard admits, audited as "system:stripe-webhook" — the event
// ID is recorded (a redelivery stops here: OutcomeDuplicate) and the
// state applied unless the shop holds a newer one (OutcomeStale). An
// event for no shop's customer, of a type not handled, or validly signed
// but unreadable is acknowledged with its outcome and a log line. Other
// errors (the store is down, a lock conflict) are returned so the
// provider retries.
func (s *Service) HandleWebhook(ctx context.Context, in WebhookInput) (WebhookResult, error) {
	if s.webhooks == nil {
		return WebhookResult{}, fmt.Errorf("billing webhooks are not configured: %w", ports.ErrUnauthenticated)
	}
	ev, err := s.webhooks.VerifyEvent(ctx, in.Endpoint, in.Payload, in.Signature)
	switch {
	case errors.Is(err, ports.ErrInvalid):
		s.log.WarnContext(ctx, "billing webhook: validly signed but unreadable; acknowledged", "endpoint", in.Endpoint, "error", err, "request_id", in.RequestID)
		return WebhookResult{Outcome: OutcomeInvalid}, nil
	case err != nil:
		return WebhookResult{}, err
	}
	res := WebhookResult{EventID: ev.ID, Type: ev.Type}
	logDone := func(level slog.Level, msg string, extra ...any) {
		args := append([]any{"endpoint", in.Endpoint, "event", ev.ID, "type", ev.Type, "outcome", res.Outcome, "request_id", in.RequestID}, extra...)
		if !res.Shop.IsZero() {
			args = append(args, "shop", res.Shop)
		}
		s.log.Log(ctx, level, msg, args...)
	}
	key, byAccount := ownerOf(ev)
	if key == "" {
		res.Outcome = OutcomeIgnored
		logDone(slog.LevelInfo, "billing webhook: event type not applied; acknowledged")
		return res, nil
	}
	shop, err := s.shopOf(ctx, key, byAccount)
	if errors.Is(err, ports.ErrNotFound) {
		res.Outcome = OutcomeUnknown
		logDone(slog.LevelWarn, "billing webhook: no shop has this customer or account; acknowledged", "owner", key)
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("billing webhook %s: %w", ev.ID, err)
	}
	res.Shop = shop
	res.Outcome, err = s.apply(ctx, shop, ev, in)
	if errors.Is(err, ports.ErrNotFound) || errors.Is(err, ports.ErrInvalid) {
		// The shop has no billing state (or no longer exists), or the
		// provider sent a state the store refuses: no retry can change
		// that. A conflict is returned instead: it may be a transient
		// lock conflict, and the provider's retry then succeeds.
		res.Outcome = OutcomeInvalid
		logDone(slog.LevelError, "billing webhook: refused by the shop's billing state; acknowledged", "error", err)
		return res, nil
	}
	if err != nil {
		return res, fmt.Errorf("billing webhook %s: %w", ev.ID, err)
	}
	logDone(slog.LevelInfo, "billing webhook")
	return res, nil
}

// ownerOf returns the customer or Connect account whose shop the event
// concerns (byAccount for an account), or "" for an event the service
// does not apply.
func ownerOf(ev ports.BillingEvent) (key string, byAccount bool) {
	switch {
	case ev.Subscription != nil:
		return ev.Subscription.CustomerID, false
	case ev.Card != nil:
		return ev.Card.CustomerID, false
	case ev.Connect != nil:
		return ev.Connect.AccountID, true
	}
	return "", false
}

// apply records and applies ev in shop's unit of work.
func (s *Service) apply(ctx context.Context, shop ports.ShopID, ev ports.BillingEvent, in WebhookInput) (Outcome, error) {
	sctx := access.With(ctx, access.Scope{Shop: shop, System: WebhookActor, RequestID: in.RequestID, IP: in.IP})
	sc, err := s.policy.Require(sctx, access.BillingManage)
	if err != nil {
		return "", err
	}
	var out Outcome
	var changed events.Event
	err = s.store.InShop(sctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		changed = events.Event{}
		fresh, err := tx.Billing().RecordEvent(ctx, ports.ProcessedEvent{ID: ev.ID, Type: ev.Type, Created: ev.Created})
		if err != nil {
			return err
		}
		if !fresh {
			out = OutcomeDuplicate
			return nil
		}
		if prunes(ev.ID) {
			if _, err := tx.Billing().DeleteEventsBefore(ctx, ev.Created.Add(-EventMemory)); err != nil {
				return err
			}
		}
		var ch ports.BillingChange
		var e record
		switch {
		case ev.Subscription != nil:
			if ch, err = tx.Billing().ApplySubscription(ctx, *ev.Subscription); err == nil {
				e = subscriptionRecord(ch.Before, ch.After)
			}
		case ev.Card != nil:
			if ch, err = tx.Billing().ApplyCard(ctx, *ev.Card); err == nil {
				e = record{action: "billing.card_updated", target: "customer:" + ch.After.CustomerID,
					before: card(ch.Before), after: card(ch.After)}
			}
		case ev.Connect != nil:
			if ch, err = tx.Billing().ApplyConnect(ctx, *ev.Connect); err == nil {
				e = record{action: "billing.connect_updated", target: "account:" + ch.After.ConnectAccountID,
					before: connect(ch.Before), after: connect(ch.After)}
			}
		}
		if err != nil {
			return err
		}
		if !ch.Applied {
			out = OutcomeStale
			return nil
		}
		out = OutcomeApplied
		e.after = map[string]any{"event": ev.ID, "type": ev.Type, "state": e.after}
		if err := s.appendAudit(ctx, tx, sc, e); err != nil {
			return err
		}
		if ev.Subscription != nil {
			changed, err = s.subscriptionChanged(ctx, tx, ch, "webhook")
		}
		return err
	})
	if err == nil {
		s.events.After(ctx, changed)
	}
	return out, err
}

// subscriptionRecord audits a subscription change; one that starts the
// retention clock is "billing.subscription_cancelled" (BIL-4).
func subscriptionRecord(before, after ports.BillingAccount) record {
	action := "billing.subscription_updated"
	if !after.CancelledAt.IsZero() && before.CancelledAt.IsZero() {
		action = "billing.subscription_cancelled"
	}
	return record{action: action, target: "subscription:" + after.SubscriptionID, before: subscription(before), after: subscription(after)}
}

func subscription(a ports.BillingAccount) map[string]any {
	m := map[string]any{"subscription": a.SubscriptionID, "status": a.SubscriptionStatus, "price": a.PriceID,
		"cancel_at_period_end": a.CancelAtPeriodEnd}
	if !a.CurrentPeriodEnd.IsZero() {
		m["current_period_end"] = a.CurrentPeriodEnd
	}
	if !a.CancelledAt.IsZero() {
		m["cancelled_at"] = a.CancelledAt
	}
	return m
}

func card(a ports.BillingAccount) map[string]string {
	return map[string]string{"brand": a.CardBrand, "last4": a.CardLast4}
}

func connect(a ports.BillingAccount) map[string]bool {
	return map[string]bool{"charges_enabled": a.ChargesEnabled, "payouts_enabled": a.PayoutsEnabled, "details_submitted": a.DetailsSubmitted}
}
