package httpapi

import (
	"net/http"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/webhooks"
	"github.com/stockadehq/stockade/ports"
)

// WebhooksDeps is what the outbound webhook endpoint routes need. They
// run on a shop's host with the authentication routes' session, so
// Deps.Auth must be set too.
type WebhooksDeps struct {
	Service *webhooks.Service
}

// webhooksRoutes registers the management of the shop's outbound webhook
// endpoints (the events Stockade signs and sends to them are verified by
// receivers with the public package webhooks):
//
//	GET    /webhook-endpoints                     webhooks.manage  the shop's endpoints, without secrets
//	POST   /webhook-endpoints                     webhooks.manage  {url, events, description?} → 201 {endpoint, secret}; the secret is shown only here (no-store)
//	POST   /webhook-endpoints/{endpoint}/disable  webhooks.manage  stop sending to it
//	POST   /webhook-endpoints/{endpoint}/enable   webhooks.manage  send to it again
//	DELETE /webhook-endpoints/{endpoint}          webhooks.manage  → 204
//
// The routes are also served under HQ.
func webhooksRoutes(rt *router, d WebhooksDeps) {
	h := &webhookHandlers{svc: d.Service}
	rt.member("GET", "/webhook-endpoints", access.WebhooksManage, true, h.list)
	rt.member("POST", "/webhook-endpoints", access.WebhooksManage, true, h.create).json(createEndpointRequest{})
	rt.member("POST", "/webhook-endpoints/{endpoint}/disable", access.WebhooksManage, true, h.setDisabled(true))
	rt.member("POST", "/webhook-endpoints/{endpoint}/enable", access.WebhooksManage, true, h.setDisabled(false))
	rt.member("DELETE", "/webhook-endpoints/{endpoint}", access.WebhooksManage, true, h.delete)
}

type webhookHandlers struct{ svc *webhooks.Service }

// endpointJSON is an endpoint as the API shows it: never its secret.
type endpointJSON struct {
	ID          string     `json:"id"`
	URL         string     `json:"url"`
	Events      []string   `json:"events"`
	Description string     `json:"description"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	DisabledAt  *time.Time `json:"disabled_at"`
}

func endpointOf(e ports.WebhookEndpoint) endpointJSON {
	out := endpointJSON{ID: e.ID.String(), URL: e.URL, Events: e.Events, Description: e.Description, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
	if !e.DisabledAt.IsZero() {
		d := e.DisabledAt
		out.DisabledAt = &d
	}
	return out
}

func (h *webhookHandlers) list(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.ListEndpoints(r.Context())
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	out := make([]endpointJSON, len(list))
	for i, e := range list {
		out[i] = endpointOf(e)
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"endpoints": out})
}

// createEndpointRequest is the body of POST /webhook-endpoints.
type createEndpointRequest struct {
	URL         string   `json:"url"`
	Events      []string `json:"events" doc:"the event types to deliver; \"*\" for all"`
	Description string   `json:"description"`
}

func (h *webhookHandlers) create(w http.ResponseWriter, r *http.Request) {
	var in createEndpointRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	c, err := h.svc.CreateEndpoint(r.Context(), webhooks.EndpointInput{URL: in.URL, Events: in.Events, Description: in.Description})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, "application/json", http.StatusCreated, map[string]any{"endpoint": endpointOf(c.Endpoint), "secret": c.Secret})
}

func (h *webhookHandlers) setDisabled(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := ports.ParseWebhookEndpointID(r.PathValue("endpoint"))
		if err != nil {
			WriteProblem(w, r, err)
			return
		}
		e, err := h.svc.SetEndpointDisabled(r.Context(), id, disabled)
		if err != nil {
			WriteProblem(w, r, err)
			return
		}
		writeJSON(w, "application/json", http.StatusOK, map[string]any{"endpoint": endpointOf(e)})
	}
}

func (h *webhookHandlers) delete(w http.ResponseWriter, r *http.Request) {
	id, err := ports.ParseWebhookEndpointID(r.PathValue("endpoint"))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	if err := h.svc.DeleteEndpoint(r.Context(), id); err != nil {
		WriteProblem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
