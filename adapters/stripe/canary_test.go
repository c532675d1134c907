package stripe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/stripe"
	"github.com/stockadehq/stockade/internal/canary"
	"github.com/stockadehq/stockade/ports"
)

// TestStripeAnswersEchoingTheKeyLeakNothing is issue 16's canary over the
// Stripe client: an answer whose message, parameter, code or request ID
// echoes the secret API key (a hostile or broken endpoint, a proxy page),
// or no answer at all, leaves the key out of every error text.
func TestStripeAnswersEchoingTheKeyLeakNothing(t *testing.T) {
	const key = "sk_test_CanaryStripeKey0123456789"
	for _, c := range []struct {
		name   string
		status int
		answer string
	}{
		{"key refused, echoed", 401, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: ` + key + `"}}`},
		{"param echoing the key", 400, `{"error":{"type":"invalid_request_error","code":"parameter_unknown","param":"` + key + `","message":"x"}}`},
		{"code echoing the key", 402, `{"error":{"type":"card_error","code":"` + key + `","message":"x"}}`},
		{"proxy page", 502, `<html>Bad Gateway for ` + key + `</html>`},
		{"unreachable", 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink := canary.New(t)
			sink.Secret("the Stripe API key", key)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Request-Id", "req_"+key)
				w.WriteHeader(c.status)
				_, _ = w.Write([]byte(c.answer))
			}))
			if c.status == 0 {
				srv.Close()
			} else {
				t.Cleanup(srv.Close)
			}
			cl, err := stripe.New(stripe.Config{APIKey: key, BaseURL: srv.URL, HTTPClient: &http.Client{Timeout: 5 * time.Second}})
			require.NoError(t, err)
			shop := ports.NewShopID()
			_, err = cl.CreateCustomer(context.Background(), ports.NewCustomer{Shop: shop, Name: "Acme", IdempotencyKey: "customer-" + shop.String()})
			require.Error(t, err)
			sink.SeenError("the error of CreateCustomer", err)
		})
	}
}
