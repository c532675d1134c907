package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/billing"
	"github.com/stockadehq/stockade/ports"
)

// MaxWebhookBody caps a webhook's body. Stripe's events of the types
// applied (subscriptions, payment methods, accounts) are a few KiB; lists
// inside events are truncated by Stripe, so 256 KiB leaves a wide margin
// while bounding what an unauthenticated caller can make the server read
// and hash. A longer body is not read past the cap: it is acknowledged
// (2xx, no retry would shrink it), changes nothing, and is logged.
const MaxWebhookBody = 256 << 10

// BillingDeps is what the billing routes need. The session routes run on a
// shop's host with the authentication routes' session and CSRF protection
// (Deps.Auth); the webhook routes need only the service.
type BillingDeps struct {
	Service *billing.Service
	// TrustForwardedFor takes the webhook caller's address for logs from
	// the last X-Forwarded-For hop (as AuthDeps.TrustForwardedFor).
	TrustForwardedFor bool
}

// billingRoutes registers the billing API (BIL-1…BIL-4); the permission
// each needs is the README's "Roles and permissions" table:
//
//	GET  /billing                  billing.read    the shop's plan, subscription, card (brand, last four), Connect status
//	POST /billing/checkout         billing.manage  {plan} → {url}: Stripe Checkout, hosted
//	POST /billing/portal           billing.manage  → {url}: the billing portal
//	POST /billing/card             billing.manage  → {setup_intent, client_secret} for Stripe.js
//	POST /billing/connect          billing.manage  → {url}: Connect onboarding
//	GET  /billing/connect/refresh  billing.manage  the link's refresh_url: a page whose button posts back; changes nothing
//	POST /billing/connect/refresh  billing.manage  303 to a fresh onboarding link
//	POST /billing/refresh          billing.manage  re-read subscription and Connect status from Stripe → the state
//	POST /webhooks/stripe          webhook         platform events, Stripe-Signature
//	POST /webhooks/stripe/connect  webhook         Connect events, Stripe-Signature
//
// The redirect URLs handed to Stripe are on the shop's own host, built
// from configuration. Billing routes are not offered over HQ access: an
// HQ visitor is an Admin, and billing is the Owner's.
func billingRoutes(rt *router, a *AuthDeps, d BillingDeps) {
	h := &billingHandlers{svc: d.Service, trustXFF: d.TrustForwardedFor}
	if a != nil {
		h.shops = a.Shops
		rt.member("GET", "/billing", access.BillingRead, false, h.state)
		rt.member("POST", "/billing/checkout", access.BillingManage, false, h.checkout).json(checkoutRequest{})
		rt.member("POST", "/billing/portal", access.BillingManage, false, h.portal)
		rt.member("POST", "/billing/card", access.BillingManage, false, h.card)
		rt.member("POST", "/billing/connect", access.BillingManage, false, h.connect)
		rt.member("GET", "/billing/connect/refresh", access.BillingManage, false, h.connectRefreshPage)
		rt.member("POST", "/billing/connect/refresh", access.BillingManage, false, h.connectRefresh)
		rt.member("POST", "/billing/refresh", access.BillingManage, false, h.refresh)
	}
	rt.webhook("POST", "/webhooks/stripe", h.webhook(ports.EndpointPlatform))
	rt.webhook("POST", "/webhooks/stripe/connect", h.webhook(ports.EndpointConnect))
}

type billingHandlers struct {
	svc      *billing.Service
	shops    *HostShops
	trustXFF bool
}

