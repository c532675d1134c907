package httpapi_test

// The webhook part of the attack matrix: every AccessWebhook route from
// API.Routes is attacked with forgeries aimed at bravo's billing — no
// signature, a malformed one, one made with a secret the server does not
// hold, a stale one, a valid signature of another body, and an alpha
// owner's session cookie instead of a signature. Each must be a 400 and
// bravo must not change. A webhook route without a fixture here fails the
// test, like a session route without a body does.

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
)

// webhookFixture is what the matrix needs to attack one webhook route:
// the endpoint's real secret, and an event that would hurt bravo if it
// were accepted.
type webhookFixture struct {
	secret string
	event  func(w *matrixWorld) []byte
}

var webhookFixtures = map[string]webhookFixture{
	"POST /webhooks/stripe": {whPlatformSecret, func(w *matrixWorld) []byte {
		return stripeEvent("evt_forged_cancel", "customer.subscription.deleted", time.Now(), "",
			subObject(w.bravoSub, w.bravoCustomer, "canceled", time.Now()))
	}},
	"POST /webhooks/stripe/connect": {whConnectSecret, func(w *matrixWorld) []byte {
		return stripeEvent("evt_forged_payouts_off", "account.updated", time.Now(), w.bravoAccount,
			accountObject(w.bravoAccount, false, false, false))
	}},
}

func TestEveryRouteHasAKnownAccessKind(t *testing.T) {
	w := newMatrixWorld(t, false)
	w.skipLeftOutBillingRoutes(t, "the access-kind check", nil)
	for _, r := range w.api(access.DefaultPolicy()).api.Routes() {
		switch r.Access {
		case httpapi.AccessPublic, httpapi.AccessSession, httpapi.AccessCapability, httpapi.AccessOperator:
		case httpapi.AccessSCIM:
			// TestSCIMRoutesRefuseForeignCredentials attacks every one.
			require.True(t, strings.HasPrefix(r.Path, httpapi.SCIMPrefix+"/"), "SCIM route %s outside %s", r.Pattern(), httpapi.SCIMPrefix)
		case httpapi.AccessWebhook:
			_, ok := webhookFixtures[r.Pattern()]
			require.True(t, ok, "the attack matrix has no fixture for webhook route %s: add one to webhookFixtures", r.Pattern())
		default:
			t.Fatalf("route %s has access %q, which the attack matrix does not know: teach it", r.Pattern(), r.Access)
		}
	}
}

func TestWebhookRoutesRefuseForgeries(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[pg]
		t.Run(name, func(t *testing.T) {
			w := newBillingMatrixWorld(t, pg)
			a := w.api(access.DefaultPolicy())
			before := bravoState(t, w)
			cookie, _ := w.signIn(a, "alpha", w.byRole["owner"].Email)
			cases := 0
			type control struct {
				path    string
				payload []byte
				sig     string
			}
			var controls []control
			for _, r := range a.api.Routes() {
				if r.Access != httpapi.AccessWebhook {
					continue
				}
				fx := webhookFixtures[r.Pattern()]
				payload := fx.event(w)
				now := time.Now()
				valid := stripeSignature(payload, fx.secret, now)
				other := []byte(strings.Replace(string(payload), "evt_forged", "evt_other", 1))
				attacks := map[string]string{
					"no signature":                 "",
					"malformed signature":          "v1=" + strings.Repeat("0", 64),
					"garbage signature":            fmt.Sprintf("t=%d,v1=%s", now.Unix(), strings.Repeat("ab", 32)),
					"signed with a foreign secret": stripeSignature(payload, whForeignSecret, now),
					"the other endpoint's secret":  stripeSignature(payload, otherSecret(fx.secret), now),
					"stale":                        stripeSignature(payload, fx.secret, now.Add(-6*time.Minute)),
					"another body's signature":     stripeSignature(other, fx.secret, now),
				}
				for what, sig := range attacks {
					code, body := postWebhook(t, a.api, r.Path, payload, sig)
					require.Equal(t, http.StatusBadRequest, code, "%s %s: %s: %s", r.Method, r.Path, what, body)
					noSecrets(t, w, r.Path+" "+what, body, "")
					cases++
				}
				// A session cookie is no credential for a webhook.
				req := httptest.NewRequest(r.Method, r.Path, bytes.NewReader(payload))
				req.Host = "alpha.example.test"
				req.AddCookie(&http.Cookie{Name: auth.SessionCookieName, Value: cookie})
				rec := httptest.NewRecorder()
				a.api.ServeHTTP(rec, req)
				require.Equal(t, http.StatusBadRequest, rec.Code, "%s with alpha's owner cookie: %s", r.Path, rec.Body.String())
				cases++
				controls = append(controls, control{r.Path, payload, valid})
			}
			require.Equal(t, before, bravoState(t, w), "the forgeries changed bravo")
			// The control: the same events, validly signed, do reach bravo —
			// so the forgeries above were refused for their signatures alone.
			for _, c := range controls {
				code, body := postWebhook(t, a.api, c.path, c.payload, c.sig)
				require.Equal(t, http.StatusOK, code, body)
				require.Contains(t, body, `"applied"`, c.path)
			}
			require.NotEqual(t, before, bravoState(t, w), "the validly signed control events change bravo")
			t.Logf("webhook matrix on %s: %d forged deliveries, all 400, bravo unchanged until the signed controls", name, cases)
		})
	}
}

// otherSecret is the secret of the other Stripe endpoint.
func otherSecret(s string) string {
	if s == whPlatformSecret {
		return whConnectSecret
	}
	return whPlatformSecret
}
