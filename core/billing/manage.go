package billing

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// State is a shop's billing as the caller sees it.
type State struct {
	ports.BillingAccount
	// Plan names the subscription's price among Config.Plans ("" when it
	// is none of them, or there is no subscription).
	Plan string
	// RetentionEndsAt is when a cancelled shop's data may go (LIFE-2);
	// zero while the shop is not cancelled.
	RetentionEndsAt time.Time
}

func (s *Service) state(a ports.BillingAccount) State {
	st := State{BillingAccount: a, Plan: s.planOf[a.PriceID]}
	if !a.CancelledAt.IsZero() {
		st.RetentionEndsAt = a.CancelledAt.Add(s.cfg.Retention)
	}
	return st
}

// State returns the caller's shop's billing (access.BillingRead): the
// zero state when it has none yet.
func (s *Service) State(ctx context.Context) (State, error) {
	sc, err := s.policy.Require(ctx, access.BillingRead)
	if err != nil {
		return State{}, err
	}
	a, err := s.account(ctx, sc.Shop)
	if err != nil {
		return State{}, fmt.Errorf("billing state: %w", err)
	}
	return s.state(a), nil
}

// requireManage is the guard of the billing changes: access.BillingManage,
// and the caller's own — an operator impersonating an Owner may look
// (billing.read) but not subscribe, open the portal, change the card or
// onboard the shop to Connect (where payouts are sent), which are the
// Owner's decisions alone.
func (s *Service) requireManage(ctx context.Context) (access.Scope, error) {
	sc, err := s.policy.Require(ctx, access.BillingManage)
	if err != nil {
		return access.Scope{}, err
	}
	if sc.Impersonator != "" {
		return access.Scope{}, fmt.Errorf("%s is not lent to an impersonating operator: %w", access.BillingManage, ports.ErrForbidden)
	}
	return sc, nil
}

// MayManage answers nil when the caller may manage the shop's billing
// (access.BillingManage, not lent to an impersonating operator), else the
// guard's error. It reads and changes nothing: pages that only lead to a
// billing action (the Connect refresh page) check with it.
func (s *Service) MayManage(ctx context.Context) error {
	_, err := s.requireManage(ctx)
	return err
}

// account reads shop's billing state; the zero account when it has none.
func (s *Service) account(ctx context.Context, shop ports.ShopID) (ports.BillingAccount, error) {
	var a ports.BillingAccount
	err := s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		a, err = tx.Billing().Get(ctx)
		if errors.Is(err, ports.ErrNotFound) {
			return nil
		}
		return err
	}, ports.ReadOnly())
	return a, err
}

// CheckoutInput starts a subscription. The URLs are absolute and on the
// shop's own host: the HTTP layer builds them from configuration, never
// from the request.
type CheckoutInput struct {
	Plan       string
	SuccessURL string
	CancelURL  string
}

// StartCheckout starts a hosted Checkout for a subscription to one of
// the configured plans and returns the page to send the browser to
// (access.BillingManage). The shop's provider customer is created first
// when it has none. ErrInvalid for an unknown plan or a bad URL;
// ErrConflict when the shop already has a live subscription (change plans
// in the billing portal). The card is entered on the provider's page; the
// subscription becomes the shop's through the provider's webhooks.
func (s *Service) StartCheckout(ctx context.Context, in CheckoutInput) (ports.Redirect, error) {
	sc, err := s.requireManage(ctx)
	if err != nil {
		return ports.Redirect{}, err
	}
	price, ok := s.cfg.Plans[in.Plan]
	if !ok {
		return ports.Redirect{}, ports.Invalid("plan", "not a plan on offer")
	}
	if err := absoluteURLs(in.SuccessURL, in.CancelURL); err != nil {
		return ports.Redirect{}, err
	}
	a, err := s.ensureCustomer(ctx, sc)
	if err != nil {
		return ports.Redirect{}, fmt.Errorf("start checkout: %w", err)
	}
	if a.Subscribed() && a.SubscriptionStatus != ports.SubscriptionIncomplete {
		return ports.Redirect{}, fmt.Errorf("start checkout: the shop has a %s subscription; change it in the billing portal: %w", a.SubscriptionStatus, ports.ErrConflict)
	}
	r, err := s.provider.CheckoutSession(ctx, ports.CheckoutRequest{
		Shop: sc.Shop, CustomerID: a.CustomerID, PriceID: price, SuccessURL: in.SuccessURL, CancelURL: in.CancelURL,
	})
	if err != nil {
		return ports.Redirect{}, fmt.Errorf("start checkout: %w", err)
	}
	err = s.audited(ctx, sc, record{action: "billing.checkout_started", target: "customer:" + a.CustomerID,
		after: map[string]string{"plan": in.Plan, "price": price, "session": r.ID}})
	if err != nil {
		return ports.Redirect{}, fmt.Errorf("start checkout: %w", err)
	}
	return r, nil
}

