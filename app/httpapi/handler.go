// Package httpapi is Stockade's HTTP surface: a mountable http.Handler, the
// middleware it is built from (each of the shape
// func(http.Handler) http.Handler, so they fit any router), and the one
// place where errors become RFC 9457 problem answers.
package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"go.uber.org/zap"

	"github.com/stockadehq/stockade/ports"
)

// Pinger reports whether a dependency is ready: nil, or an error (ideally
// matching ports.ErrUnavailable, ports.ErrSchemaBehind or
// ports.ErrSchemaTooNew). ports.Store satisfies it.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps is what the handler needs.
type Deps struct {
	// Logger receives the access log and failed requests; nil logs nothing.
	Logger *zap.Logger
	// Ready is pinged by GET /readyz; nil means always ready.
	Ready Pinger
	// Auth, when set, adds the authentication routes (see authRoutes).
	Auth *AuthDeps
	// Files, when set together with Auth, adds the file routes (see
	// filesRoutes).
	Files *FilesDeps
	// Tenancy, when set together with Auth, adds the shop, member,
	// invitation, org and HQ routes (see tenancyRoutes).
	Tenancy *TenancyDeps
	// Billing, when set, adds the Stripe webhook routes, and together
	// with Auth the billing routes (see billingRoutes).
	Billing *BillingDeps
	// Audit, when set together with Auth, adds the audit log's reading
	// routes (see auditRoutes).
	Audit *AuditDeps
	// Links, when set together with Auth, adds the capability-link routes
	// (see linksRoutes): management under /links, public ones under /p/.
	Links *LinksDeps
	// Messaging, when set together with Auth, adds the messaging routes
	// (see messagingRoutes): contacts, consent, settings and the outbox,
	// the one-click unsubscribe link, and the providers' webhooks.
	Messaging *MessagingDeps
	// Webhooks, when set together with Auth, adds the management of the
	// shop's outbound webhook endpoints (see webhooksRoutes).
	Webhooks *WebhooksDeps
	// SCIM, when set together with Auth, adds the org owners' SCIM token
	// and mapping routes and the SCIM 2.0 service provider under
	// SCIMPrefix (see scimRoutes).
	SCIM *SCIMDeps
	// App, when set together with Auth, adds the embedding app's own
	// session routes behind Stockade's guards (see AppRoute).
	App *AppDeps
	// Streams is the minimum throughput of the routes that stream bodies
	// (see StreamLimits); the zero value means the defaults.
	Streams StreamLimits
	// Requests, when set, is told every request the access log records
	// (see RequestObserver), e.g. for metrics.
	Requests RequestObserver
}

// API is the Stockade HTTP API: an http.Handler that also lists its
// routes.
type API struct {
	handler http.Handler
	routes  []Route
	openapi *openAPIDoc
}

// ServeHTTP serves the API.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// Routes lists every registered route (health checks excepted), in
// registration order.
func (a *API) Routes() []Route { return append([]Route(nil), a.routes...) }

// NewHandler returns New(d) as a plain http.Handler.
func NewHandler(d Deps) http.Handler { return New(d) }

