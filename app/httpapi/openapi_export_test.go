package httpapi

import (
	"context"
	"reflect"
)

// RouteProbe lets the external tests read a routeProbe.
type RouteProbe struct{ p *routeProbe }

// WithRouteProbe returns ctx carrying a fresh route probe: a request
// served with it records whether it reached its route's handler and the
// types decodeJSON decoded its body into.
func WithRouteProbe(ctx context.Context) (context.Context, RouteProbe) {
	ctx, p := withRouteProbe(ctx)
	return ctx, RouteProbe{p}
}

// Reached reports whether the request got past the router's middleware
// to its route's handler.
func (rp RouteProbe) Reached() bool {
	rp.p.mu.Lock()
	defer rp.p.mu.Unlock()
	return rp.p.reached
}

// Bodies returns the types decodeJSON decoded the request's body into.
func (rp RouteProbe) Bodies() []reflect.Type {
	rp.p.mu.Lock()
	defer rp.p.mu.Unlock()
	return append([]reflect.Type(nil), rp.p.bodies...)
}
