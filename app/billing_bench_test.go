package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/ports"
)

const benchSecret = "whsec_bench_0123456789abcdefgh"

// BenchmarkWebhookPostgres and BenchmarkWebhookSQLite measure verified
// Stripe webhooks processed end to end through the HTTP handler: body read
// (capped), signature verified with the SDK, event decoded, customer
// mapped to its shop, and in that shop's unit of work the event ID
// recorded (the dedupe insert), the subscription row locked and updated
// and the change audited. ns/op is per event; events/s is the rate.
//
//	apply:      a new, newer event each time (the full path)
//	duplicate:  the same event redelivered (verification, lookup and the
//	            dedupe insert that finds it: nothing else)
//	parallel:   new events for 8 shops from 8 goroutines
//
// Run with a fixed count, e.g. -benchtime=2000x.
func BenchmarkWebhookPostgres(b *testing.B) { benchmarkWebhook(b, jobBackends[1]) }

func BenchmarkWebhookSQLite(b *testing.B) { benchmarkWebhook(b, jobBackends[0]) }

func benchmarkWebhook(b *testing.B, be jobBackend) {
	st, _ := be.open(b)
	ts := seedTenants(b, st, 8)
	customers := make([]string, len(ts))
	for i, tn := range ts {
		customers[i] = fmt.Sprintf("cus_bench%d", i)
		require.NoError(b, st.InShop(context.Background(), tn.shop, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Billing().LinkCustomer(ctx, customers[i])
			return err
		}))
	}
	cfg := app.Default()
	// The API client is never called on this path; its URL goes nowhere.
	cfg.Stripe = app.StripeConfig{APIKey: "sk_test_BenchKey", APIURL: "http://127.0.0.1:1", WebhookSecrets: benchSecret}
	svc, err := app.NewBilling(cfg, app.BillingParts{Store: st})
	require.NoError(b, err)
	h := httpapi.New(httpapi.Deps{Billing: &httpapi.BillingDeps{Service: svc}})
	base := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	var seq atomic.Int64

	// event makes the n-th event for shop i, newer than the ones before.
	event := func(i int, n int64) ([]byte, string) {
		periodEnd := base.Add(30 * 24 * time.Hour).Unix()
		ev := map[string]any{
			"id": fmt.Sprintf("evt_bench%d", n), "object": "event", "type": "customer.subscription.updated",
			"created": base.Unix() + n, "livemode": false, "api_version": "2026-03-25.dahlia",
			"data": map[string]any{"object": map[string]any{
				"id": fmt.Sprintf("sub_bench%d", i), "object": "subscription", "customer": customers[i],
				"status": []string{"active", "past_due"}[n%2], "cancel_at_period_end": false,
				"metadata": map[string]any{"stockade_shop_id": ts[i].shop.String()}, "currency": "usd",
				"items": map[string]any{"object": "list", "data": []any{map[string]any{
					"id": "si_bench", "object": "subscription_item", "current_period_end": periodEnd,
					"price": map[string]any{"id": "price_Pro", "object": "price", "unit_amount": 4900, "currency": "usd"},
				}}},
			}},
		}
		payload, err := json.Marshal(ev)
		if err != nil {
			panic(err)
		}
		return payload, webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: benchSecret, Timestamp: time.Now()}).Header
	}
	post := func(payload []byte, sig string) (int, string) {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/stripe", bytes.NewReader(payload))
		req.Header.Set("Stripe-Signature", sig)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	type signed struct {
		payload []byte
		sig     string
	}
	prepare := func(n int, shop func(k int) int) []signed {
		out := make([]signed, n)
		for k := range out {
			out[k].payload, out[k].sig = event(shop(k), seq.Add(1))
		}
		return out
	}

	b.Run("apply", func(b *testing.B) {
		evs := prepare(b.N, func(int) int { return 0 })
		b.ResetTimer()
		start := time.Now()
		for k := 0; k < b.N; k++ {
			if code, body := post(evs[k].payload, evs[k].sig); code != http.StatusOK || !bytes.Contains([]byte(body), []byte(`"applied"`)) {
				b.Fatalf("event %d: %d %s", k, code, body)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	})
	b.Run("duplicate", func(b *testing.B) {
		evs := prepare(1, func(int) int { return 1 })
		if code, body := post(evs[0].payload, evs[0].sig); code != http.StatusOK {
			b.Fatalf("%d %s", code, body)
		}
		b.ResetTimer()
		start := time.Now()
		for k := 0; k < b.N; k++ {
			if code, body := post(evs[0].payload, evs[0].sig); code != http.StatusOK || !bytes.Contains([]byte(body), []byte(`"duplicate"`)) {
				b.Fatalf("redelivery %d: %d %s", k, code, body)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	})
	b.Run("parallel-8-shops", func(b *testing.B) {
		evs := prepare(b.N, func(k int) int { return k % len(ts) })
		var next atomic.Int64
		b.SetParallelism(4) // 8 goroutines on 2 cores
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				k := next.Add(1) - 1
				if code, body := post(evs[k].payload, evs[k].sig); code != http.StatusOK {
					b.Errorf("event %d: %d %s", k, code, body)
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	})
}
