package httpapi_test

// The billing part of the test harness: the billing service over a real
// stripe-mock (every outgoing request recorded), the Stripe webhook
// verifier with test secrets, webhook events signed the way Stripe signs
// them (the SDK's test-signing helper: HMAC-SHA256 over "t.payload"), and
// a log sink that collects the zap and slog lines of every request.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v85/webhook"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/stockadehq/stockade/adapters/stripe"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/billing"
	"github.com/stockadehq/stockade/internal/canary"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
)

const (
	whPlatformSecret = "whsec_matrix_platform_0123456789"
	whConnectSecret  = "whsec_matrix_connect_01234567890"
	whForeignSecret  = "whsec_not_configured_0123456789"
)

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Sync() error { return nil }

// String returns everything logged so far.
func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Lines returns the log lines so far.
func (s *syncBuffer) Lines() []string {
	return strings.Split(strings.TrimSpace(s.String()), "\n")
}

// zapTo and slogTo log at debug level to w.
func zapTo(w io.Writer) *zap.Logger {
	return zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(w), zapcore.DebugLevel))
}

func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// stripeRecorder keeps every request sent to Stripe (stripe-mock), body
// included.
type stripeRecorder struct {
	mu   sync.Mutex
	reqs []string
}

func (r *stripeRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	var hdr strings.Builder
	_ = req.Header.Write(&hdr)
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Method+" "+req.URL.String()+"\n"+hdr.String()+"\n"+string(body))
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *stripeRecorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

// billingKit is what a world needs to build billing services.
type billingKit struct {
	mock     testinfra.StripeMock
	reqs     *stripeRecorder
	logs     *syncBuffer // the world's log sink, shared with the API
	webhooks *stripe.Webhooks
	// canary, when set, also receives the billing service's log.
	canary *canary.Sink
}

// newBillingKit builds billing services on mock, logging to logs.
func newBillingKit(t *testing.T, mock testinfra.StripeMock, logs *syncBuffer) *billingKit {
	t.Helper()
	return &billingKit{mock: mock, reqs: &stripeRecorder{}, logs: logs, webhooks: testWebhooks(t)}
}

// testWebhooks is the Stripe webhook verifier with the test secrets.
func testWebhooks(t *testing.T) *stripe.Webhooks {
	t.Helper()
	wh, err := stripe.NewWebhooks(stripe.WebhookConfig{PlatformSecrets: []string{whPlatformSecret}, ConnectSecrets: []string{whConnectSecret}})
	require.NoError(t, err)
	return wh
}

// testPlans are the plans every test billing service sells.
func testPlans() billing.Config {
	return billing.Config{Plans: map[string]string{"pro": "price_Pro", "plus": "price_Plus"}}
}

// service builds a billing service over store with policy, the Stripe
// client on the kit's stripe-mock.
func (k *billingKit) service(t *testing.T, store ports.Store, policy *access.Policy, clock ports.Clock) *billing.Service {
	t.Helper()
	c, err := stripe.New(stripe.Config{APIKey: k.mock.Key, BaseURL: k.mock.URL, HTTPClient: &http.Client{Transport: k.reqs, Timeout: 10 * time.Second}, Clock: clock})
	require.NoError(t, err)
	var logs io.Writer = k.logs
	if k.canary != nil {
		logs = io.MultiWriter(k.logs, k.canary)
	}
	svc, err := billing.New(billing.Deps{Store: store, Provider: c, Webhooks: k.webhooks, Policy: policy, Clock: clock, Logger: slogTo(logs)}, testPlans())
	require.NoError(t, err)
	return svc
}

// unreachableBillingService is a billing service whose Stripe client
// points at no server, built only to list the routes billing adds to an
// API (see matrixWorld.skipLeftOutBillingRoutes); an API over it must
// serve nothing.
func unreachableBillingService(t *testing.T, store ports.Store, policy *access.Policy, clock ports.Clock) *billing.Service {
	t.Helper()
	c, err := stripe.New(stripe.Config{APIKey: "sk_test_unreachable", BaseURL: "http://127.0.0.1:9", Clock: clock})
	require.NoError(t, err)
	svc, err := billing.New(billing.Deps{Store: store, Provider: c, Webhooks: testWebhooks(t), Policy: policy, Clock: clock, Logger: slogTo(io.Discard)}, testPlans())
	require.NoError(t, err)
	return svc
}

