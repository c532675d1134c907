package stripe_test

import (
	"context"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/stockadehq/stockade/adapters/stripe"
	"github.com/stockadehq/stockade/ports"
)

// BenchmarkVerify measures what verifying one webhook costs, on a
// customer.subscription.updated event of the size Stripe sends (~1.3 KB):
// the SDK's signature check alone (HMAC-SHA256 and the timestamp), the
// adapter's VerifyEvent (the check, then decoding), the same when the
// matching secret is the second of a roll, and refusing a forgery.
func BenchmarkVerify(b *testing.B) {
	now := time.Now()
	created := now.Add(-time.Minute)
	obj := subscriptionObject("sub_1", "cus_1", "active", created.Add(30*24*time.Hour))
	obj["metadata"] = map[string]any{"stockade_shop_id": "0193e4b2-7c3e-7aaa-8bbb-0123456789ab"}
	obj["default_payment_method"], obj["collection_method"], obj["currency"] = "pm_1PgafTB7WZ01zgkW", "charge_automatically", "usd"
	payload := eventJSON("evt_1PgafTB7WZ01zgkWq2Hd", "customer.subscription.updated", created, "", obj)
	sig := sign(payload, platformSecret, now)
	rolled := sign(payload, rolledSecret, now)
	forged := sign(payload, otherSecret, now)
	w := newWebhooks(b)
	ctx := context.Background()
	b.Logf("payload %d bytes", len(payload))

	b.Run("sdk-signature-check", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			if err := webhook.ValidatePayloadWithTolerance(payload, sig, platformSecret, stripe.DefaultTolerance); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify-and-decode", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			if _, err := w.VerifyEvent(ctx, ports.EndpointPlatform, payload, sig); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify-and-decode-second-secret", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			if _, err := w.VerifyEvent(ctx, ports.EndpointPlatform, payload, rolled); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("refuse-forgery", func(b *testing.B) {
		b.SetBytes(int64(len(payload)))
		for b.Loop() {
			if _, err := w.VerifyEvent(ctx, ports.EndpointPlatform, payload, forged); err == nil {
				b.Fatal("a forgery passed")
			}
		}
	})
}
