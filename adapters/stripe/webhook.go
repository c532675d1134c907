package stripe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/stockadehq/stockade/ports"
)

// DefaultTolerance is how far a webhook signature's timestamp may lie in
// the past: Stripe's own default, five minutes.
const DefaultTolerance = webhook.DefaultTolerance

// WebhookConfig holds the endpoints' signing secrets ("whsec_…"). Each
// endpoint accepts every secret listed, so a secret is rolled by adding
// the new one, waiting for Stripe to sign with it, and removing the old.
type WebhookConfig struct {
	PlatformSecrets []string
	ConnectSecrets  []string
	// Tolerance bounds the age of a signature's timestamp; 0 is
	// DefaultTolerance.
	Tolerance time.Duration
}

// Webhooks is ports.BillingWebhooks on the SDK's webhook package. It is
// safe for concurrent use.
type Webhooks struct {
	secrets   map[ports.BillingEndpoint][]string
	tolerance time.Duration
}

var _ ports.BillingWebhooks = (*Webhooks)(nil)

// NewWebhooks returns the verifier for cfg. ErrInvalid for a secret that
// is not a Stripe signing secret, a negative tolerance, or no secret at
// all; errors never hold a secret.
func NewWebhooks(cfg WebhookConfig) (*Webhooks, error) {
	w := &Webhooks{secrets: map[ports.BillingEndpoint][]string{}, tolerance: cfg.Tolerance}
	if w.tolerance < 0 {
		return nil, ports.Invalid("webhook tolerance", "must not be negative")
	}
	if w.tolerance == 0 {
		w.tolerance = DefaultTolerance
	}
	for ep, list := range map[ports.BillingEndpoint][]string{ports.EndpointPlatform: cfg.PlatformSecrets, ports.EndpointConnect: cfg.ConnectSecrets} {
		for i, s := range list {
			if !strings.HasPrefix(s, "whsec_") || len(s) < len("whsec_")+16 {
				return nil, ports.Invalid(fmt.Sprintf("%s webhook secret %d", ep, i+1), "must be a Stripe signing secret (whsec_…)")
			}
			w.secrets[ep] = append(w.secrets[ep], s)
		}
	}
	if len(w.secrets) == 0 {
		return nil, ports.Invalid("webhook secrets", "at least one is needed")
	}
	return w, nil
}

// String keeps the secrets out of any log that prints the verifier.
func (w *Webhooks) String() string { return "stripe.Webhooks{secrets: xxxxx}" }

// GoString is String for %#v.
func (w *Webhooks) GoString() string { return w.String() }

// Endpoints lists the endpoints that have secrets.
func (w *Webhooks) Endpoints() []ports.BillingEndpoint {
	var out []ports.BillingEndpoint
	for _, ep := range []ports.BillingEndpoint{ports.EndpointPlatform, ports.EndpointConnect} {
		if len(w.secrets[ep]) > 0 {
			out = append(out, ep)
		}
	}
	return out
}

// VerifyEvent implements ports.BillingWebhooks: the SDK's
// ValidatePayloadWithTolerance against each of the endpoint's secrets in
// turn, and only after one of them matched, the payload is decoded.
func (w *Webhooks) VerifyEvent(_ context.Context, endpoint ports.BillingEndpoint, payload []byte, signature string) (ports.BillingEvent, error) {
	secrets := w.secrets[endpoint]
	if len(secrets) == 0 {
		return ports.BillingEvent{}, fmt.Errorf("stripe webhook: no secret configured for the %s endpoint: %w", endpoint, ports.ErrUnauthenticated)
	}
	if err := verify(payload, signature, secrets, w.tolerance); err != nil {
		return ports.BillingEvent{}, err
	}
	return decodeEvent(endpoint, payload)
}

// verify returns nil when signature is a valid signature of payload by
// one of secrets within tolerance.
func verify(payload []byte, signature string, secrets []string, tolerance time.Duration) error {
	var last error
	for _, secret := range secrets {
		err := webhook.ValidatePayloadWithTolerance(payload, signature, secret, tolerance)
		if err == nil {
			return nil
		}
		last = err
		if !errors.Is(err, webhook.ErrNoValidSignature) {
			break // a missing or malformed header, or a stale timestamp, is so for every secret
		}
	}
	reason := "no valid signature"
	switch {
	case errors.Is(last, webhook.ErrNotSigned):
		reason = "no Stripe-Signature header"
	case errors.Is(last, webhook.ErrInvalidHeader):
		reason = "malformed Stripe-Signature header"
	case errors.Is(last, webhook.ErrTooOld):
		reason = "signature timestamp outside the tolerance"
	}
	return fmt.Errorf("stripe webhook: %s: %w", reason, ports.ErrUnauthenticated)
}

