package httpapi

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// RouteAccess says what a route needs before its handler runs.
type RouteAccess string

// Route access kinds.
const (
	// AccessPublic routes take no session: sign-in, sign-up, accepting an
	// invitation, and links whose signature or token is the credential.
	AccessPublic RouteAccess = "public"
	// AccessSession routes need a session on the shop's host, and the
	// use case's guard checks Route.Permission (or Route.OrgPermission)
	// against the caller's scope. They are the tenant-scoped routes.
	AccessSession RouteAccess = "session"
	// AccessCapability routes live under LinkPrefix on a shop's host and
	// take no session: a capability link's token is the credential, and
	// the router admits it only for the record named by the path
	// parameter RecordParam, of RecordType, and for Action (CAP-1).
	AccessCapability RouteAccess = "capability"
	// AccessOperator routes need a platform operator's session on the
	// platform's own host (the public URL's host, no shop). An operator
	// session is no credential on any other route, and a member session
	// none on these (AUD-5).
	AccessOperator RouteAccess = "operator"
	// AccessWebhook routes take no session and no cookie: a provider calls
	// them, and the signature over the body is the credential, checked
	// before anything in the body is read. They run on any host, outside
	// CSRF protection (no browser credential is involved).
	AccessWebhook RouteAccess = "webhook"
	// AccessSCIM routes are the SCIM 2.0 service provider under
	// SCIMPrefix: no session and no cookie, an org's SCIM token in the
	// Authorization header's Bearer scheme is the credential, and it
	// alone names the org (AUTH-14). They run on any host, outside CSRF
	// protection (no browser credential is involved).
	AccessSCIM RouteAccess = "scim"
)

// HQPrefix is where the HQ routes live: every session route marked HQ is
// also served at HQPrefix+path for an org owner or admin signed in on any
// shop of the org, in the scope of the shop named by {hq_shop} (TEN-6).
const HQPrefix = "/hq/shops/{hq_shop}"

// Route is one registered route, as API.Routes lists it. The cross-tenant
// attack matrix enumerates these, so a route added later is attacked
// without editing the test.
type Route struct {
	Method string
	Path   string // the net/http pattern's path, e.g. "/files/{file}"
	Access RouteAccess
	// OnShop routes resolve the shop from the Host (TEN-7).
	OnShop bool
	// OnPlatform routes are served on the public URL's own host only.
	OnPlatform bool
	// Permission is what the guard checks for a session route.
	Permission access.Permission
	// OrgPermission, when set, is the org role the use case checks
	// instead (Permission is then the shop permission checked first).
	OrgPermission access.OrgPermission
	// HQ marks a route also served under HQPrefix; ViaHQ marks that copy.
	HQ    bool
	ViaHQ bool
	// BeforeSecondFactor marks a session route served to a session that
	// must still step up or enrol a second factor (auth.Principal.Pending):
	// stepping up, enrolling, signing out, "who am I". Every other session
	// route refuses such a session with 403 (AUTH-13).
	BeforeSecondFactor bool
	// Sensitive marks a session route that needs a recent authentication,
	// and AAL2 from a user with a second factor
	// (auth.Service.RequireRecentAuth): password, factor, role, policy and
	// billing changes.
	Sensitive bool
	// RecordType, RecordParam and Action describe a capability route:
	// the record type, the path parameter holding the record ID, and the
	// action the link must grant.
	RecordType  string
	RecordParam string
	Action      string
	// Body is the Go type of the JSON object the handler decodes its
	// request body into (application/json, unknown fields refused); nil
	// for a route that reads no JSON body. Form marks a route that also
	// takes the same fields as an HTML form post
	// (application/x-www-form-urlencoded). The OpenAPI document (see
	// OpenAPI) derives the route's request body schema from them; a test
	// drives every route and fails when a handler decodes a type other
	// than Body.
	Body reflect.Type
	Form bool
}

// Pattern is the route's net/http pattern.
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// router registers routes on a mux and remembers them.
type router struct {
	mux    *http.ServeMux
	routes []Route
	csrf   *http.CrossOriginProtection
	onShop func(http.Handler) http.Handler
	sess   func(http.Handler) http.Handler
	// pendingSess is sess that also serves a session that must still
	// step up or enrol (Route.BeforeSecondFactor).
	pendingSess func(http.Handler) http.Handler
	// recent refuses a session without a recent authentication
	// (Route.Sensitive).
	recent func(http.Handler) http.Handler
	hq     func(http.Handler) http.Handler // nil without tenancy
	// onPlatform refuses any host but the public URL's own.
	onPlatform func(http.Handler) http.Handler
	// streams bounds the routes wrapped with stream.
	streams StreamLimits
}

func newRouter(mux *http.ServeMux) *router {
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteProblem(w, r, fmt.Errorf("cross-origin request refused: %w", ports.ErrForbidden))
	}))
	return &router{mux: mux, csrf: csrf}
}

// bare registers a public route that runs on any host (sign-up).
func (rt *router) bare(method, path string, h http.HandlerFunc) routeRef {
	return rt.add(Route{Method: method, Path: path, Access: AccessPublic}, h, rt.csrf.Handler)
}

// public registers a route on a shop's host that takes no session.
func (rt *router) public(method, path string, h http.HandlerFunc) routeRef {
	return rt.add(Route{Method: method, Path: path, Access: AccessPublic, OnShop: true}, h, rt.csrf.Handler, rt.onShop)
}

// signed registers a route on a shop's host whose credential is in its
// URL; it sits outside CSRF protection (GETs only).
func (rt *router) signed(method, path string, h http.HandlerFunc) routeRef {
	return rt.add(Route{Method: method, Path: path, Access: AccessPublic, OnShop: true}, h, rt.onShop)
}

