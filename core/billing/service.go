// Package billing holds the billing use cases (BIL-1…BIL-4): start a
// subscription through Stripe's hosted Checkout, manage it in the billing
// portal, change the card with a SetupIntent, onboard the shop to Connect,
// read the billing state — each Owner-only by the guard and audited — and
// apply the provider's verified webhooks idempotently, never letting an
// older state overwrite a newer one. Cancellation starts the retention
// clock (LIFE-2); PastRetention lists the shops whose clock has run out.
//
// Card data never passes through here: the provider's pages and script
// take the card; the state keeps its brand and last four digits.
package billing

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/core/publish"
	"github.com/stockadehq/stockade/events"
	"github.com/stockadehq/stockade/ports"
)

// DefaultRetention is how long a cancelled shop's data stays (LIFE-2).
const DefaultRetention = 60 * 24 * time.Hour

// Deps are the service's collaborators.
type Deps struct {
	Store ports.Store // required
	// Provider is the payment provider's API; required.
	Provider ports.Billing
	// Webhooks verifies the provider's webhooks; nil refuses every
	// webhook as unauthenticated.
	Webhooks ports.BillingWebhooks
	// Policy is the permission matrix the guard checks; nil is the
	// default.
	Policy *access.Policy
	Clock  ports.Clock  // default ports.SystemClock
	Logger *slog.Logger // default discards
	// Events publishes subscription.changed to hooks after it commits
	// and to the shop's webhook endpoints in its unit of work; nil is a
	// publisher without hooks.
	Events *publish.Publisher
}

// Config holds the billing rules.
type Config struct {
	// Plans maps the plan names a caller may choose to the provider's
	// price IDs; Checkout is offered for these prices only.
	Plans map[string]string
	// Retention is how long a cancelled shop is kept (default
	// DefaultRetention).
	Retention time.Duration
	// ConnectCountry is the country of new Connect accounts (ISO
	// 3166-1 alpha-2); "" lets the provider ask during onboarding.
	ConnectCountry string
}

// Service runs the billing use cases. It is safe for concurrent use.
type Service struct {
	store    ports.Store
	provider ports.Billing
	webhooks ports.BillingWebhooks
	policy   *access.Policy
	clock    ports.Clock
	log      *slog.Logger
	events   *publish.Publisher
	cfg      Config
	planOf   map[string]string // price ID → plan name

	directory directory // customer / Connect account → shop, remembered
}

// New returns the service. ErrInvalid for a missing dependency, a plan
// name that is not 1 to 32 of a-z, 0-9, '-' and '_', a malformed price ID,
// one price under two names, or a negative retention.
func New(d Deps, cfg Config) (*Service, error) {
	if d.Store == nil || d.Provider == nil {
		return nil, ports.Invalid("billing deps", "store and provider are required")
	}
	if cfg.Retention < 0 {
		return nil, ports.Invalid("retention", "must not be negative")
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	planOf := map[string]string{}
	plans := map[string]string{}
	for name, price := range cfg.Plans {
		if err := validPlanName(name); err != nil {
			return nil, err
		}
		if err := ports.ValidatePriceID(price); err != nil {
			return nil, fmt.Errorf("plan %s: %w", name, err)
		}
		if other, dup := planOf[price]; dup {
			return nil, ports.Invalid("plans", fmt.Sprintf("plans %s and %s name the same price", other, name))
		}
		planOf[price], plans[name] = name, price
	}
	cfg.Plans = plans
	s := &Service{store: d.Store, provider: d.Provider, webhooks: d.Webhooks, policy: d.Policy, clock: d.Clock, log: d.Logger, events: d.Events, cfg: cfg, planOf: planOf}
	if s.clock == nil {
		s.clock = ports.SystemClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.events == nil {
		s.events = publish.New(publish.Deps{Clock: s.clock, Logger: s.log})
	}
	return s, nil
}

func validPlanName(name string) error {
	if name == "" || len(name) > 32 {
		return ports.Invalid("plan", "must be 1 to 32 characters")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return ports.Invalid("plan", "must be lower-case letters, digits, '-' and '_'")
		}
	}
	return nil
}

// Plans lists the plan names offered, sorted.
func (s *Service) Plans() []string {
	out := make([]string, 0, len(s.cfg.Plans))
	for name := range s.cfg.Plans {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Retention is how long a cancelled shop is kept.
func (s *Service) Retention() time.Duration { return s.cfg.Retention }

// record is an audit event about to be appended.
type record struct {
	action string
	target string
	before any // marshalled to JSON; must hold no secret
	after  any
}

// subscriptionChanged records an applied subscription change of tx's shop
// (from source "webhook" or "refresh") for its webhooks, and returns the
// event for After.
func (s *Service) subscriptionChanged(ctx context.Context, tx ports.ShopTx, ch ports.BillingChange, source string) (events.Event, error) {
	a := ch.After
	return s.events.Record(ctx, tx, events.SubscriptionChanged{
		Subscription: a.SubscriptionID, Status: string(a.SubscriptionStatus), PreviousStatus: string(ch.Before.SubscriptionStatus),
		Price: a.PriceID, Plan: s.planOf[a.PriceID], CurrentPeriodEnd: a.CurrentPeriodEnd.UTC(), CancelAtPeriodEnd: a.CancelAtPeriodEnd,
		CancelledAt: a.CancelledAt.UTC(), Source: source,
	})
}

// appendAudit appends e, by the scope's caller, to the unit of work's shop
// log so that it commits with the change it records (AUD-2).
func (s *Service) appendAudit(ctx context.Context, tx audit.Tx, sc access.Scope, e record) error {
	_, err := audit.AppendBy(ctx, tx, s.clock, sc, audit.Change{Action: e.action, Target: e.target, Before: e.before, After: e.after})
	return err
}