// stripeEvent is a Stripe event's JSON as Stripe sends it.
func stripeEvent(id, typ string, created time.Time, account string, object map[string]any) []byte {
	e := map[string]any{"id": id, "object": "event", "type": typ, "created": created.Unix(), "livemode": false,
		"api_version": "2026-03-25.dahlia", "pending_webhooks": 1, "request": map[string]any{"id": nil, "idempotency_key": nil},
		"data": map[string]any{"object": object}}
	if account != "" {
		e["account"] = account
	}
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	return b
}

// subObject is a subscription object of customer.
func subObject(id, customer, status string, periodEnd time.Time) map[string]any {
	return map[string]any{"id": id, "object": "subscription", "customer": customer, "status": status,
		"cancel_at_period_end": false, "canceled_at": nil, "ended_at": nil,
		"metadata":    map[string]any{},
		"description": nil,
		"items": map[string]any{"object": "list", "data": []any{map[string]any{
			"id": "si_" + id[4:], "object": "subscription_item", "current_period_end": periodEnd.Unix(),
			"price": map[string]any{"id": "price_Pro", "object": "price", "unit_amount": 4900, "currency": "usd"},
		}}}}
}

// cardObject is a card payment method of customer.
func cardObject(customer, brand, last4 string) map[string]any {
	return map[string]any{"id": "pm_" + last4 + brand, "object": "payment_method", "type": "card", "customer": customer,
		"card":            map[string]any{"brand": brand, "last4": last4, "exp_month": 12, "exp_year": 2034, "country": "US", "funding": "credit"},
		"billing_details": map[string]any{"name": "Payer", "email": "payer@example.test"}}
}

// accountObject is a Connect account's status.
func accountObject(id string, charges, payouts, details bool) map[string]any {
	return map[string]any{"id": id, "object": "account", "type": "express", "charges_enabled": charges,
		"payouts_enabled": payouts, "details_submitted": details}
}

// stripeSignature signs payload with secret at ts, as Stripe does.
func stripeSignature(payload []byte, secret string, ts time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: ts}).Header
}

// postWebhook posts payload to path with the Stripe-Signature sig (none
// when sig is ""), from no particular host, and returns status and body.
func postWebhook(t testing.TB, h http.Handler, path string, payload []byte, sig string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(payload))
	req.Host = "hooks.example.test"
	req.RemoteAddr = "198.51.100.7:443"
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if sig != "" {
		req.Header.Set("Stripe-Signature", sig)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// deliver posts a validly signed event to the platform (or, with an
// account, the Connect) endpoint and requires a 200.
func deliver(t testing.TB, h http.Handler, payload []byte, connect bool) string {
	t.Helper()
	path, secret := "/webhooks/stripe", whPlatformSecret
	if connect {
		path, secret = "/webhooks/stripe/connect", whConnectSecret
	}
	code, body := postWebhook(t, h, path, payload, stripeSignature(payload, secret, time.Now()))
	require.Equal(t, http.StatusOK, code, body)
	var out struct {
		Outcome string `json:"outcome"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &out), body)
	return out.Outcome
}

// billingOf reads shop's billing state through the store (zero when none).
func billingOf(t testing.TB, st ports.Store, shop ports.ShopID) ports.BillingAccount {
	t.Helper()
	var a ports.BillingAccount
	err := st.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		a, err = tx.Billing().Get(ctx)
		if errors.Is(err, ports.ErrNotFound) {
			return nil
		}
		return err
	}, ports.ReadOnly())
	require.NoError(t, err)
	return a
}

// fmtBilling renders a billing state for before/after comparisons.
func fmtBilling(a ports.BillingAccount) string {
	return fmt.Sprintf("billing %s %s %s %s %s %v %s %s %s %v %v %v %s", a.CustomerID, a.SubscriptionID, a.SubscriptionStatus,
		a.PriceID, a.CurrentPeriodEnd, a.CancelAtPeriodEnd, a.CardBrand, a.CardLast4, a.ConnectAccountID,
		a.ChargesEnabled, a.PayoutsEnabled, a.DetailsSubmitted, a.CancelledAt)
}
