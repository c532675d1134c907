package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/internal/pan"
	"github.com/stockadehq/stockade/ports"
)

// billingEvents returns the billing.* events of shop's audit log.
func billingEvents(t testing.TB, st ports.Store, shop ports.ShopID) []ports.AuditEvent {
	t.Helper()
	var out []ports.AuditEvent
	err := st.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		evs, err := tx.Audit().List(ctx, ports.AuditQuery{Limit: 1000})
		for _, e := range evs {
			if strings.HasPrefix(e.Action, "billing.") {
				out = append(out, e)
			}
		}
		return err
	}, ports.ReadOnly())
	require.NoError(t, err)
	return out
}

func actions(evs []ports.AuditEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Action
	}
	return out
}

// getJSON sends a request as cookie on alpha's host and decodes a 200.
func (a *matrixAPI) callJSON(t *testing.T, method, path, cookie, body string, want int) map[string]any {
	t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	res := a.send(method, path, "alpha", cookie, body, ct)
	raw := readBody(t, res)
	require.Equal(t, want, res.StatusCode, "%s %s: %s", method, path, raw)
	var out map[string]any
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/") {
		require.NoError(t, json.Unmarshal([]byte(raw), &out), raw)
	}
	return out
}

// linkAlpha gives alpha a Stripe customer through the owner's checkout.
func linkAlpha(t *testing.T, w *matrixWorld, a *matrixAPI) (cookie, customer string) {
	t.Helper()
	cookie, _ = w.signIn(a, "alpha", w.byRole[ports.RoleOwner].Email)
	a.callJSON(t, "POST", "/billing/checkout", cookie, `{"plan":"pro"}`, http.StatusOK)
	customer = billingOf(t, w.raw, w.alpha.ID).CustomerID
	require.NotEmpty(t, customer)
	return cookie, customer
}