// OpenPortal opens the provider's billing portal for the caller's shop
// (access.BillingManage): change plan or card, cancel, invoices.
// returnURL is where its "return" link leads. ErrConflict when the shop
// has no provider customer yet (start a subscription first).
func (s *Service) OpenPortal(ctx context.Context, returnURL string) (ports.Redirect, error) {
	sc, err := s.requireManage(ctx)
	if err != nil {
		return ports.Redirect{}, err
	}
	if err := absoluteURLs(returnURL); err != nil {
		return ports.Redirect{}, err
	}
	a, err := s.account(ctx, sc.Shop)
	if err != nil {
		return ports.Redirect{}, fmt.Errorf("open portal: %w", err)
	}
	if a.CustomerID == "" {
		return ports.Redirect{}, fmt.Errorf("open portal: the shop has no billing account yet; start a subscription first: %w", ports.ErrConflict)
	}
	r, err := s.provider.PortalSession(ctx, ports.PortalRequest{CustomerID: a.CustomerID, ReturnURL: returnURL})
	if err != nil {
		return ports.Redirect{}, fmt.Errorf("open portal: %w", err)
	}
	if err := s.audited(ctx, sc, record{action: "billing.portal_opened", target: "customer:" + a.CustomerID}); err != nil {
		return ports.Redirect{}, fmt.Errorf("open portal: %w", err)
	}
	return r, nil
}

// ChangeCard prepares the saving of a new card (access.BillingManage) and
// returns the SetupIntent whose client secret the browser hands to the
// provider's script, which collects the card. The new card's brand and
// last four digits arrive with the provider's webhook. The client secret
// is for that browser only: it is neither stored nor audited.
func (s *Service) ChangeCard(ctx context.Context) (ports.SetupIntent, error) {
	sc, err := s.requireManage(ctx)
	if err != nil {
		return ports.SetupIntent{}, err
	}
	a, err := s.ensureCustomer(ctx, sc)
	if err != nil {
		return ports.SetupIntent{}, fmt.Errorf("change card: %w", err)
	}
	si, err := s.provider.SetupIntent(ctx, ports.SetupRequest{Shop: sc.Shop, CustomerID: a.CustomerID})
	if err != nil {
		return ports.SetupIntent{}, fmt.Errorf("change card: %w", err)
	}
	if err := s.audited(ctx, sc, record{action: "billing.card_change_started", target: "customer:" + a.CustomerID,
		after: map[string]string{"setup_intent": si.ID}}); err != nil {
		return ports.SetupIntent{}, fmt.Errorf("change card: %w", err)
	}
	return si, nil
}

// OnboardingInput asks for a Connect onboarding link; both URLs are
// absolute and on the shop's own host.
type OnboardingInput struct {
	RefreshURL string // where an expired or used link leads: it should mint a new one
	ReturnURL  string // where the browser returns when onboarding ends
}

// ConnectOnboarding creates the shop's Connect account when it has none
// and mints a one-time onboarding link to it (access.BillingManage,
// BIL-3). The account's status follows from the provider's account.updated
// webhooks.
func (s *Service) ConnectOnboarding(ctx context.Context, in OnboardingInput) (ports.Redirect, error) {
	sc, err := s.requireManage(ctx)
	if err != nil {
		return ports.Redirect{}, err
	}
	if err := absoluteURLs(in.RefreshURL, in.ReturnURL); err != nil {
		return ports.Redirect{}, err
	}
	a, err := s.ensureConnectAccount(ctx, sc)
	if err != nil {
		return ports.Redirect{}, fmt.Errorf("connect onboarding: %w", err)
	}
	r, err := s.provider.AccountLink(ctx, ports.AccountLinkRequest{AccountID: a.ConnectAccountID, RefreshURL: in.RefreshURL, ReturnURL: in.ReturnURL})
	if err != nil {
		return ports.Redirect{}, fmt.Errorf("connect onboarding: %w", err)
	}
	if err := s.audited(ctx, sc, record{action: "billing.connect_link_created", target: "account:" + a.ConnectAccountID}); err != nil {
		return ports.Redirect{}, fmt.Errorf("connect onboarding: %w", err)
	}
	return r, nil
}