// subscriptionEvents, cardEvents: the event types whose object the core
// applies.
var (
	subscriptionEvents = map[string]bool{
		"customer.subscription.created": true, "customer.subscription.updated": true,
		"customer.subscription.deleted": true, "customer.subscription.paused": true,
		"customer.subscription.resumed": true, "customer.subscription.pending_update_applied": true,
		"customer.subscription.pending_update_expired": true, "customer.subscription.trial_will_end": true,
	}
	cardEvents = map[string]bool{
		"payment_method.attached": true, "payment_method.updated": true, "payment_method.automatically_updated": true,
	}
)

// envelope is the part of a Stripe event read before its object: the
// SDK's Event would also decode the object into a generic map, which
// costs more than the rest of the event together. The object itself is
// decoded into the SDK's own type for the event's type.
type envelope struct {
	ID       string `json:"id"`
	Object   string `json:"object"`
	Type     string `json:"type"`
	Created  int64  `json:"created"`
	Livemode bool   `json:"livemode"`
	Account  string `json:"account"`
	Data     struct {
		Raw json.RawMessage `json:"object"`
	} `json:"data"`
}

// decodeEvent decodes a verified payload. ErrInvalid for one that is not
// an event, or whose object does not match its type; the error never
// quotes the payload.
func decodeEvent(endpoint ports.BillingEndpoint, payload []byte) (ports.BillingEvent, error) {
	invalid := func(why string) error {
		return fmt.Errorf("stripe webhook: validly signed, but %s: %w", why, ports.Invalid("event", why))
	}
	var e envelope
	if err := json.Unmarshal(payload, &e); err != nil {
		return ports.BillingEvent{}, invalid("not JSON of an event")
	}
	if e.Object != "event" || ports.ValidateProviderID("event id", "evt_", e.ID) != nil || e.Type == "" || e.Created <= 0 || len(e.Data.Raw) == 0 {
		return ports.BillingEvent{}, invalid("not an event")
	}
	switch {
	case endpoint == ports.EndpointConnect && ports.ValidateProviderID("account", "acct_", e.Account) != nil:
		return ports.BillingEvent{}, invalid("a Connect event names no account")
	case endpoint == ports.EndpointPlatform && e.Account != "":
		return ports.BillingEvent{}, invalid("a platform event names a connected account")
	}
	out := ports.BillingEvent{
		ID: e.ID, Type: e.Type, Created: time.Unix(e.Created, 0).UTC(), Livemode: e.Livemode, Account: e.Account,
	}
	// The platform's own billing comes from the platform endpoint only; a
	// connected account's events about its own customers are its business,
	// never the shop's subscription or card.
	switch t, platform := e.Type, endpoint == ports.EndpointPlatform; {
	case subscriptionEvents[t] && platform:
		var s stripego.Subscription
		if err := json.Unmarshal(e.Data.Raw, &s); err != nil || s.ID == "" {
			return ports.BillingEvent{}, invalid("its object is not a subscription")
		}
		st := subscriptionState(&s, out.Created)
		out.Subscription = &st
	case cardEvents[t] && platform:
		var pm stripego.PaymentMethod
		if err := json.Unmarshal(e.Data.Raw, &pm); err != nil || pm.ID == "" {
			return ports.BillingEvent{}, invalid("its object is not a payment method")
		}
		if c, ok := cardState(&pm, out.Created); ok {
			out.Card = &c
		}
	case t == "account.updated" && endpoint == ports.EndpointConnect:
		var a stripego.Account
		if err := json.Unmarshal(e.Data.Raw, &a); err != nil || a.ID == "" {
			return ports.BillingEvent{}, invalid("its object is not an account")
		}
		if a.ID != e.Account {
			return ports.BillingEvent{}, invalid("its account is not the one it came from")
		}
		c := connectState(&a, out.Created)
		out.Connect = &c
	}
	return out, nil
}