// TestBillingOverHTTP walks the Owner's billing flows through the API on
// stripe-mock and signed webhooks: checkout (creating the customer),
// the subscription arriving by webhook, a card, the portal, the card
// change, Connect onboarding and its status, and the audit trail.
func TestBillingOverHTTP(t *testing.T) {
	w := newBillingMatrixWorld(t, false)
	a := w.api(access.DefaultPolicy())
	owner, _ := w.signIn(a, "alpha", w.byRole[ports.RoleOwner].Email)

	st := a.callJSON(t, "GET", "/billing", owner, "", http.StatusOK)
	assert.Equal(t, map[string]any{"cancel_at_period_end": false, "plans": []any{"plus", "pro"}}, st, "no billing yet")

	a.callJSON(t, "POST", "/billing/portal", owner, "", http.StatusConflict) // no customer yet
	a.callJSON(t, "POST", "/billing/checkout", owner, `{"plan":"platinum"}`, http.StatusBadRequest)
	out := a.callJSON(t, "POST", "/billing/checkout", owner, `{"plan":"pro"}`, http.StatusOK)
	assert.True(t, strings.HasPrefix(out["url"].(string), "https://"), out)
	assert.Regexp(t, `^cs_`, out["id"])
	cus := billingOf(t, w.raw, w.alpha.ID).CustomerID
	assert.Regexp(t, `^cus_`, cus)
	reqs := w.bill.reqs.all()
	require.NotEmpty(t, reqs)
	assert.Contains(t, reqs[len(reqs)-1], "success_url=https%3A%2F%2Falpha.example.test%2Fbilling%3Fcheckout%3Dsuccess",
		"Checkout returns to the shop's own host")

	created := time.Now().Add(-time.Minute).Truncate(time.Second)
	periodEnd := created.Add(30 * 24 * time.Hour)
	require.Equal(t, "applied", deliver(t, a.api, stripeEvent("evt_alphaSub1", "customer.subscription.created", created, "",
		subObject("sub_alpha1", cus, "active", periodEnd)), false))
	require.Equal(t, "applied", deliver(t, a.api, stripeEvent("evt_alphaCard1", "payment_method.attached", created, "",
		cardObject(cus, "mastercard", "4444")), false))
	st = a.callJSON(t, "GET", "/billing", owner, "", http.StatusOK)
	assert.Equal(t, "pro", st["plan"])
	assert.Equal(t, "active", st["status"])
	assert.Equal(t, "sub_alpha1", st["subscription_id"])
	assert.Equal(t, periodEnd.UTC().Format(time.RFC3339), st["current_period_end"])
	assert.Equal(t, map[string]any{"brand": "mastercard", "last4": "4444"}, st["card"])

	a.callJSON(t, "POST", "/billing/checkout", owner, `{"plan":"plus"}`, http.StatusConflict) // subscribed: use the portal
	out = a.callJSON(t, "POST", "/billing/portal", owner, "", http.StatusOK)
	assert.NotEmpty(t, out["url"])
	out = a.callJSON(t, "POST", "/billing/card", owner, "", http.StatusOK)
	assert.Regexp(t, `^seti_`, out["setup_intent"])
	assert.Contains(t, out["client_secret"], "_secret_")

	out = a.callJSON(t, "POST", "/billing/connect", owner, "", http.StatusOK)
	assert.True(t, strings.HasPrefix(out["url"].(string), "https://"), out)
	acct := billingOf(t, w.raw, w.alpha.ID).ConnectAccountID
	assert.Regexp(t, `^acct_`, acct)
	res := a.send("POST", "/billing/connect/refresh", "alpha", owner, "", "")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.True(t, strings.HasPrefix(res.Header.Get("Location"), "https://"), res.Header.Get("Location"))
	require.Equal(t, "applied", deliver(t, a.api, stripeEvent("evt_alphaAcct1", "account.updated", created, acct,
		accountObject(acct, true, false, true)), true))
	st = a.callJSON(t, "GET", "/billing", owner, "", http.StatusOK)
	assert.Equal(t, map[string]any{"account_id": acct, "charges_enabled": true, "payouts_enabled": false, "details_submitted": true}, st["connect"])

	assert.Equal(t, []string{
		"billing.customer_created", "billing.checkout_started", "billing.subscription_updated", "billing.card_updated",
		"billing.portal_opened", "billing.card_change_started",
		"billing.connect_account_created", "billing.connect_link_created", "billing.connect_link_created", "billing.connect_updated",
	}, actions(billingEvents(t, w.raw, w.alpha.ID)))
	for _, e := range billingEvents(t, w.raw, w.alpha.ID) {
		assert.NotContains(t, string(e.After), "_secret_", "%s: no client secret in the audit log", e.Action)
	}

	// Billing is the Owner's: every other role is refused by the guard.
	for _, role := range []ports.Role{ports.RoleAdmin, ports.RoleTech, ports.RoleSales, ports.RoleViewer} {
		c, _ := w.signIn(a, "alpha", w.byRole[role].Email)
		a.callJSON(t, "GET", "/billing", c, "", http.StatusForbidden)
		a.callJSON(t, "POST", "/billing/portal", c, "", http.StatusForbidden)
	}
}

