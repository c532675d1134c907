package stripe_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/stripe"
	"github.com/stockadehq/stockade/internal/pan"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
)

// captured is one request as it went on the wire.
type captured struct {
	method, path string
	header       http.Header
	form         url.Values
	raw          string
}

// recorder is a RoundTripper that keeps a copy of every request.
type recorder struct {
	mu   sync.Mutex
	reqs []captured
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	form, _ := url.ParseQuery(string(body))
	r.mu.Lock()
	r.reqs = append(r.reqs, captured{method: req.Method, path: req.URL.Path, header: req.Header.Clone(), form: form, raw: req.URL.String() + "\n" + string(body)})
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) last(t *testing.T) captured {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.NotEmpty(t, r.reqs)
	return r.reqs[len(r.reqs)-1]
}

// newClient returns a client on a real stripe-mock whose requests are
// recorded.
func newClient(t *testing.T) (*stripe.Client, *recorder) {
	t.Helper()
	sm := testinfra.StartStripeMock(t)
	rec := &recorder{}
	c, err := stripe.New(stripe.Config{APIKey: sm.Key, BaseURL: sm.URL, HTTPClient: &http.Client{Transport: rec, Timeout: 10 * time.Second}})
	require.NoError(t, err)
	return c, rec
}

// TestClientAgainstStripeMock runs every API call of the adapter against
// stripe-mock, which refuses any request that does not match Stripe's
// OpenAPI specification, and checks what went on the wire.
func TestClientAgainstStripeMock(t *testing.T) {
	c, rec := newClient(t)
	ctx := context.Background()
	shop := ports.NewShopID()

	t.Run("CreateCustomer", func(t *testing.T) {
		id, err := c.CreateCustomer(ctx, ports.NewCustomer{Shop: shop, Name: "Acme Plumbing", IdempotencyKey: "customer-" + shop.String()})
		require.NoError(t, err)
		assert.Regexp(t, `^cus_\w+$`, id)
		req := rec.last(t)
		assert.Equal(t, "POST /v1/customers", req.method+" "+req.path)
		assert.Equal(t, "customer-"+shop.String(), req.header.Get("Idempotency-Key"))
		assert.Equal(t, url.Values{"name": {"Acme Plumbing"}, "metadata[stockade_shop_id]": {shop.String()}}, req.form,
			"only the shop's name and ID are sent")
	})

	t.Run("CheckoutSession", func(t *testing.T) {
		r, err := c.CheckoutSession(ctx, ports.CheckoutRequest{
			Shop: shop, CustomerID: "cus_123", PriceID: "price_Pro",
			SuccessURL: "https://acme.example.com/billing?checkout=success", CancelURL: "https://acme.example.com/billing?checkout=cancelled",
			IdempotencyKey: "checkout-1",
		})
		require.NoError(t, err)
		assert.Regexp(t, `^cs_`, r.ID)
		assert.True(t, strings.HasPrefix(r.URL, "https://"), r.URL)
		req := rec.last(t)
		assert.Equal(t, "POST /v1/checkout/sessions", req.method+" "+req.path)
		assert.Equal(t, "subscription", req.form.Get("mode"))
		assert.Equal(t, "cus_123", req.form.Get("customer"))
		assert.Equal(t, "price_Pro", req.form.Get("line_items[0][price]"))
		assert.Equal(t, "1", req.form.Get("line_items[0][quantity]"))
		assert.Equal(t, shop.String(), req.form.Get("client_reference_id"))
		assert.Equal(t, "https://acme.example.com/billing?checkout=success", req.form.Get("success_url"))
		assert.Equal(t, "checkout-1", req.header.Get("Idempotency-Key"))

		n := len(rec.reqs)
		_, err = c.CheckoutSession(ctx, ports.CheckoutRequest{CustomerID: "cus_123", PriceID: "4242424242424242", SuccessURL: "https://x", CancelURL: "https://x"})
		require.ErrorIs(t, err, ports.ErrInvalid)
		assert.Len(t, rec.reqs, n, "a malformed price is refused before any request")
	})

	t.Run("PortalSession", func(t *testing.T) {
		r, err := c.PortalSession(ctx, ports.PortalRequest{CustomerID: "cus_123", ReturnURL: "https://acme.example.com/billing"})
		require.NoError(t, err)
		assert.Regexp(t, `^bps_`, r.ID)
		assert.NotEmpty(t, r.URL)
		req := rec.last(t)
		assert.Equal(t, "POST /v1/billing_portal/sessions", req.method+" "+req.path)
		assert.Equal(t, url.Values{"customer": {"cus_123"}, "return_url": {"https://acme.example.com/billing"}}, req.form)
	})

	t.Run("SetupIntent", func(t *testing.T) {
		si, err := c.SetupIntent(ctx, ports.SetupRequest{Shop: shop, CustomerID: "cus_123"})
		require.NoError(t, err)
		assert.Regexp(t, `^seti_`, si.ID)
		assert.Contains(t, si.ClientSecret, "_secret_")
		req := rec.last(t)
		assert.Equal(t, "POST /v1/setup_intents", req.method+" "+req.path)
		assert.Equal(t, "card", req.form.Get("payment_method_types[0]"))
		assert.Equal(t, "off_session", req.form.Get("usage"))
	})

	t.Run("ConnectAccountAndLink", func(t *testing.T) {
		id, err := c.CreateConnectAccount(ctx, ports.NewConnectAccount{Shop: shop, Country: "US", IdempotencyKey: "acct-" + shop.String()})
		require.NoError(t, err)
		assert.Regexp(t, `^acct_`, id)
		req := rec.last(t)
		assert.Equal(t, "POST /v1/accounts", req.method+" "+req.path)
		assert.Equal(t, "express", req.form.Get("type"))
		assert.Equal(t, "true", req.form.Get("capabilities[transfers][requested]"))
		assert.Equal(t, "acct-"+shop.String(), req.header.Get("Idempotency-Key"))

		l, err := c.AccountLink(ctx, ports.AccountLinkRequest{AccountID: id, RefreshURL: "https://acme.example.com/billing/connect/refresh", ReturnURL: "https://acme.example.com/billing?connect=return"})
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(l.URL, "https://"), l.URL)
		req = rec.last(t)
		assert.Equal(t, "POST /v1/account_links", req.method+" "+req.path)
		assert.Equal(t, "account_onboarding", req.form.Get("type"))
		assert.Equal(t, id, req.form.Get("account"))

		st, err := c.ConnectAccount(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, id, st.AccountID)
		assert.False(t, st.AsOf.IsZero())
		assert.Equal(t, "GET /v1/accounts/"+id, rec.last(t).method+" "+rec.last(t).path)
	})

	t.Run("Subscription", func(t *testing.T) {
		st, err := c.Subscription(ctx, "sub_123")
		require.NoError(t, err)
		assert.Equal(t, "sub_123", st.ID)
		assert.Regexp(t, `^cus_`, st.CustomerID)
		assert.True(t, st.Status.Valid(), "status %q", st.Status)
		assert.False(t, st.CurrentPeriodEnd.IsZero(), "the period end is read from the items")
		assert.NoError(t, st.Validate())
		_, err = c.Subscription(ctx, "../customers")
		require.ErrorIs(t, err, ports.ErrInvalid, "an ID cannot steer the request path")
	})

	t.Run("NoCardDataOnTheWire", func(t *testing.T) {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for _, r := range rec.reqs {
			assert.Empty(t, pan.Find(r.raw), "%s %s", r.method, r.path)
			for name := range r.form {
				assert.NotRegexp(t, `(?i)number|cvc|exp_|card\[`, name, "%s %s sends card fields", r.method, r.path)
			}
		}
	})
}

func TestClientErrors(t *testing.T) {
	t.Run("BadKeyIsRefusedWithoutEchoingIt", func(t *testing.T) {
		_, err := stripe.New(stripe.Config{APIKey: "pk_live_publishable_not_secret"})
		require.ErrorIs(t, err, ports.ErrInvalid)
		assert.NotContains(t, err.Error(), "publishable_not_secret")
	})

	t.Run("UnreachableIsUnavailable", func(t *testing.T) {
		const key = "sk_test_secret_value_never_shown"
		c, err := stripe.New(stripe.Config{APIKey: key, BaseURL: "http://127.0.0.1:1", MaxNetworkRetries: -1})
		require.NoError(t, err)
		_, err = c.CreateCustomer(context.Background(), ports.NewCustomer{Name: "x"})
		require.ErrorIs(t, err, ports.ErrUnavailable)
		assert.NotContains(t, err.Error(), key)
		assert.NotContains(t, fmt.Sprintf("%v %+v %#v", c, c, c), key, "printing the client shows no key")
	})
}
