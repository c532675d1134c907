package ports

import (
	"context"
	"time"
)

// Billing is the payment provider's API (Stripe) as the core uses it.
// No method sends or receives card data: a card is entered on the
// provider's hosted pages (Checkout, the billing portal), or by the
// provider's own script with a SetupIntent's client secret (BIL-1).
//
// Errors: ErrInvalid when the provider refuses the request as malformed,
// ErrNotFound for an unknown object, ErrRateLimited when it asks to slow
// down, ErrUnavailable when it cannot be reached, answers 5xx or refuses
// the configured API key (a configuration fault, retried later).
// Implementations never log or return the API key, and are safe for
// concurrent use.
type Billing interface {
	// CreateCustomer creates the provider customer of a shop. Calls with
	// the same IdempotencyKey within the provider's window (Stripe: 24
	// hours) return the same customer.
	CreateCustomer(ctx context.Context, in NewCustomer) (string, error)
	// CheckoutSession starts a hosted Checkout for a subscription to one
	// price and returns the page to send the customer to.
	CheckoutSession(ctx context.Context, in CheckoutRequest) (Redirect, error)
	// PortalSession opens the hosted billing portal (change plan or card,
	// cancel, invoices) for a customer.
	PortalSession(ctx context.Context, in PortalRequest) (Redirect, error)
	// SetupIntent prepares the saving of a new card for a customer; the
	// browser confirms it with the provider's script.
	SetupIntent(ctx context.Context, in SetupRequest) (SetupIntent, error)
	// CreateConnectAccount creates a shop's Connect account (BIL-3),
	// idempotent by IdempotencyKey like CreateCustomer.
	CreateConnectAccount(ctx context.Context, in NewConnectAccount) (string, error)
	// AccountLink mints a one-time onboarding link for a Connect account.
	AccountLink(ctx context.Context, in AccountLinkRequest) (Redirect, error)
	// Subscription fetches a subscription's current state. AsOf is the
	// time of the fetch on the provider's clock (the clock of its events'
	// created times) when the provider tells it.
	Subscription(ctx context.Context, id string) (SubscriptionState, error)
	// ConnectAccount fetches a Connect account's current status (AsOf as
	// for Subscription).
	ConnectAccount(ctx context.Context, id string) (ConnectState, error)
}

// NewCustomer describes the customer to create for a shop. Only the
// shop's ID (as metadata) and display name are sent.
type NewCustomer struct {
	Shop           ShopID
	Name           string
	IdempotencyKey string
}

// CheckoutRequest starts a subscription Checkout. The URLs are absolute
// and on the shop's own host.
type CheckoutRequest struct {
	Shop           ShopID
	CustomerID     string
	PriceID        string
	SuccessURL     string
	CancelURL      string
	IdempotencyKey string
}

// PortalRequest opens the billing portal; ReturnURL is where the portal's
// "return" link leads.
type PortalRequest struct {
	CustomerID string
	ReturnURL  string
}

// SetupRequest prepares a SetupIntent for saving a card.
type SetupRequest struct {
	Shop       ShopID
	CustomerID string
}

// NewConnectAccount describes the Connect account to create for a shop.
type NewConnectAccount struct {
	Shop           ShopID
	Country        string // ISO 3166-1 alpha-2; "" lets the provider decide
	IdempotencyKey string
}

// AccountLinkRequest asks for an onboarding link. RefreshURL is visited
// when the link has expired or was used, ReturnURL when onboarding ends;
// both absolute and on the shop's own host.
type AccountLinkRequest struct {
	AccountID  string
	RefreshURL string
	ReturnURL  string
}

// Redirect is a provider page to send the browser to.
type Redirect struct {
	ID        string    // the provider's session ID, if any
	URL       string    // absolute https URL
	ExpiresAt time.Time // zero when the provider names no expiry
}

// SetupIntent is a prepared card setup. ClientSecret lets the browser
// confirm it with the provider's script: hand it to that browser only,
// never log or store it.
type SetupIntent struct {
	ID           string
	ClientSecret string
}

// BillingEndpoint names a webhook endpoint: each has its own signing
// secrets.
type BillingEndpoint string

// The webhook endpoints: events about the platform's own customers and
// subscriptions, and events from connected accounts (BIL-3).
const (
	EndpointPlatform BillingEndpoint = "platform"
	EndpointConnect  BillingEndpoint = "connect"
)

// BillingEvent is a verified provider event, decoded into the states the
// core applies. Only the fields named here are taken from the payload.
type BillingEvent struct {
	ID       string    // "evt_…"
	Type     string    // e.g. "customer.subscription.updated"
	Created  time.Time // the provider's time of the event
	Livemode bool
	// Account is the connected account an event from the Connect
	// endpoint came from.
	Account string
	// At most one of these is set, by the event's type and endpoint: a
	// subscription (customer.subscription.*) or the customer's new card
	// (payment_method.attached / .updated / .automatically_updated, card
	// payment methods only) from the platform endpoint, or a Connect
	// account's status (account.updated) from the Connect endpoint. None
	// is set for a type the core does not handle.
	Subscription *SubscriptionState
	Card         *CardState
	Connect      *ConnectState
}

// BillingWebhooks authenticates and decodes the provider's webhooks
// (BIL-2). Safe for concurrent use.
type BillingWebhooks interface {
	// VerifyEvent checks signature (the Stripe-Signature header) over the
	// raw payload against every secret configured for endpoint, and the
	// signature's timestamp against the configured tolerance, before it
	// decodes anything. ErrUnauthenticated when the signature is missing,
	// malformed, made with no configured secret, or outside the
	// tolerance; ErrInvalid when a validly signed payload is not a
	// decodable event. Replays of a validly signed event pass: the caller
	// recognises them by ID. Errors never quote the payload or a secret.
	VerifyEvent(ctx context.Context, endpoint BillingEndpoint, payload []byte, signature string) (BillingEvent, error)
}
