package app

import (
	"fmt"
	"log/slog"
	"net/http"

	"go.uber.org/fx"

	"github.com/stockadehq/stockade/adapters/stripe"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/billing"
	"github.com/stockadehq/stockade/core/publish"
	"github.com/stockadehq/stockade/ports"
)

// BillingParts are the pieces NewBilling builds on.
type BillingParts struct {
	Store  ports.Store // required
	Logger *slog.Logger
	Clock  ports.Clock
	// Access is the permission matrix; nil is the default.
	Access *access.Policy
	// Provider and Webhooks replace the Stripe adapters that Config.Stripe
	// would build (another provider, or a test double); nil builds them.
	Provider ports.Billing
	Webhooks ports.BillingWebhooks
	// HTTPClient makes the Stripe API's requests; nil is the adapter's
	// default.
	HTTPClient *http.Client
	// Events publishes the service's events to hooks and webhooks; nil
	// is a publisher of its own without hooks (see NewEvents).
	Events *publish.Publisher
}

// NewBilling builds the billing service for cfg without fx: the Stripe
// API client and webhook verifier from cfg.Stripe (unless p supplies
// them) and core/billing over the store. It returns nil and no error when
// billing is off (no STOCKADE_STRIPE_API_KEY and no Provider in p).
// Errors name the setting, never a key or secret.
func NewBilling(cfg Config, p BillingParts) (*billing.Service, error) {
	sc := cfg.Stripe
	if !sc.Enabled() && p.Provider == nil {
		return nil, nil
	}
	provider, hooks := p.Provider, p.Webhooks
	if provider == nil {
		c, err := stripe.New(stripe.Config{APIKey: sc.APIKey, BaseURL: sc.APIURL, HTTPClient: p.HTTPClient, Clock: p.Clock})
		if err != nil {
			return nil, fmt.Errorf("billing: STOCKADE_STRIPE_API_KEY or STOCKADE_STRIPE_API_URL: %w", err)
		}
		provider = c
	}
	if hooks == nil && (sc.WebhookSecrets != "" || sc.ConnectWebhookSecrets != "") {
		w, err := stripe.NewWebhooks(stripe.WebhookConfig{
			PlatformSecrets: splitSecrets(sc.WebhookSecrets), ConnectSecrets: splitSecrets(sc.ConnectWebhookSecrets),
			Tolerance: sc.WebhookTolerance,
		})
		if err != nil {
			return nil, fmt.Errorf("billing: STOCKADE_STRIPE_WEBHOOK_SECRETS: %w", err)
		}
		hooks = w
	}
	plans, err := parsePlans(sc.Plans)
	if err != nil {
		return nil, err
	}
	svc, err := billing.New(billing.Deps{
		Store: p.Store, Provider: provider, Webhooks: hooks, Policy: p.Access, Clock: p.Clock, Logger: p.Logger, Events: p.Events,
	}, billing.Config{Plans: plans, Retention: sc.Retention(), ConnectCountry: sc.ConnectCountry})
	if err != nil {
		return nil, fmt.Errorf("billing: %w", err)
	}
	return svc, nil
}

// BillingModule provides the *billing.Service (see NewBilling), nil when
// billing is off. A ports.Billing or ports.BillingWebhooks in the graph
// replaces the Stripe adapter.
func BillingModule() fx.Option {
	type params struct {
		fx.In
		Config   Config
		Store    ports.Store
		Logger   *slog.Logger
		Access   *access.Policy
		Provider ports.Billing         `optional:"true"`
		Webhooks ports.BillingWebhooks `optional:"true"`
		Events   *publish.Publisher    `optional:"true"`
	}
	return fx.Module("stockade.billing", fx.Provide(func(p params) (*billing.Service, error) {
		return NewBilling(p.Config, BillingParts{Store: p.Store, Logger: p.Logger, Access: p.Access, Provider: p.Provider, Webhooks: p.Webhooks, Events: p.Events})
	}))
}