// handoff registers a POST route on a shop's host whose credential is a
// one-time code in its body, posted by a page on another host (the
// platform's impersonation hand-off). It sits outside CSRF protection,
// which would refuse that cross-origin form post; the code is the
// credential, and it only ever signs the browser in as the impersonation
// it was minted for.
func (rt *router) handoff(path string, h http.HandlerFunc) routeRef {
	return rt.add(Route{Method: http.MethodPost, Path: path, Access: AccessPublic, OnShop: true}, h, rt.onShop)
}

// platform registers a route on the platform's own host (no shop) with
// access (AccessPublic or AccessOperator, which the handler checks).
func (rt *router) platform(method, path string, access RouteAccess, h http.HandlerFunc) routeRef {
	return rt.add(Route{Method: method, Path: path, Access: access, OnPlatform: true}, h, rt.csrf.Handler, rt.onPlatform)
}

// webhook registers a provider webhook route (AccessWebhook).
func (rt *router) webhook(method, path string, h http.HandlerFunc) routeRef {
	return rt.add(Route{Method: method, Path: path, Access: AccessWebhook}, h)
}

// member registers a session route whose use case guards perm; with hq it
// is also served under HQPrefix.
func (rt *router) member(method, path string, perm access.Permission, hq bool, h http.HandlerFunc) routeRef {
	return rt.memberRoute(Route{Method: method, Path: path, Access: AccessSession, OnShop: true, Permission: perm, HQ: hq}, h)
}

// org registers a session route whose use case checks the caller's org
// role for perm.
func (rt *router) org(method, path string, perm access.OrgPermission, h http.HandlerFunc) routeRef {
	return rt.memberRoute(Route{Method: method, Path: path, Access: AccessSession, OnShop: true, Permission: access.ShopRead, OrgPermission: perm}, h)
}

// beforeSecondFactor registers a session route that a session which must
// still step up or enrol is served too (Route.BeforeSecondFactor); with
// sensitive, it needs a recent authentication too.
func (rt *router) beforeSecondFactor(method, path string, perm access.Permission, h http.HandlerFunc) routeRef {
	r := Route{Method: method, Path: path, Access: AccessSession, OnShop: true, Permission: perm, BeforeSecondFactor: true}
	return rt.add(r, h, rt.csrf.Handler, rt.onShop, rt.pendingSess)
}

// sensitiveRoute reports whether the session route method path (without
// HQPrefix) changes a password, a factor, a role, the two-factor policy,
// the org's single sign-on or billing: it then needs a recent
// authentication (Route.Sensitive).
func sensitiveRoute(method, path string) bool {
	switch method + " " + path {
	case "POST /auth/password",
		"POST /auth/2fa/recovery-codes", "DELETE /auth/2fa/totp", "PUT /shop/2fa-policy", "DELETE /auth/passkeys/{passkey}",
		"PATCH /members/{user}", "PUT /org/members", "PUT /org/sso", "DELETE /org/sso",
		"POST /billing/checkout", "POST /billing/portal", "POST /billing/card", "POST /billing/connect",
		"POST /export", "POST /exports",
		"POST /org/scim/tokens", "POST /org/scim/mappings":
		return true
	}
	return false
}

// memberRoute registers the session route r: CSRF, the shop, the session
// (and, for a sensitive route, a recent authentication) guard h; with
// r.HQ it is also served under HQPrefix behind the HQ check.
func (rt *router) memberRoute(r Route, h http.HandlerFunc) routeRef {
	var recent []func(http.Handler) http.Handler
	if sensitiveRoute(r.Method, r.Path) && rt.recent != nil {
		r.Sensitive = true
		recent = append(recent, rt.recent)
	}
	ref := rt.add(r, h, append([]func(http.Handler) http.Handler{rt.csrf.Handler, rt.onShop, rt.sess}, recent...)...)
	if r.HQ && rt.hq != nil {
		v := r
		v.Path, v.ViaHQ = HQPrefix+r.Path, true
		ref.at = append(ref.at, rt.add(v, h, append([]func(http.Handler) http.Handler{rt.csrf.Handler, rt.onShop, rt.sess, rt.hq}, recent...)...).at...)
	}
	return ref
}

// add registers r, served by h inside chain (outermost first), and
// returns a reference through which the registration declares r's
// request body. Every request that gets through chain passes probeRoute
// on its way to h.
func (rt *router) add(r Route, h http.Handler, chain ...func(http.Handler) http.Handler) routeRef {
	if !strings.HasPrefix(r.Path, "/") {
		panic("httpapi: route path must start with /: " + r.Path) // a programming error caught by every test
	}
	h = probeRoute(h)
	for i := len(chain) - 1; i >= 0; i-- {
		h = chain[i](h)
	}
	rt.mux.Handle(r.Pattern(), h)
	rt.routes = append(rt.routes, r)
	return routeRef{rt: rt, at: []int{len(rt.routes) - 1}}
}

// routeRef names the routes one registration added: a route, and its HQ
// copy when it has one.
type routeRef struct {
	rt *router
	at []int // indexes into rt.routes
}

// json declares that the routes' handler decodes its JSON request body
// into a value of v's type (see Route.Body), and returns ref.
func (ref routeRef) json(v any) routeRef {
	for _, i := range ref.at {
		ref.rt.routes[i].Body = reflect.TypeOf(v)
	}
	return ref
}

// form declares that the routes also take their body's fields as a form
// post (see Route.Form), and returns ref.
func (ref routeRef) form() routeRef {
	for _, i := range ref.at {
		ref.rt.routes[i].Form = true
	}
	return ref
}
