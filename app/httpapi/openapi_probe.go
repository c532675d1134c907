package httpapi

import (
	"context"
	"net/http"
	"reflect"
	"sync"
)

// routeProbe is test instrumentation that keeps Route.Body honest: a
// request whose context carries one (see withRouteProbe) records that it
// reached its route's handler, past the router's middleware, and the Go
// type each decodeJSON call decoded its body into. The OpenAPI test drives
// every route with one and fails when a handler decodes a type its route
// does not declare. Requests without a probe pay one context lookup at
// each of the two hooks.
type routeProbe struct {
	mu      sync.Mutex
	reached bool
	bodies  []reflect.Type
}

type routeProbeKey struct{}

// withRouteProbe returns ctx carrying a fresh probe, and the probe.
func withRouteProbe(ctx context.Context) (context.Context, *routeProbe) {
	p := &routeProbe{}
	return context.WithValue(ctx, routeProbeKey{}, p), p
}

// probeRoute wraps a route's handler: the router's innermost layer.
func probeRoute(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := r.Context().Value(routeProbeKey{}).(*routeProbe); ok {
			p.mu.Lock()
			p.reached = true
			p.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

// probeBody records that r's body is decoded into v (a pointer).
func probeBody(r *http.Request, v any) {
	p, ok := r.Context().Value(routeProbeKey{}).(*routeProbe)
	if !ok {
		return
	}
	t := reflect.TypeOf(v)
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	p.mu.Lock()
	p.bodies = append(p.bodies, t)
	p.mu.Unlock()
}
