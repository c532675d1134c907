package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// TestCardNumbersSentInStayOutOfLogsAndProblems is issue 16's canary for
// a card-number-shaped string: a client types a card number into the
// fields of the API's requests (sign-in, sign-up, invitations, plans,
// slugs, messages, links, codes and tokens), and webhook senders put one
// in their payloads (validly signed, unreadable, unsigned, forged, for
// no shop). The world's canary sink (registerCanaries) fails the test if
// the number, spaced or not, reaches a log line or a problem body. The
// billing requests and Stripe's webhooks need stripe-mock and skip alone
// without it.
func TestCardNumbersSentInStayOutOfLogsAndProblems(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			w := newMatrixWorld(t, pg)
			a := w.api(access.DefaultPolicy())
			owner, _ := w.signIn(a, "alpha", w.byRole[ports.RoleOwner].Email)
			const c = canaryCard
			js := func(v any) string {
				b, err := json.Marshal(v)
				require.NoError(t, err)
				return string(b)
			}
			for _, r := range []struct {
				method, path, host, cookie string
				body                       any
			}{
				{"POST", "/auth/signin", "alpha", "", map[string]string{"email": c, "password": c}},
				{"POST", "/auth/signin", "alpha", "", map[string]string{"email": w.byRole[ports.RoleOwner].Email, "password": c}},
				{"POST", "/auth/signup", "alpha", "", map[string]string{"email": "card@alpha.test", "name": c, "password": c}},
				{"POST", "/auth/signup", "alpha", "", map[string]string{"email": c, "name": "Card", "password": "a long Enough passphrase 9"}},
				{"POST", "/auth/magic-link", "alpha", "", map[string]string{"email": c}},
				{"POST", "/auth/magic-link/consume", "alpha", "", map[string]string{"token": c}},
				{"POST", "/auth/password-reset", "alpha", "", map[string]string{"email": c}},
				{"POST", "/auth/password-reset/confirm", "alpha", "", map[string]string{"token": c, "password": c}},
				{"POST", "/auth/impersonation/enter", "alpha", "", map[string]string{"code": c}},
				{"POST", "/auth/password", "alpha", owner, map[string]string{"current_password": c, "new_password": c}},
				{"POST", "/invitations", "alpha", owner, map[string]string{"email": c, "role": "tech"}},
				{"POST", "/invitations", "alpha", owner, map[string]string{"email": "card@alpha.test", "role": c}},
				{"POST", "/invitations/accept", "alpha", "", map[string]string{"token": c, "name": c, "password": c}},
				{"POST", "/orgs", "alpha", owner, map[string]string{"name": "Card Org", "slug": c, "shop_name": "Card Shop"}},
				{"POST", "/org/shops", "alpha", owner, map[string]string{"slug": c, "name": "Card Shop"}},
				{"PUT", "/org/members", "alpha", owner, map[string]string{"email": c, "role": "admin"}},
				{"POST", "/links", "alpha", owner, map[string]any{"record_type": "file", "record_id": c, "actions": []string{"download"}}},
				{"POST", "/messaging/messages", "alpha", owner, map[string]any{"channel": "sms", "category": "transactional", "to": map[string]string{"phone": c}, "body": "x"}},
				{"POST", "/messaging/messages", "alpha", owner, map[string]any{"channel": "email", "category": "transactional", "to": map[string]string{"email": c}, "subject": c, "body": c}},
			} {
				res := a.send(r.method, r.path, r.host, r.cookie, js(r.body), "application/json")
				assert.Less(t, res.StatusCode, 500, "%s %s", r.method, r.path)
			}
			res := a.do(hcall{method: "POST", target: "/operator/signin", host: platformHost, body: js(map[string]string{"email": c, "password": c}), contentType: "application/json"})
			assert.Less(t, res.StatusCode, 500, "operator sign-in")
			res = a.send("GET", "/u/"+url.PathEscape(c), "alpha", "", "", "")
			assert.Less(t, res.StatusCode, 500, "an unsubscribe token that is a card number")

			// Twilio and Resend (the test verifier): an inbound SMS whose
			// body and service are card numbers, a status for no message,
			// a Resend event carrying one.
			form := twilioForm("SMcard", c, c, c)
			res, _ = a.hook("/webhooks/twilio/sms", "hooks.example.test", form, "application/x-www-form-urlencoded", webhookKey, time.Now(), nil)
			assert.Less(t, res.StatusCode, 500)
			res, _ = a.hook("/webhooks/twilio/sms", "hooks.example.test", form, "application/x-www-form-urlencoded", nil, time.Now(), nil)
			assert.Less(t, res.StatusCode, 500)
			event := `{"type":"email.bounced","created_at":"2026-11-23T10:00:00Z","data":{"email_id":"` + c + `","to":["` + c + `"]}}`
			res, _ = a.hook("/webhooks/resend", "hooks.example.test", event, "application/json", webhookKey, time.Now(), nil)
			assert.Less(t, res.StatusCode, 500)
			res, _ = a.hook("/webhooks/resend", "hooks.example.test", `{"type":`+c+`}`, "application/json", webhookKey, time.Now(), nil)
			assert.Less(t, res.StatusCode, 500)

			t.Run("billing", func(t *testing.T) {
				w.needBilling(t, "the card canary's billing requests and Stripe webhooks")
				res := a.send("POST", "/billing/checkout", "alpha", owner, `{"plan":`+strconv.Quote(c)+`}`, "application/json")
				assert.Less(t, res.StatusCode, 500, "POST /billing/checkout")

				// Stripe: validly signed but unreadable, unsigned, signed with a
				// secret not configured, and validly signed for no shop.
				at := time.Now().Add(-time.Minute)
				unreadable := []byte(`{"id":"evt_card","object":"event","type":"payment_method.attached","created":"` + c + `","data":{"object":{"card":{"number":"` + c + `"}}}}`)
				code, _ := postWebhook(t, a.api, "/webhooks/stripe", unreadable, stripeSignature(unreadable, whPlatformSecret, time.Now()))
				assert.Equal(t, http.StatusOK, code, "acknowledged as unreadable")
				pm := cardObject("cus_nobodyCard", "visa", "4242")
				pm["metadata"] = map[string]any{"number": c}
				pm["billing_details"] = map[string]any{"name": canaryOtherCard}
				ev := stripeEvent("evt_cardNoShop", "payment_method.attached", at, "", pm)
				code, _ = postWebhook(t, a.api, "/webhooks/stripe", ev, "")
				assert.Equal(t, http.StatusBadRequest, code/100*100, "unsigned")
				code, _ = postWebhook(t, a.api, "/webhooks/stripe", ev, stripeSignature(ev, whForeignSecret, time.Now()))
				assert.Equal(t, http.StatusBadRequest, code/100*100, "forged")
				assert.Equal(t, "unknown_customer", deliver(t, a.api, ev, false), "for no shop")
			})
		})
	}
}