// billingJSON is the billing state as GET /billing shows it: BIL-1's
// allow-list, nothing more.
type billingJSON struct {
	CustomerID        string     `json:"customer_id,omitempty"`
	Plan              string     `json:"plan,omitempty"`
	PriceID           string     `json:"price_id,omitempty"`
	SubscriptionID    string     `json:"subscription_id,omitempty"`
	Status            string     `json:"status,omitempty"`
	CurrentPeriodEnd  *time.Time `json:"current_period_end,omitempty"`
	CancelAtPeriodEnd bool       `json:"cancel_at_period_end"`
	Card              *cardJSON  `json:"card,omitempty"`
	Connect           *connJSON  `json:"connect,omitempty"`
	CancelledAt       *time.Time `json:"cancelled_at,omitempty"`
	RetentionEndsAt   *time.Time `json:"retention_ends_at,omitempty"`
	Plans             []string   `json:"plans"`
}

type cardJSON struct {
	Brand string `json:"brand"`
	Last4 string `json:"last4"`
}

type connJSON struct {
	AccountID        string `json:"account_id"`
	ChargesEnabled   bool   `json:"charges_enabled"`
	PayoutsEnabled   bool   `json:"payouts_enabled"`
	DetailsSubmitted bool   `json:"details_submitted"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (h *billingHandlers) state(w http.ResponseWriter, r *http.Request) {
	st, err := h.svc.State(r.Context())
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	h.writeState(w, st)
}

func (h *billingHandlers) refresh(w http.ResponseWriter, r *http.Request) {
	st, err := h.svc.Refresh(r.Context())
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	h.writeState(w, st)
}

func (h *billingHandlers) writeState(w http.ResponseWriter, st billing.State) {
	out := billingJSON{
		CustomerID: st.CustomerID, Plan: st.Plan, PriceID: st.PriceID, SubscriptionID: st.SubscriptionID,
		Status: string(st.SubscriptionStatus), CurrentPeriodEnd: optTime(st.CurrentPeriodEnd),
		CancelAtPeriodEnd: st.CancelAtPeriodEnd, CancelledAt: optTime(st.CancelledAt),
		RetentionEndsAt: optTime(st.RetentionEndsAt), Plans: h.svc.Plans(),
	}
	if st.CardLast4 != "" {
		out.Card = &cardJSON{Brand: st.CardBrand, Last4: st.CardLast4}
	}
	if st.ConnectAccountID != "" {
		out.Connect = &connJSON{AccountID: st.ConnectAccountID, ChargesEnabled: st.ChargesEnabled,
			PayoutsEnabled: st.PayoutsEnabled, DetailsSubmitted: st.DetailsSubmitted}
	}
	writeJSON(w, "application/json", http.StatusOK, out)
}

// shopURL is path on the request's shop's host.
func (h *billingHandlers) shopURL(r *http.Request, path string) string {
	shop, _ := ShopFrom(r.Context())
	return h.shops.URL(shop.Slug, path)
}

func redirectJSON(w http.ResponseWriter, rd ports.Redirect) {
	out := map[string]any{"url": rd.URL}
	if rd.ID != "" {
		out["id"] = rd.ID
	}
	if !rd.ExpiresAt.IsZero() {
		out["expires_at"] = rd.ExpiresAt
	}
	writeJSON(w, "application/json", http.StatusOK, out)
}

// checkoutRequest is the body of POST /billing/checkout.
type checkoutRequest struct {
	Plan string `json:"plan" doc:"the plan's name, one of the configured plans"`
}

func (h *billingHandlers) checkout(w http.ResponseWriter, r *http.Request) {
	var in checkoutRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	rd, err := h.svc.StartCheckout(r.Context(), billing.CheckoutInput{
		Plan:       in.Plan,
		SuccessURL: h.shopURL(r, "/billing") + "?checkout=success",
		CancelURL:  h.shopURL(r, "/billing") + "?checkout=cancelled",
	})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	redirectJSON(w, rd)
}

func (h *billingHandlers) portal(w http.ResponseWriter, r *http.Request) {
	rd, err := h.svc.OpenPortal(r.Context(), h.shopURL(r, "/billing"))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	redirectJSON(w, rd)
}

// card answers the SetupIntent's client secret to this browser only
// (no-store); it is neither logged nor kept.
func (h *billingHandlers) card(w http.ResponseWriter, r *http.Request) {
	si, err := h.svc.ChangeCard(r.Context())
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]string{"setup_intent": si.ID, "client_secret": si.ClientSecret})
}

func (h *billingHandlers) onboarding(r *http.Request) (ports.Redirect, error) {
	return h.svc.ConnectOnboarding(r.Context(), billing.OnboardingInput{
		RefreshURL: h.shopURL(r, "/billing/connect/refresh"),
		ReturnURL:  h.shopURL(r, "/billing") + "?connect=return",
	})
}

func (h *billingHandlers) connect(w http.ResponseWriter, r *http.Request) {
	rd, err := h.onboarding(r)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	redirectJSON(w, rd)
}

// connectRefreshForm is the page at an onboarding link's refresh_url.
var connectRefreshForm = []byte(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="referrer" content="no-referrer"><title>Continue onboarding</title></head>
<body><form method="post" action="/billing/connect/refresh">
<p>Your payouts onboarding link has expired or was already used.</p>
<button type="submit">Continue onboarding with Stripe</button>
</form></body></html>
`)

