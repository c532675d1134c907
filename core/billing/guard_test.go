package billing_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/billing"
	"github.com/stockadehq/stockade/ports"
)

// untouchable is a store that fails the test if anything reaches it.
type untouchable struct{ t *testing.T }

func (s untouchable) InShop(context.Context, ports.ShopID, func(context.Context, ports.ShopTx) error, ...ports.TxOption) error {
	s.t.Error("InShop reached")
	return ports.ErrUnavailable
}

func (s untouchable) Global(context.Context, func(context.Context, ports.GlobalTx) error, ...ports.TxOption) error {
	s.t.Error("Global reached")
	return ports.ErrUnavailable
}
func (untouchable) Ping(context.Context) error { return nil }
func (untouchable) Close() error               { return nil }

// unreachable is a provider that fails the test if anything reaches it.
type unreachable struct{ t *testing.T }

func (p unreachable) fail() error { p.t.Error("the provider was reached"); return ports.ErrUnavailable }
func (p unreachable) CreateCustomer(context.Context, ports.NewCustomer) (string, error) {
	return "", p.fail()
}
func (p unreachable) CheckoutSession(context.Context, ports.CheckoutRequest) (ports.Redirect, error) {
	return ports.Redirect{}, p.fail()
}
func (p unreachable) PortalSession(context.Context, ports.PortalRequest) (ports.Redirect, error) {
	return ports.Redirect{}, p.fail()
}
func (p unreachable) SetupIntent(context.Context, ports.SetupRequest) (ports.SetupIntent, error) {
	return ports.SetupIntent{}, p.fail()
}
func (p unreachable) CreateConnectAccount(context.Context, ports.NewConnectAccount) (string, error) {
	return "", p.fail()
}
func (p unreachable) AccountLink(context.Context, ports.AccountLinkRequest) (ports.Redirect, error) {
	return ports.Redirect{}, p.fail()
}
func (p unreachable) Subscription(context.Context, string) (ports.SubscriptionState, error) {
	return ports.SubscriptionState{}, p.fail()
}
func (p unreachable) ConnectAccount(context.Context, string) (ports.ConnectState, error) {
	return ports.ConnectState{}, p.fail()
}

// refusing is a webhook verifier that refuses everything as a forgery.
type refusing struct{}

func (refusing) VerifyEvent(context.Context, ports.BillingEndpoint, []byte, string) (ports.BillingEvent, error) {
	return ports.BillingEvent{}, ports.ErrUnauthenticated
}

func newService(t *testing.T) *billing.Service {
	t.Helper()
	svc, err := billing.New(billing.Deps{Store: untouchable{t}, Provider: unreachable{t}, Webhooks: refusing{}},
		billing.Config{Plans: map[string]string{"pro": "price_Pro"}})
	require.NoError(t, err)
	return svc
}

// calls are every use case that acts for a caller.
func calls(svc *billing.Service, ctx context.Context) map[string]func() error {
	url := "https://acme.example.com/billing"
	return map[string]func() error{
		"State": func() error { _, err := svc.State(ctx); return err },
		"StartCheckout": func() error {
			_, err := svc.StartCheckout(ctx, billing.CheckoutInput{Plan: "pro", SuccessURL: url, CancelURL: url})
			return err
		},
		"OpenPortal": func() error { _, err := svc.OpenPortal(ctx, url); return err },
		"ChangeCard": func() error { _, err := svc.ChangeCard(ctx); return err },
		"ConnectOnboarding": func() error {
			_, err := svc.ConnectOnboarding(ctx, billing.OnboardingInput{RefreshURL: url, ReturnURL: url})
			return err
		},
		"PastRetention": func() error { _, err := svc.PastRetention(ctx, 10); return err },
		"Refresh":       func() error { _, err := svc.Refresh(ctx); return err },
	}
}

// TestUseCasesFailClosedWithoutAScope: with no scope every use case is
// refused before it touches the store or the provider.
func TestUseCasesFailClosedWithoutAScope(t *testing.T) {
	for name, call := range calls(newService(t), context.Background()) {
		require.ErrorIs(t, call(), ports.ErrUnauthenticated, name)
	}
}

// TestBillingIsOwnerOnly: every other role, an HQ visitor (an Admin) and an
// impersonated Admin are refused before anything is reached; PastRetention
// refuses even an Owner (it reads across shops: system scopes only).
func TestBillingIsOwnerOnly(t *testing.T) {
	svc := newService(t)
	shop := ports.NewShopID()
	for _, sc := range []access.Scope{
		{Shop: shop, User: ports.NewUserID(), Role: ports.RoleAdmin},
		{Shop: shop, User: ports.NewUserID(), Role: ports.RoleTech},
		{Shop: shop, User: ports.NewUserID(), Role: ports.RoleSales},
		{Shop: shop, User: ports.NewUserID(), Role: ports.RoleViewer},
		{Shop: shop, User: ports.NewUserID(), Role: ports.RoleAdmin, HQ: true},
		{Shop: shop, User: ports.NewUserID(), Role: ports.RoleAdmin, Impersonator: "operator:x"},
	} {
		for name, call := range calls(svc, access.With(context.Background(), sc)) {
			require.ErrorIs(t, call(), ports.ErrForbidden, "%s as %s (%s)", name, sc.Role, sc.Kind())
		}
	}
	owner := access.With(context.Background(), access.Scope{Shop: shop, User: ports.NewUserID(), Role: ports.RoleOwner})
	_, err := svc.PastRetention(owner, 10)
	require.ErrorIs(t, err, ports.ErrForbidden)

	// An operator impersonating an Owner may not act on billing: no
	// subscriptions, portal, card or Connect payouts on the Owner's behalf.
	imp := access.With(context.Background(), access.Scope{Shop: shop, User: ports.NewUserID(), Role: ports.RoleOwner, Impersonator: "operator:x"})
	for name, call := range calls(svc, imp) {
		if name == "State" {
			continue // reading is allowed, and would reach the store
		}
		require.ErrorIs(t, call(), ports.ErrForbidden, "%s under impersonation", name)
	}
}

func TestWebhooksRefuseForgeriesBeforeTheStore(t *testing.T) {
	svc := newService(t)
	_, err := svc.HandleWebhook(context.Background(), billing.WebhookInput{Endpoint: ports.EndpointPlatform, Payload: []byte(`{}`)})
	require.ErrorIs(t, err, ports.ErrUnauthenticated)

	none, err := billing.New(billing.Deps{Store: untouchable{t}, Provider: unreachable{t}}, billing.Config{})
	require.NoError(t, err)
	_, err = none.HandleWebhook(context.Background(), billing.WebhookInput{Endpoint: ports.EndpointPlatform, Payload: []byte(`{}`), Signature: "t=1,v1=00"})
	require.ErrorIs(t, err, ports.ErrUnauthenticated, "with no verifier every webhook is refused")
}

func TestNewRefusesBadPlans(t *testing.T) {
	for name, plans := range map[string]map[string]string{
		"bad name":   {"Pro Plan": "price_1"},
		"bad price":  {"pro": "prod_1"},
		"same price": {"pro": "price_1", "plus": "price_1"},
	} {
		_, err := billing.New(billing.Deps{Store: untouchable{t}, Provider: unreachable{t}}, billing.Config{Plans: plans})
		require.ErrorIs(t, err, ports.ErrInvalid, name)
	}
	svc := newService(t)
	assert.Equal(t, []string{"pro"}, svc.Plans())
	assert.Equal(t, billing.DefaultRetention, svc.Retention())
}