// TestStripeWebhookAttacks (acceptance 2, and the bad input): real
// signatures made in the test; forgeries are 400 and change nothing;
// replays, stale and out-of-order events, unknown customers, unhandled
// types, malformed JSON under a valid signature and an over-long body
// are acknowledged and change nothing; an event about bravo's customer
// touches bravo only. No log line carries the payload.
func TestStripeWebhookAttacks(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			w := newBillingMatrixWorld(t, pg)
			a := w.api(access.DefaultPolicy())
			_, cus := linkAlpha(t, w, a)
			base := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
			const marker = "payload-secret-marker-Zx81"
			sub := func(id, status string, at time.Time) []byte {
				o := subObject("sub_alpha", cus, status, at.Add(30*24*time.Hour))
				o["metadata"] = map[string]any{"note": marker}
				return stripeEvent(id, "customer.subscription.updated", at, "", o)
			}
			state := func() string { return fmtBilling(billingOf(t, w.raw, w.alpha.ID)) }
			audits := func() int { return len(billingEvents(t, w.raw, w.alpha.ID)) }

			newer := sub("evt_newer", "past_due", base.Add(2*time.Minute))
			require.Equal(t, "applied", deliver(t, a.api, newer, false))
			after := state()
			require.Contains(t, after, "past_due")
			n := audits()

			t.Run("Forgeries", func(t *testing.T) {
				forged := sub("evt_forged", "active", base.Add(time.Hour))
				now := time.Now()
				for what, sig := range map[string]string{
					"no signature":     "",
					"wrong signature":  fmt.Sprintf("t=%d,v1=%s", now.Unix(), strings.Repeat("0f", 32)),
					"another secret":   stripeSignature(forged, whForeignSecret, now),
					"stale":            stripeSignature(forged, whPlatformSecret, now.Add(-6*time.Minute)),
					"malformed header": "t=abc,v1",
				} {
					code, body := postWebhook(t, a.api, "/webhooks/stripe", forged, sig)
					assert.Equal(t, http.StatusBadRequest, code, "%s: %s", what, body)
				}
				assert.Equal(t, after, state())
				assert.Equal(t, n, audits())
			})

			t.Run("Replay", func(t *testing.T) {
				assert.Equal(t, "duplicate", deliver(t, a.api, newer, false), "the same event again")
				assert.Equal(t, after, state())
				assert.Equal(t, n, audits(), "no second audit event")
			})

			t.Run("OutOfOrder", func(t *testing.T) {
				older := sub("evt_older", "active", base.Add(time.Minute))
				assert.Equal(t, "stale", deliver(t, a.api, older, false), "an older update after a newer one")
				assert.Equal(t, after, state(), "status did not regress")
				assert.Equal(t, "duplicate", deliver(t, a.api, older, false), "a stale event is recorded as processed")
				assert.Equal(t, n, audits())
			})

			t.Run("AnotherShopsCustomer", func(t *testing.T) {
				bravoBefore := fmtBilling(billingOf(t, w.raw, w.bravo.ID))
				o := subObject(w.bravoSub, w.bravoCustomer, "canceled", base)
				ev := stripeEvent("evt_forBravo", "customer.subscription.deleted", base.Add(time.Hour), "", o)
				assert.Equal(t, "applied", deliver(t, a.api, ev, false))
				assert.Equal(t, after, state(), "alpha is untouched by an event for bravo's customer")
				assert.Equal(t, n, audits())
				assert.NotEqual(t, bravoBefore, fmtBilling(billingOf(t, w.raw, w.bravo.ID)), "it reached bravo")
				// And alpha's subscription ID with bravo's customer cannot
				// reach alpha either: the customer decides the shop.
				o = subObject("sub_alpha", w.bravoCustomer, "canceled", base)
				assert.Equal(t, "applied", deliver(t, a.api, stripeEvent("evt_mixed", "customer.subscription.deleted", base.Add(2*time.Hour), "", o), false))
				assert.Equal(t, after, state())
			})

			t.Run("AcknowledgedWithoutEffect", func(t *testing.T) {
				for what, c := range map[string]struct {
					payload []byte
					outcome string
				}{
					"unknown customer": {stripeEvent("evt_unknown", "customer.subscription.updated", base.Add(time.Hour), "",
						subObject("sub_x", "cus_nobodys", "canceled", base)), "unknown_customer"},
					"unhandled type": {stripeEvent("evt_invoice", "invoice.paid", base.Add(time.Hour), "",
						map[string]any{"id": "in_1", "object": "invoice", "customer": cus, "description": marker}), "ignored"},
					"malformed JSON under a valid signature": {[]byte(`{"id":"evt_bad","object":"event","data":{"object":` + marker), "invalid"},
					"not a card":                             {stripeEvent("evt_bank", "payment_method.attached", base.Add(time.Hour), "", map[string]any{"id": "pm_b", "object": "payment_method", "type": "us_bank_account", "customer": cus}), "ignored"},
				} {
					assert.Equal(t, c.outcome, deliver(t, a.api, c.payload, false), what)
				}
				big := stripeEvent("evt_big", "customer.subscription.updated", base.Add(time.Hour), "",
					map[string]any{"id": "sub_alpha", "object": "subscription", "customer": cus, "status": "canceled", "pad": strings.Repeat("x", 300<<10)})
				code, body := postWebhook(t, a.api, "/webhooks/stripe", big, stripeSignature(big, whPlatformSecret, time.Now()))
				assert.Equal(t, http.StatusOK, code, body)
				assert.Contains(t, body, "too_large")
				assert.Equal(t, after, state())
				assert.Equal(t, n, audits())
			})

			t.Run("LogsHoldNoPayload", func(t *testing.T) {
				logs := w.logs.String()
				assert.Contains(t, logs, "evt_newer", "outcomes are logged by event ID")
				assert.Contains(t, logs, "billing webhook refused")
				assert.NotContains(t, logs, marker, "no log line quotes a payload")
				assert.NotContains(t, logs, "whsec_")
				assert.Empty(t, pan.Find(logs))
			})
		})
	}
}

