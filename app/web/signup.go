package web

import "net/http"

// signUpRoutes registers sign-up with mailbox verification, password
// reset and invitation acceptance.
func (p *Pages) signUpRoutes(mux *http.ServeMux, g guards) {}