// New returns the Stockade HTTP API:
//
//	GET /healthz  200 {"status":"ok"} while the process serves (liveness)
//	GET /readyz   200 {"status":"ready"}, or a 503 problem when Ready.Ping
//	              fails or takes longer than 2 s (readiness)
//	GET /openapi.json
//	              the OpenAPI 3.1 document of every route below (see
//	              OpenAPI), public on any host
//	/auth/...     the authentication API when d.Auth is set (see authRoutes)
//	/operator/... the platform operators' API on the public host, and the
//	              impersonation routes on shops' hosts, when d.Auth is set
//	              (see operatorRoutes)
//	/files/...    the file API when d.Auth and d.Files are set (see filesRoutes)
//	/shop, /members, /invitations, /org/..., /hq/shops/{hq_shop}/...
//	              the tenancy API when d.Auth and d.Tenancy are set (see
//	              tenancyRoutes)
//	/audit, /audit/export
//	              the audit log's reading API when d.Auth and d.Audit are
//	              set (see auditRoutes)
//	/links, /p/...
//	              capability links when d.Auth and d.Links are set (see
//	              linksRoutes)
//	/billing/..., /webhooks/stripe[/connect]
//	              billing when d.Billing is set (its session routes with
//	              d.Auth; see billingRoutes)
//	/messaging/..., /u/{token}, /webhooks/...
//	              messaging when d.Auth and d.Messaging are set (see
//	              messagingRoutes)
//	/webhook-endpoints/...
//	              the shop's outbound webhook endpoints when d.Auth and
//	              d.Webhooks are set (see webhooksRoutes)
//	/org/scim/..., /scim/v2/...
//	              SCIM provisioning when d.Auth and d.SCIM are set (see
//	              scimRoutes)
//	d.App.Routes  the embedding app's own routes when d.Auth and d.App are
//	              set (see AppRoute); New panics on one AppDeps.Validate
//	              refuses
//
// Any other path answers a 404 problem, a known path with another method a
// 405 problem with Allow. Every answer passes RequestID, SecurityHeaders,
// AccessLog and Recover, in that order from the outside.
func New(d Deps) *API {
	log := d.Logger
	if log == nil {
		log = zap.NewNop()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", healthz)
	mux.Handle("GET /readyz", readyz(d.Ready))
	rt := newRouter(mux)
	rt.streams = d.Streams.withDefaults()
	doc := &openAPIDoc{}
	rt.bare(http.MethodGet, OpenAPIRoute, doc.serve)
	if d.Auth != nil {
		rt.onShop = OnShopHost(d.Auth.Shops)
		rt.sess = RequireSession(d.Auth.Service, d.Auth.TrustForwardedFor)
		rt.pendingSess = RequirePendingSession(d.Auth.Service, d.Auth.TrustForwardedFor)
		rt.recent = RequireRecentAuth(d.Auth.Service)
		rt.onPlatform = OnPlatformHost(d.Auth.Shops)
		if d.Tenancy != nil {
			rt.hq = enterHQ(d.Tenancy.Service)
		}
		authRoutes(rt, *d.Auth)
		operatorRoutes(rt, *d.Auth)
		if d.Files != nil {
			filesRoutes(rt, *d.Auth, *d.Files)
		}
		if d.Tenancy != nil {
			tenancyRoutes(rt, *d.Auth, *d.Tenancy)
		}
		if d.Audit != nil {
			auditRoutes(rt, *d.Audit)
		}
		if d.Links != nil {
			linksRoutes(rt, *d.Auth, *d.Links, d.Files)
		}
		if d.Messaging != nil {
			messagingRoutes(rt, *d.Messaging)
		}
		if d.Webhooks != nil {
			webhooksRoutes(rt, *d.Webhooks)
		}
		if d.SCIM != nil {
			scimRoutes(rt, *d.Auth, *d.SCIM)
		}
		if d.App != nil {
			appRoutes(rt, *d.App)
		}
	}
	if d.Billing != nil {
		billingRoutes(rt, d.Auth, *d.Billing)
	}

	doc.routes, doc.info = rt.routes, OpenAPIInfo{Version: buildVersion()}
	if d.Auth != nil && d.Auth.Shops != nil {
		doc.info.PublicURL = d.Auth.Shops.PublicURL("")
	}

	var h http.Handler = routeOrProblem(mux)
	h = Recover(log)(h)
	h = accessLog(log, d.Requests)(h)
	h = SecurityHeaders(h)
	h = RequestID(h)
	return &API{handler: h, routes: rt.routes, openapi: doc}
}

// routeOrProblem serves r with mux when a route matches, and otherwise
// answers the 404 or 405 that mux would give as a problem instead of
// mux's plain text.
func routeOrProblem(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// No route. Let mux decide between 404 and 405 (with Allow) into a
		// recorder, then answer its verdict as a problem.
		rec := &headerRecorder{header: http.Header{}}
		h.ServeHTTP(rec, r)
		if rec.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", rec.header.Get("Allow"))
			WriteProblem(w, r, fmt.Errorf("%s is not allowed on this path: %w", r.Method, errMethodNotAllowed))
			return
		}
		WriteProblem(w, r, fmt.Errorf("no resource at this path: %w", ports.ErrNotFound))
	})
}

// headerRecorder keeps a handler's header and status and discards its body.
type headerRecorder struct {
	header http.Header
	status int
}

func (r *headerRecorder) Header() http.Header { return r.header }
func (r *headerRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return len(b), nil
}
func (r *headerRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