// TestStripeWebhookConcurrentCopies delivers 20 copies of one signed event
// at once on Postgres: exactly one is applied and audited, the other 19
// are duplicates.
func TestStripeWebhookConcurrentCopies(t *testing.T) {
	w := newBillingMatrixWorld(t, true)
	a := w.api(access.DefaultPolicy())
	_, cus := linkAlpha(t, w, a)
	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	ev := stripeEvent("evt_copies", "customer.subscription.created", at, "", subObject("sub_copies", cus, "active", at.Add(time.Hour)))
	sig := stripeSignature(ev, whPlatformSecret, time.Now())
	before := len(billingEvents(t, w.raw, w.alpha.ID))
	const copies = 20
	outcomes := make(chan string, copies)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < copies; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			code, body := postWebhook(t, a.api, "/webhooks/stripe", ev, sig)
			if code != http.StatusOK {
				outcomes <- fmt.Sprintf("%d %s", code, body)
				return
			}
			var out struct{ Outcome string }
			_ = json.Unmarshal([]byte(body), &out)
			outcomes <- out.Outcome
		}()
	}
	close(start)
	wg.Wait()
	close(outcomes)
	got := map[string]int{}
	for o := range outcomes {
		got[o]++
	}
	assert.Equal(t, map[string]int{"applied": 1, "duplicate": copies - 1}, got)
	evs := billingEvents(t, w.raw, w.alpha.ID)
	assert.Len(t, evs, before+1, "one audit event")
	assert.Equal(t, "billing.subscription_updated", evs[len(evs)-1].Action)
	assert.Equal(t, ports.SubscriptionActive, billingOf(t, w.raw, w.alpha.ID).SubscriptionStatus)
}