// ensureCustomer returns the shop's billing state with a provider
// customer, creating and linking one (audited "billing.customer_created")
// when it has none. The provider call carries an idempotency key of the
// shop, so two concurrent first calls get one customer.
func (s *Service) ensureCustomer(ctx context.Context, sc access.Scope) (ports.BillingAccount, error) {
	return s.ensure(ctx, sc, "customer", func(a ports.BillingAccount) string { return a.CustomerID },
		func(ctx context.Context, shop ports.Shop) (string, error) {
			return s.provider.CreateCustomer(ctx, ports.NewCustomer{Shop: shop.ID, Name: shop.Name, IdempotencyKey: "stockade-customer-" + shop.ID.String()})
		},
		func(ctx context.Context, r ports.BillingRepo, id string) (ports.BillingAccount, error) {
			return r.LinkCustomer(ctx, id)
		})
}

// ensureConnectAccount is ensureCustomer for the Connect account
// ("billing.connect_account_created").
func (s *Service) ensureConnectAccount(ctx context.Context, sc access.Scope) (ports.BillingAccount, error) {
	return s.ensure(ctx, sc, "connect_account", func(a ports.BillingAccount) string { return a.ConnectAccountID },
		func(ctx context.Context, shop ports.Shop) (string, error) {
			return s.provider.CreateConnectAccount(ctx, ports.NewConnectAccount{Shop: shop.ID, Country: s.cfg.ConnectCountry, IdempotencyKey: "stockade-connect-" + shop.ID.String()})
		},
		func(ctx context.Context, r ports.BillingRepo, id string) (ports.BillingAccount, error) {
			return r.LinkConnectAccount(ctx, id)
		})
}

// ensure reads the shop's state and returns it when have(state) is set;
// otherwise it creates the object at the provider (outside any unit of
// work: a network call must not hold the shop's rows) and links it,
// auditing the creation, in one unit of work.
func (s *Service) ensure(ctx context.Context, sc access.Scope, what string, have func(ports.BillingAccount) string,
	create func(context.Context, ports.Shop) (string, error), link func(context.Context, ports.BillingRepo, string) (ports.BillingAccount, error)) (ports.BillingAccount, error) {
	var a ports.BillingAccount
	var shop ports.Shop
	err := s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		if shop, err = tx.ThisShop().Get(ctx); err != nil {
			return err
		}
		a, err = tx.Billing().Get(ctx)
		if errors.Is(err, ports.ErrNotFound) {
			return nil
		}
		return err
	}, ports.ReadOnly())
	if err != nil {
		return ports.BillingAccount{}, err
	}
	if have(a) != "" {
		return a, nil
	}
	id, err := create(ctx, shop)
	if err != nil {
		return ports.BillingAccount{}, err
	}
	err = s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		before, err := tx.Billing().Get(ctx)
		if err != nil && !errors.Is(err, ports.ErrNotFound) {
			return err
		}
		if a, err = link(ctx, tx.Billing(), id); err != nil {
			return err
		}
		if have(before) == id {
			return nil // a concurrent call linked it (same idempotency key): audited there
		}
		return s.appendAudit(ctx, tx, sc, record{action: "billing." + what + "_created", target: "shop:" + sc.Shop.String(),
			after: map[string]string{what: id}})
	})
	if err != nil {
		return ports.BillingAccount{}, fmt.Errorf("link %s: %w", what, err)
	}
	return a, nil
}

// audited appends e to the scope's shop log in its own unit of work: for
// actions whose effect is at the provider (a session opened), recorded
// once it happened.
func (s *Service) audited(ctx context.Context, sc access.Scope, e record) error {
	return s.store.InShop(ctx, sc.Shop, func(ctx context.Context, tx ports.ShopTx) error {
		return s.appendAudit(ctx, tx, sc, e)
	})
}

// absoluteURLs refuses anything but absolute http(s) URLs with a host.
func absoluteURLs(raws ...string) error {
	for _, raw := range raws {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return ports.Invalid("url", "must be an absolute http(s) URL")
		}
	}
	return nil
}