// connectRefreshPage is where Stripe sends (with a GET) a browser whose
// onboarding link expired or was used. A GET can be made cross-site, so it
// changes nothing: it answers a page whose button posts to
// connectRefresh, behind the cross-origin check.
func (h *billingHandlers) connectRefreshPage(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.MayManage(r.Context()); err != nil {
		WriteProblem(w, r, err)
		return
	}
	htmlHeaders(w)
	w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(connectRefreshForm)
}

// connectRefresh mints a fresh onboarding link (creating the Connect
// account if the shop has none) and redirects the browser to it.
func (h *billingHandlers) connectRefresh(w http.ResponseWriter, r *http.Request) {
	rd, err := h.onboarding(r)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, rd.URL, http.StatusSeeOther)
}

// webhook serves one provider endpoint: the body is read up to
// MaxWebhookBody and handed, with the Stripe-Signature header, to the
// service, which verifies before it parses. A forgery (no, malformed,
// wrong or stale signature) is a 400; every verified event, whatever it
// did, and an over-long body are acknowledged with 200; a store failure
// is a 5xx so that Stripe retries. Log lines name the endpoint, event ID,
// type, shop and outcome, never the body.
func (h *billingHandlers) webhook(ep ports.BillingEndpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		log := loggerFrom(r.Context()).With(zap.String("endpoint", string(ep)))
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBody))
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			log.Warn("billing webhook: body over the cap, not read; acknowledged", zap.Int64("cap", tooBig.Limit))
			writeJSON(w, "application/json", http.StatusOK, map[string]string{"outcome": "too_large"})
			return
		case err != nil:
			WriteProblem(w, r, fmt.Errorf("read webhook body: %w", ports.Invalid("body", "could not be read")))
			return
		}
		res, err := h.svc.HandleWebhook(r.Context(), billing.WebhookInput{
			Endpoint: ep, Payload: body, Signature: r.Header.Get("Stripe-Signature"),
			RequestID: RequestIDFrom(r.Context()), IP: clientOf(r, h.trustXFF).IP,
		})
		switch {
		case errors.Is(err, ports.ErrUnauthenticated):
			log.Warn("billing webhook refused", zap.Error(err), zap.Int("bytes", len(body)), zap.String("remote", clientOf(r, h.trustXFF).IP))
			WriteProblem(w, r, ports.Invalid("Stripe-Signature", "missing, malformed, not ours or outside the tolerance"))
			return
		case err != nil:
			WriteProblem(w, r, err)
			return
		}
		out := map[string]string{"outcome": string(res.Outcome)}
		if res.EventID != "" {
			out["event"] = res.EventID
		}
		writeJSON(w, "application/json", http.StatusOK, out)
	}
}
