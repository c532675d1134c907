package stripe

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v85"

	"github.com/stockadehq/stockade/ports"
)

// Config configures the API client.
type Config struct {
	// APIKey is the platform's secret ("sk_…") or restricted ("rk_…")
	// key. Required.
	APIKey string
	// BaseURL replaces https://api.stripe.com, e.g. with a stripe-mock's
	// URL in tests. "" is Stripe.
	BaseURL string
	// HTTPClient makes the requests; nil is a client with a 30-second
	// timeout.
	HTTPClient *http.Client
	// MaxNetworkRetries is how often the SDK retries a request that
	// failed in transit or with 409/429/5xx (with the request's
	// idempotency key, so a retry never creates twice). 0 means the SDK's
	// default (2); negative means none.
	MaxNetworkRetries int
	// Clock stamps the AsOf of fetched states; nil is the system clock.
	Clock ports.Clock
}

// Client is ports.Billing on Stripe's API. It is safe for concurrent use.
type Client struct {
	sc    *stripego.Client
	clock ports.Clock
	// key is the API key, masked in error texts (see mapErr).
	key string
}

var _ ports.Billing = (*Client)(nil)

// New returns a client for cfg. ErrInvalid for a missing or malformed key
// or base URL; the error never holds the key.
func New(cfg Config) (*Client, error) {
	if !strings.HasPrefix(cfg.APIKey, "sk_") && !strings.HasPrefix(cfg.APIKey, "rk_") {
		return nil, ports.Invalid("stripe api key", "must be a secret (sk_…) or restricted (rk_…) key")
	}
	bc := &stripego.BackendConfig{
		HTTPClient:    cfg.HTTPClient,
		LeveledLogger: &stripego.LeveledLogger{Level: stripego.LevelNull},
	}
	if bc.HTTPClient == nil {
		bc.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	switch {
	case cfg.MaxNetworkRetries < 0:
		bc.MaxNetworkRetries = stripego.Int64(0)
	case cfg.MaxNetworkRetries > 0:
		bc.MaxNetworkRetries = stripego.Int64(int64(cfg.MaxNetworkRetries))
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, ports.Invalid("stripe base url", "must be an absolute http(s) URL")
		}
		bc.URL = stripego.String(strings.TrimSuffix(cfg.BaseURL, "/"))
	}
	backends := stripego.NewBackendsWithConfig(bc)
	c := &Client{sc: stripego.NewClient(cfg.APIKey, stripego.WithBackends(backends)), clock: cfg.Clock, key: cfg.APIKey}
	if c.clock == nil {
		c.clock = ports.SystemClock{}
	}
	return c, nil
}

// String keeps the key out of any log that prints the client.
func (c *Client) String() string { return "stripe.Client{key: xxxxx}" }

// GoString is String for %#v.
func (c *Client) GoString() string { return c.String() }

// shopMetadata names the shop an object belongs to, for support staff
// reading Stripe's dashboard. It is the only metadata sent.
func shopMetadata(shop ports.ShopID) map[string]string {
	if shop.IsZero() {
		return nil
	}
	return map[string]string{"stockade_shop_id": shop.String()}
}

// idempotent sets p's idempotency key when key is not empty.
func idempotent(p *stripego.Params, key string) {
	if key != "" {
		p.SetIdempotencyKey(key)
	}
}

// CreateCustomer creates a customer with the shop's name and ID only.
func (c *Client) CreateCustomer(ctx context.Context, in ports.NewCustomer) (string, error) {
	p := &stripego.CustomerCreateParams{Metadata: shopMetadata(in.Shop)}
	if in.Name != "" {
		p.Name = stripego.String(in.Name)
	}
	idempotent(&p.Params, in.IdempotencyKey)
	cus, err := c.sc.V1Customers.Create(ctx, p)
	if err != nil {
		return "", mapErr("create customer", err, c.key)
	}
	return cus.ID, nil
}

// CheckoutSession starts a hosted subscription Checkout for one price.
func (c *Client) CheckoutSession(ctx context.Context, in ports.CheckoutRequest) (ports.Redirect, error) {
	if err := ports.ValidatePriceID(in.PriceID); err != nil {
		return ports.Redirect{}, err
	}
	p := &stripego.CheckoutSessionCreateParams{
		Mode:       stripego.String(string(stripego.CheckoutSessionModeSubscription)),
		Customer:   stripego.String(in.CustomerID),
		LineItems:  []*stripego.CheckoutSessionCreateLineItemParams{{Price: stripego.String(in.PriceID), Quantity: stripego.Int64(1)}},
		SuccessURL: stripego.String(in.SuccessURL),
		CancelURL:  stripego.String(in.CancelURL),
		Metadata:   shopMetadata(in.Shop),
		SubscriptionData: &stripego.CheckoutSessionCreateSubscriptionDataParams{
			Metadata: shopMetadata(in.Shop),
		},
	}
	if !in.Shop.IsZero() {
		p.ClientReferenceID = stripego.String(in.Shop.String())
	}
	idempotent(&p.Params, in.IdempotencyKey)
	s, err := c.sc.V1CheckoutSessions.Create(ctx, p)
	if err != nil {
		return ports.Redirect{}, mapErr("create checkout session", err, c.key)
	}
	return ports.Redirect{ID: s.ID, URL: s.URL, ExpiresAt: unixTime(s.ExpiresAt)}, nil
}