// TestCancellationStartsTheRetentionClock (BIL-4, LIFE-2): a deleted
// subscription marks the shop cancelled at its end, GET /billing shows when
// retention ends, and once that passes the shop is listed as past
// retention — for a system scope only.
func TestCancellationStartsTheRetentionClock(t *testing.T) {
	w := newBillingMatrixWorld(t, false)
	a := w.api(access.DefaultPolicy())
	owner, cus := linkAlpha(t, w, a)
	at := time.Now().Add(-time.Hour).Truncate(time.Second)
	require.Equal(t, "applied", deliver(t, a.api, stripeEvent("evt_s1", "customer.subscription.created", at, "", subObject("sub_r", cus, "active", at.Add(time.Hour))), false))
	ended := subObject("sub_r", cus, "canceled", at.Add(time.Hour))
	endedAt := at.Add(30 * time.Minute)
	ended["ended_at"], ended["canceled_at"] = endedAt.Unix(), endedAt.Unix()
	require.Equal(t, "applied", deliver(t, a.api, stripeEvent("evt_s2", "customer.subscription.deleted", at.Add(31*time.Minute), "", ended), false))

	st := a.callJSON(t, "GET", "/billing", owner, "", http.StatusOK)
	assert.Equal(t, "canceled", st["status"])
	assert.Equal(t, endedAt.UTC().Format(time.RFC3339), st["cancelled_at"])
	assert.Equal(t, endedAt.Add(60*24*time.Hour).UTC().Format(time.RFC3339), st["retention_ends_at"])
	evs := billingEvents(t, w.raw, w.alpha.ID)
	assert.Equal(t, "billing.subscription_cancelled", evs[len(evs)-1].Action)
	assert.Contains(t, string(evs[len(evs)-1].After), `"cancelled_at"`)

	sys := access.With(context.Background(), access.Scope{System: "test"})
	past, err := a.billing.PastRetention(sys, 10)
	require.NoError(t, err)
	assert.Empty(t, past, "within the 60 days")
	w.clock.Advance(endedAt.Add(60*24*time.Hour).Sub(w.clock.Now()) + time.Second)
	past, err = a.billing.PastRetention(sys, 10)
	require.NoError(t, err)
	require.Len(t, past, 1)
	assert.Equal(t, w.alpha.ID, past[0].Shop)
	assert.Equal(t, endedAt.UTC(), past[0].CancelledAt)
	_, err = a.billing.PastRetention(access.With(context.Background(), access.Scope{Shop: w.alpha.ID, User: w.orgOwner.ID, Role: ports.RoleOwner}), 10)
	require.ErrorIs(t, err, ports.ErrForbidden)
}

// TestBillingNeverCarriesCardNumbers (acceptance 3, BIL-1): every billing
// flow runs — checkout, portal, card change, Connect, webhooks, including
// a payment method whose payload (as a hostile or buggy sender might)
// carries full card numbers in other fields — and no request to Stripe,
// no log line, no answer and no stored row holds a card number; the
// state keeps brand and last four only. (The billing table's columns are
// compared with the allow-list by the adapters' schema tests.)
func TestBillingNeverCarriesCardNumbers(t *testing.T) {
	w := newBillingMatrixWorld(t, false)
	a := w.api(access.DefaultPolicy())
	owner, cus := linkAlpha(t, w, a)
	var answers bytes.Buffer
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/billing/portal", ""}, {"POST", "/billing/card", ""}, {"POST", "/billing/connect", ""}, {"GET", "/billing", ""},
	} {
		out := a.callJSON(t, c.method, c.path, owner, c.body, http.StatusOK)
		fmt.Fprintln(&answers, out)
	}
	at := time.Now().Add(-time.Minute).Truncate(time.Second)
	pm := cardObject(cus, "visa", "4242")
	pm["metadata"] = map[string]any{"leak": "4242424242424242"}
	pm["billing_details"] = map[string]any{"name": "4000 0566 5566 5556"}
	require.Equal(t, "applied", deliver(t, a.api, stripeEvent("evt_pan", "payment_method.attached", at, "", pm), false))
	out := a.callJSON(t, "GET", "/billing", owner, "", http.StatusOK)
	fmt.Fprintln(&answers, out)
	assert.Equal(t, map[string]any{"brand": "visa", "last4": "4242"}, out["card"])

	for _, r := range w.bill.reqs.all() {
		assert.Empty(t, pan.Find(r), "a request to Stripe: %s", strings.SplitN(r, "\n", 2)[0])
	}
	for _, line := range w.logs.Lines() {
		assert.Empty(t, pan.Find(line), "log line %s", line)
	}
	assert.Empty(t, pan.Find(answers.String()))
	assert.Empty(t, pan.Find(fmtBilling(billingOf(t, w.raw, w.alpha.ID))))
	for _, e := range billingEvents(t, w.raw, w.alpha.ID) {
		assert.Empty(t, pan.Find(string(e.Before)+string(e.After)), e.Action)
	}
	assert.NotEmpty(t, w.bill.reqs.all(), "the flows did call Stripe")
}

