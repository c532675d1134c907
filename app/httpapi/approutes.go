package httpapi

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/stockadehq/stockade/core/access"
)

// AppRoute is an embedding app's own session route, served by Stockade's
// router behind the same guards as Stockade's member routes: CSRF
// protection, the host → shop resolution, the session (refusing a session
// that must still step up or enrol a second factor), the caller's scope
// in the request's context (access.From), and, before Handler runs, the
// router's own check that the caller's role holds Permission under
// AppDeps.Policy. With HQ the route is also served at HQPrefix+Path for
// an org owner or admin, in the scope of the shop {hq_shop} names. It is
// listed by API.Routes (hence the OpenAPI document, the generated route
// reference and the attack and permission matrices) like any other
// session route.
//
// There is no unguarded app route: New refuses (panics on) an AppRoute
// without a Permission the policy knows. A public route for a record of
// the app's is a LinkRoute (see LinksDeps.Routes), guarded by the link.
type AppRoute struct {
	Method string
	// Path is the net/http pattern's path, e.g. "/quotes/{quote}"; it
	// must not collide with Stockade's own routes nor lie under
	// LinkPrefix or HQPrefix.
	Path string
	// Permission is what the caller's role must hold, e.g. an
	// app-registered "quotes.write". Required.
	Permission access.Permission
	// HQ also serves the route under HQPrefix.
	HQ bool
	// Body, when set, is a value of the type the handler decodes its JSON
	// request body into (see Route.Body), for the OpenAPI document.
	Body any
	// Handler serves the request; access.From(r.Context()) is the
	// caller's scope.
	Handler http.Handler
}

// AppDeps is what the app routes need: the policy their permissions are
// checked against (the one the app's use cases use, holding the app's
// permissions) and the routes.
type AppDeps struct {
	Policy *access.Policy
	Routes []AppRoute
}

// Validate reports why r cannot be registered under policy: a missing
// method, path or handler, a path outside the app's space, or no
// permission (or one policy does not know). Nil means New accepts it.
func (r AppRoute) Validate(policy *access.Policy) error {
	switch {
	case r.Method == "" || r.Handler == nil:
		return fmt.Errorf("httpapi: app route %s %s: method and handler are required", r.Method, r.Path)
	case !strings.HasPrefix(r.Path, "/"):
		return fmt.Errorf("httpapi: app route %s %s: path must start with /", r.Method, r.Path)
	case strings.HasPrefix(r.Path, LinkPrefix) || strings.HasPrefix(r.Path, "/hq/"):
		return fmt.Errorf("httpapi: app route %s %s: %s and /hq/ are Stockade's (use a LinkRoute or HQ)", r.Method, r.Path, LinkPrefix)
	case r.Permission == "":
		return fmt.Errorf("httpapi: app route %s %s: a permission is required (no app route is unguarded)", r.Method, r.Path)
	case policy == nil:
		return fmt.Errorf("httpapi: app route %s %s: AppDeps.Policy is required", r.Method, r.Path)
	case !slices.Contains(policy.Permissions(), r.Permission):
		return fmt.Errorf("httpapi: app route %s %s: permission %q unknown to the policy", r.Method, r.Path, r.Permission)
	}
	return nil
}

// Validate reports the first app route New would refuse, or a route
// registered twice; nil when New accepts d. Call it where a panic in New
// is unwelcome (the fx module does).
func (d AppDeps) Validate() error {
	seen := map[string]bool{}
	for _, r := range d.Routes {
		if err := r.Validate(d.Policy); err != nil {
			return err
		}
		p := r.Method + " " + r.Path
		if seen[p] {
			return fmt.Errorf("httpapi: app route %s registered twice", p)
		}
		seen[p] = true
	}
	return nil
}

// appRoutes registers d's routes as member routes whose handler is
// preceded by the permission check.
func appRoutes(rt *router, d AppDeps) {
	if err := d.Validate(); err != nil {
		panic(err) // a programming error: the fx module validates first
	}
	for _, r := range d.Routes {
		ref := rt.member(r.Method, r.Path, r.Permission, r.HQ, requirePermission(d.Policy, r.Permission, r.Handler))
		if r.Body != nil {
			for _, i := range ref.at {
				ref.rt.routes[i].Body = reflect.TypeOf(r.Body)
			}
		}
	}
}

// requirePermission serves next only to a caller whose scope holds perm
// under policy, and answers the guard's 401 or 403 problem otherwise.
func requirePermission(policy *access.Policy, perm access.Permission, next http.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := policy.Require(r.Context(), perm); err != nil {
			WriteProblem(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	}
}