// PortalSession opens the billing portal.
func (c *Client) PortalSession(ctx context.Context, in ports.PortalRequest) (ports.Redirect, error) {
	s, err := c.sc.V1BillingPortalSessions.Create(ctx, &stripego.BillingPortalSessionCreateParams{
		Customer:  stripego.String(in.CustomerID),
		ReturnURL: stripego.String(in.ReturnURL),
	})
	if err != nil {
		return ports.Redirect{}, mapErr("create portal session", err, c.key)
	}
	return ports.Redirect{ID: s.ID, URL: s.URL}, nil
}

// SetupIntent prepares saving a card for off-session use (renewals).
func (c *Client) SetupIntent(ctx context.Context, in ports.SetupRequest) (ports.SetupIntent, error) {
	si, err := c.sc.V1SetupIntents.Create(ctx, &stripego.SetupIntentCreateParams{
		Customer:           stripego.String(in.CustomerID),
		PaymentMethodTypes: []*string{stripego.String("card")},
		Usage:              stripego.String(string(stripego.SetupIntentUsageOffSession)),
		Metadata:           shopMetadata(in.Shop),
	})
	if err != nil {
		return ports.SetupIntent{}, mapErr("create setup intent", err, c.key)
	}
	return ports.SetupIntent{ID: si.ID, ClientSecret: si.ClientSecret}, nil
}

// CreateConnectAccount creates an Express account asking for card
// payments and transfers; Stripe's hosted onboarding collects the rest.
func (c *Client) CreateConnectAccount(ctx context.Context, in ports.NewConnectAccount) (string, error) {
	p := &stripego.AccountCreateParams{
		Type: stripego.String(string(stripego.AccountTypeExpress)),
		Capabilities: &stripego.AccountCreateCapabilitiesParams{
			CardPayments: &stripego.AccountCreateCapabilitiesCardPaymentsParams{Requested: stripego.Bool(true)},
			Transfers:    &stripego.AccountCreateCapabilitiesTransfersParams{Requested: stripego.Bool(true)},
		},
		Metadata: shopMetadata(in.Shop),
	}
	if in.Country != "" {
		p.Country = stripego.String(in.Country)
	}
	idempotent(&p.Params, in.IdempotencyKey)
	a, err := c.sc.V1Accounts.Create(ctx, p)
	if err != nil {
		return "", mapErr("create connect account", err, c.key)
	}
	return a.ID, nil
}

// AccountLink mints an onboarding link.
func (c *Client) AccountLink(ctx context.Context, in ports.AccountLinkRequest) (ports.Redirect, error) {
	l, err := c.sc.V1AccountLinks.Create(ctx, &stripego.AccountLinkCreateParams{
		Account:    stripego.String(in.AccountID),
		RefreshURL: stripego.String(in.RefreshURL),
		ReturnURL:  stripego.String(in.ReturnURL),
		Type:       stripego.String("account_onboarding"),
	})
	if err != nil {
		return ports.Redirect{}, mapErr("create account link", err, c.key)
	}
	return ports.Redirect{URL: l.URL, ExpiresAt: unixTime(l.ExpiresAt)}, nil
}

// Subscription fetches a subscription's current state.
func (c *Client) Subscription(ctx context.Context, id string) (ports.SubscriptionState, error) {
	if err := ports.ValidateProviderID("subscription_id", "sub_", id); err != nil {
		return ports.SubscriptionState{}, err
	}
	s, err := c.sc.V1Subscriptions.Retrieve(ctx, id, nil)
	if err != nil {
		return ports.SubscriptionState{}, mapErr("get subscription", err, c.key)
	}
	return subscriptionState(s, c.asOf(s.LastResponse)), nil
}

// ConnectAccount fetches a Connect account's current status.
func (c *Client) ConnectAccount(ctx context.Context, id string) (ports.ConnectState, error) {
	if err := ports.ValidateProviderID("account_id", "acct_", id); err != nil {
		return ports.ConnectState{}, err
	}
	a, err := c.sc.V1Accounts.GetByID(ctx, id, nil)
	if err != nil {
		return ports.ConnectState{}, mapErr("get connect account", err, c.key)
	}
	return connectState(a, c.asOf(a.LastResponse)), nil
}

// asOf is the time of a fetched object: Stripe's own clock (the answer's
// Date header, whole seconds), which is the clock its events' created
// times come from, so a fetched state and an event compare on one clock;
// the local clock when the answer has no usable Date.
func (c *Client) asOf(r *stripego.APIResponse) time.Time {
	if r != nil {
		if t, err := http.ParseTime(r.Header.Get("Date")); err == nil {
			return t.UTC()
		}
	}
	return c.clock.Now()
}

// unixTime is the time of a Unix-seconds field; 0 is the zero time.
func unixTime(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}
