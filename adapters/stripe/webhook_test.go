package stripe_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/stockadehq/stockade/adapters/stripe"
	"github.com/stockadehq/stockade/ports"
)

const (
	platformSecret = "whsec_platform_0123456789abcdef"
	rolledSecret   = "whsec_platform_new_fedcba987654"
	connectSecret  = "whsec_connect_0123456789abcdefg"
	otherSecret    = "whsec_someone_else_0123456789ab"
)

func newWebhooks(t testing.TB) *stripe.Webhooks {
	t.Helper()
	w, err := stripe.NewWebhooks(stripe.WebhookConfig{PlatformSecrets: []string{platformSecret, rolledSecret}, ConnectSecrets: []string{connectSecret}})
	require.NoError(t, err)
	return w
}

// sign returns the Stripe-Signature header for payload by secret at ts,
// made with the SDK's test-signing helper (HMAC-SHA256 over "t.payload").
func sign(payload []byte, secret string, ts time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: ts}).Header
}

// eventJSON is an event of type around object.
func eventJSON(id, typ string, created time.Time, account string, object any) []byte {
	e := map[string]any{"id": id, "object": "event", "type": typ, "created": created.Unix(), "livemode": false,
		"api_version": "2026-03-25.dahlia", "data": map[string]any{"object": object}}
	if account != "" {
		e["account"] = account
	}
	b, _ := json.Marshal(e)
	return b
}

func subscriptionObject(id, customer, status string, periodEnd time.Time) map[string]any {
	return map[string]any{"id": id, "object": "subscription", "customer": customer, "status": status,
		"cancel_at_period_end": true, "canceled_at": nil, "ended_at": nil,
		"items": map[string]any{"object": "list", "data": []any{
			map[string]any{"id": "si_1", "object": "subscription_item", "current_period_end": periodEnd.Unix(),
				"price": map[string]any{"id": "price_Pro", "object": "price"}},
		}}}
}

