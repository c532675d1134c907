package web

import "net/http"

// consoleRoutes registers the operator console on the platform's host.
func (p *Pages) consoleRoutes(mux *http.ServeMux, g guards) {}