// TestOldEventIDsAreForgotten: a shop remembers processed event IDs for
// billing.EventMemory; new events now and then forget older ones, so a
// 40-day-old event is no longer a duplicate after a run of new ones —
// while a recent one still is.
func TestOldEventIDsAreForgotten(t *testing.T) {
	w := newBillingMatrixWorld(t, false)
	a := w.api(access.DefaultPolicy())
	_, cus := linkAlpha(t, w, a)
	old := time.Now().Add(-40 * 24 * time.Hour).Truncate(time.Second)
	oldEv := stripeEvent("evt_old", "customer.subscription.created", old, "", subObject("sub_p", cus, "active", old.Add(time.Hour)))
	require.Equal(t, "applied", deliver(t, a.api, oldEv, false))
	recent := stripeEvent("evt_recent", "customer.subscription.updated", time.Now().Add(-time.Hour), "", subObject("sub_p", cus, "active", old.Add(time.Hour)))
	require.Equal(t, "applied", deliver(t, a.api, recent, false))
	require.Equal(t, "duplicate", deliver(t, a.api, oldEv, false))
	for i := range 64 {
		at := time.Now().Add(-time.Duration(60-i) * time.Minute)
		ev := stripeEvent(fmt.Sprintf("evt_run%d", i), "customer.subscription.updated", at, "", subObject("sub_p", cus, "active", at.Add(time.Hour)))
		deliver(t, a.api, ev, false)
	}
	assert.Equal(t, "stale", deliver(t, a.api, oldEv, false), "forgotten, then refused by its age")
	assert.Equal(t, "duplicate", deliver(t, a.api, recent, false), "a recent event is still remembered")
}

// TestRefreshFromStripe: POST /billing/refresh re-reads the Connect
// account from Stripe (stripe-mock) and applies it on Stripe's clock, so
// an account.updated created before the fetch is stale afterwards; a
// subscription Stripe says is another customer's is refused and nothing
// changes.
func TestRefreshFromStripe(t *testing.T) {
	w := newBillingMatrixWorld(t, false)
	a := w.api(access.DefaultPolicy())
	owner, cus := linkAlpha(t, w, a)
	a.callJSON(t, "POST", "/billing/connect", owner, "", http.StatusOK)
	acct := billingOf(t, w.raw, w.alpha.ID).ConnectAccountID
	hourAgo := time.Now().Add(-time.Hour)
	require.Equal(t, "applied", deliver(t, a.api, stripeEvent("evt_acctOld", "account.updated", hourAgo, acct,
		accountObject(acct, true, true, true)), true))

	st := a.callJSON(t, "POST", "/billing/refresh", owner, "", http.StatusOK)
	conn := st["connect"].(map[string]any)
	assert.Equal(t, acct, conn["account_id"])
	assert.Equal(t, false, conn["charges_enabled"], "stripe-mock's account is not enabled: the fetched state replaced the older event's")
	got := billingOf(t, w.raw, w.alpha.ID)
	assert.WithinDuration(t, time.Now(), got.ConnectAsOf, time.Minute, "stamped with Stripe's Date")
	assert.Equal(t, "stale", deliver(t, a.api, stripeEvent("evt_acctOlder", "account.updated", hourAgo.Add(time.Minute), acct,
		accountObject(acct, true, true, true)), true), "an event created before the fetch is older than the fetched state")
	evs := billingEvents(t, w.raw, w.alpha.ID)
	assert.Equal(t, "billing.connect_updated", evs[len(evs)-1].Action)
	assert.Contains(t, string(evs[len(evs)-1].After), `"source":"refresh"`)

	require.Equal(t, "applied", deliver(t, a.api, stripeEvent("evt_subR", "customer.subscription.created", hourAgo, "",
		subObject("sub_refresh", cus, "active", hourAgo.Add(time.Hour))), false))
	before := fmtBilling(billingOf(t, w.raw, w.alpha.ID))
	a.callJSON(t, "POST", "/billing/refresh", owner, "", http.StatusConflict) // stripe-mock's subscription names its fixture customer
	assert.Equal(t, before, fmtBilling(billingOf(t, w.raw, w.alpha.ID)))
}