func TestVerifyEvent(t *testing.T) {
	w := newWebhooks(t)
	ctx := context.Background()
	now := time.Now()
	created := now.Add(-time.Minute).Truncate(time.Second)
	periodEnd := created.Add(30 * 24 * time.Hour)
	body := eventJSON("evt_1", "customer.subscription.updated", created, "", subscriptionObject("sub_1", "cus_1", "past_due", periodEnd))

	t.Run("ValidSubscriptionEvent", func(t *testing.T) {
		ev, err := w.VerifyEvent(ctx, ports.EndpointPlatform, body, sign(body, platformSecret, now))
		require.NoError(t, err)
		assert.Equal(t, ports.BillingEvent{
			ID: "evt_1", Type: "customer.subscription.updated", Created: created.UTC(),
			Subscription: &ports.SubscriptionState{ID: "sub_1", CustomerID: "cus_1", Status: ports.SubscriptionPastDue,
				PriceID: "price_Pro", CurrentPeriodEnd: periodEnd.UTC(), CancelAtPeriodEnd: true, AsOf: created.UTC()},
		}, ev)
	})

	t.Run("EverySecretOfTheEndpointIsAccepted", func(t *testing.T) {
		_, err := w.VerifyEvent(ctx, ports.EndpointPlatform, body, sign(body, rolledSecret, now))
		require.NoError(t, err, "the rolled-in secret")
		both := sign(body, otherSecret, now) + ",v1=" + strings.Split(sign(body, rolledSecret, now), "v1=")[1]
		_, err = w.VerifyEvent(ctx, ports.EndpointPlatform, body, both)
		require.NoError(t, err, "Stripe signs with old and new secrets during a roll")
	})

	t.Run("ForgeriesAreUnauthenticated", func(t *testing.T) {
		tampered := []byte(strings.Replace(string(body), "past_due", "active", 1))
		tests := map[string]struct {
			endpoint ports.BillingEndpoint
			payload  []byte
			sig      string
		}{
			"no signature":          {ports.EndpointPlatform, body, ""},
			"malformed header":      {ports.EndpointPlatform, body, "v1"},
			"garbage signature":     {ports.EndpointPlatform, body, fmt.Sprintf("t=%d,v1=%s", now.Unix(), strings.Repeat("ab", 32))},
			"another secret":        {ports.EndpointPlatform, body, sign(body, otherSecret, now)},
			"the Connect secret":    {ports.EndpointPlatform, body, sign(body, connectSecret, now)},
			"the platform's on Con": {ports.EndpointConnect, body, sign(body, platformSecret, now)},
			"tampered body":         {ports.EndpointPlatform, tampered, sign(body, platformSecret, now)},
			"stale":                 {ports.EndpointPlatform, body, sign(body, platformSecret, now.Add(-6*time.Minute))},
			"v0 scheme only":        {ports.EndpointPlatform, body, strings.Replace(sign(body, platformSecret, now), "v1=", "v0=", 1)},
			"unknown endpoint":      {ports.BillingEndpoint("other"), body, sign(body, platformSecret, now)},
		}
		for name, tt := range tests {
			_, err := w.VerifyEvent(ctx, tt.endpoint, tt.payload, tt.sig)
			require.ErrorIs(t, err, ports.ErrUnauthenticated, name)
			assert.NotContains(t, err.Error(), "whsec_", name)
			assert.NotContains(t, err.Error(), "past_due", "%s: the error does not quote the payload", name)
		}
	})

	t.Run("ToleranceIsConfigurable", func(t *testing.T) {
		strict, err := stripe.NewWebhooks(stripe.WebhookConfig{PlatformSecrets: []string{platformSecret}, Tolerance: 30 * time.Second})
		require.NoError(t, err)
		_, err = strict.VerifyEvent(ctx, ports.EndpointPlatform, body, sign(body, platformSecret, now.Add(-time.Minute)))
		require.ErrorIs(t, err, ports.ErrUnauthenticated)
		_, err = w.VerifyEvent(ctx, ports.EndpointPlatform, body, sign(body, platformSecret, now.Add(-time.Minute)))
		require.NoError(t, err, "within the default five minutes")
	})

	t.Run("ValidlySignedButNotAnEventIsInvalid", func(t *testing.T) {
		for name, payload := range map[string][]byte{
			"malformed JSON":         []byte(`{"id":"evt_1","object":"event",`),
			"not an event":           []byte(`{"id":"cus_1","object":"customer"}`),
			"no data":                []byte(`{"id":"evt_1","object":"event","type":"x.y","created":1}`),
			"object of another type": eventJSON("evt_2", "customer.subscription.updated", created, "", map[string]any{"id": 5}),
			"platform event with account": eventJSON("evt_3", "customer.subscription.updated", created, "acct_1",
				subscriptionObject("sub_1", "cus_1", "active", periodEnd)),
		} {
			_, err := w.VerifyEvent(ctx, ports.EndpointPlatform, payload, sign(payload, platformSecret, now))
			require.ErrorIs(t, err, ports.ErrInvalid, name)
			assert.NotContains(t, err.Error(), "cus_1", name)
		}
	})

	t.Run("UnhandledTypesCarryNoState", func(t *testing.T) {
		payload := eventJSON("evt_4", "invoice.paid", created, "", map[string]any{"id": "in_1", "object": "invoice", "customer": "cus_1"})
		ev, err := w.VerifyEvent(ctx, ports.EndpointPlatform, payload, sign(payload, platformSecret, now))
		require.NoError(t, err)
		assert.Equal(t, "invoice.paid", ev.Type)
		assert.Nil(t, ev.Subscription)
		assert.Nil(t, ev.Card)
		assert.Nil(t, ev.Connect)
	})

	t.Run("CardsYieldBrandAndLastFourOnly", func(t *testing.T) {
		pm := map[string]any{"id": "pm_1", "object": "payment_method", "type": "card", "customer": "cus_1",
			"card":            map[string]any{"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2034, "fingerprint": "fp_x", "country": "US"},
			"billing_details": map[string]any{"email": "payer@example.com", "name": "Payer"}}
		payload := eventJSON("evt_5", "payment_method.attached", created, "", pm)
		ev, err := w.VerifyEvent(ctx, ports.EndpointPlatform, payload, sign(payload, platformSecret, now))
		require.NoError(t, err)
		assert.Equal(t, &ports.CardState{CustomerID: "cus_1", Brand: "visa", Last4: "4242", AsOf: created.UTC()}, ev.Card)

		pm["type"], pm["card"] = "us_bank_account", nil
		payload = eventJSON("evt_6", "payment_method.attached", created, "", pm)
		ev, err = w.VerifyEvent(ctx, ports.EndpointPlatform, payload, sign(payload, platformSecret, now))
		require.NoError(t, err)
		assert.Nil(t, ev.Card, "not a card")
	})

	t.Run("ConnectAccountUpdated", func(t *testing.T) {
		acct := map[string]any{"id": "acct_1", "object": "account", "charges_enabled": true, "payouts_enabled": false, "details_submitted": true}
		payload := eventJSON("evt_7", "account.updated", created, "acct_1", acct)
		ev, err := w.VerifyEvent(ctx, ports.EndpointConnect, payload, sign(payload, connectSecret, now))
		require.NoError(t, err)
		assert.Equal(t, "acct_1", ev.Account)
		assert.Equal(t, &ports.ConnectState{AccountID: "acct_1", ChargesEnabled: true, DetailsSubmitted: true, AsOf: created.UTC()}, ev.Connect)

		// A connected account's own subscriptions and cards are not the
		// shop's billing.
		sub := eventJSON("evt_11", "customer.subscription.deleted", created, "acct_1", subscriptionObject("sub_1", "cus_1", "canceled", periodEnd))
		ev, err = w.VerifyEvent(ctx, ports.EndpointConnect, sub, sign(sub, connectSecret, now))
		require.NoError(t, err)
		assert.Nil(t, ev.Subscription, "a Connect subscription event carries no state")
		pmEv := eventJSON("evt_12", "payment_method.attached", created, "acct_1", map[string]any{"id": "pm_1", "object": "payment_method", "type": "card", "customer": "cus_1", "card": map[string]any{"brand": "visa", "last4": "4242"}})
		ev, err = w.VerifyEvent(ctx, ports.EndpointConnect, pmEv, sign(pmEv, connectSecret, now))
		require.NoError(t, err)
		assert.Nil(t, ev.Card)

		for name, payload := range map[string][]byte{
			"names no account":      eventJSON("evt_8", "account.updated", created, "", acct),
			"about another account": eventJSON("evt_9", "account.updated", created, "acct_2", acct),
		} {
			_, err := w.VerifyEvent(ctx, ports.EndpointConnect, payload, sign(payload, connectSecret, now))
			require.ErrorIs(t, err, ports.ErrInvalid, name)
		}
	})

	t.Run("EndedSubscriptionsCarryTheirEnd", func(t *testing.T) {
		obj := subscriptionObject("sub_1", "cus_1", "canceled", periodEnd)
		obj["canceled_at"], obj["ended_at"] = created.Add(-time.Hour).Unix(), created.Add(-30*time.Minute).Unix()
		payload := eventJSON("evt_10", "customer.subscription.deleted", created, "", obj)
		ev, err := w.VerifyEvent(ctx, ports.EndpointPlatform, payload, sign(payload, platformSecret, now))
		require.NoError(t, err)
		assert.Equal(t, created.Add(-30*time.Minute).UTC(), ev.Subscription.EndedAt)
	})
}

func TestNewWebhooksRefusesBadSecrets(t *testing.T) {
	for name, cfg := range map[string]stripe.WebhookConfig{
		"none":            {},
		"not a secret":    {PlatformSecrets: []string{"sk_live_0123456789abcdef0123"}},
		"too short":       {ConnectSecrets: []string{"whsec_x"}},
		"negative window": {PlatformSecrets: []string{platformSecret}, Tolerance: -time.Second},
	} {
		_, err := stripe.NewWebhooks(cfg)
		require.ErrorIs(t, err, ports.ErrInvalid, name)
		assert.NotContains(t, err.Error(), "0123456789", name)
	}
	w := newWebhooks(t)
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", w, w, w), "whsec_")
	assert.Equal(t, []ports.BillingEndpoint{ports.EndpointPlatform, ports.EndpointConnect}, w.Endpoints())
}
