package httpapi

import (
	"fmt"
	"net/http"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// ssoRoutes registers per-org single sign-on (AUTH-14) on a shop's host.
// The first two are public; the others need the caller's own org role
// to allow org.sso_manage (an org owner), and changing the connection is
// sensitive (a recent authentication, AAL2 with a second factor):
//
//	POST   /auth/sso/start                 {email} → {redirect_url} and the state cookie; 404 when SSO is not offered for the address here
//	GET    /auth/sso/callback              back from the org's IdP → session cookie, 303 to the landing page
//	GET    /org/sso                        the org's connection (never the secret)
//	PUT    /org/sso                        {issuer, client_id, client_secret?, default_role, enabled, mandatory, break_glass_email?}
//	DELETE /org/sso                        remove the connection
//	GET    /org/domains                    the org's claimed domains with their TXT records
//	POST   /org/domains                    {domain} → the TXT record to publish
//	POST   /org/domains/{domain}/verify    check the TXT record; 409 when another org verified the domain
//	DELETE /org/domains/{domain}           give the domain up
func ssoRoutes(rt *router, h *authHandlers) {
	rt.public("POST", "/auth/sso/start", h.ssoStart).json(emailRequest{})
	rt.public("GET", "/auth/sso/callback", h.ssoCallback)
	rt.org("GET", "/org/sso", access.OrgSSOManage, h.ssoConnection)
	rt.org("PUT", "/org/sso", access.OrgSSOManage, h.putSSOConnection).json(ssoConnectionRequest{})
	rt.org("DELETE", "/org/sso", access.OrgSSOManage, h.deleteSSOConnection)
	rt.org("GET", "/org/domains", access.OrgSSOManage, h.orgDomains)
	rt.org("POST", "/org/domains", access.OrgSSOManage, h.addOrgDomain).json(domainRequest{})
	rt.org("POST", "/org/domains/{domain}/verify", access.OrgSSOManage, h.verifyOrgDomain)
	rt.org("DELETE", "/org/domains/{domain}", access.OrgSSOManage, h.removeOrgDomain)
}

func (h *authHandlers) ssoStart(w http.ResponseWriter, r *http.Request) {
	var in emailRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	shop, _ := ShopFrom(r.Context())
	authURL, state, err := h.svc.StartSSO(r.Context(), auth.SSOStart{
		Shop: shop.ID, Email: in.Email, RedirectURL: h.shops.URL(shop.Slug, "/auth/sso/callback"), Client: h.client(r),
	})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: auth.SSOStateCookieName, Value: state, Path: "/", MaxAge: 600, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, "application/json", http.StatusOK, map[string]string{"redirect_url": authURL})
}

func (h *authHandlers) ssoCallback(w http.ResponseWriter, r *http.Request) {
	shop, _ := ShopFrom(r.Context())
	clearCookie(w, auth.SSOStateCookieName)
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		WriteProblem(w, r, fmt.Errorf("the identity provider refused the sign-in: %w", ports.ErrUnauthenticated))
		return
	}
	var stateCookie string
	if c, err := r.Cookie(auth.SSOStateCookieName); err == nil {
		stateCookie = c.Value
	}
	is, err := h.svc.FinishSSO(r.Context(), auth.SSOCallback{
		Shop: shop.ID, Code: q.Get("code"), State: q.Get("state"), StateCookie: stateCookie,
		RedirectURL: h.shops.URL(shop.Slug, "/auth/sso/callback"), Client: h.client(r), Replace: presented(r),
	})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	setSessionCookie(w, is)
	http.Redirect(w, r, h.afterSignIn, http.StatusSeeOther)
}

// ssoConnectionBody is an org's SSO connection as answered.
type ssoConnectionBody struct {
	Issuer          string    `json:"issuer"`
	ClientID        string    `json:"client_id"`
	DefaultRole     string    `json:"default_role"`
	Enabled         bool      `json:"enabled"`
	Mandatory       bool      `json:"mandatory"`
	BreakGlassEmail string    `json:"break_glass_email"`
	UpdatedBy       string    `json:"updated_by"`
	UpdatedAt       time.Time `json:"updated_at"`
}

func connectionBody(c auth.SSOConnectionInfo) ssoConnectionBody {
	return ssoConnectionBody{
		Issuer: c.Issuer, ClientID: c.ClientID, DefaultRole: string(c.DefaultRole), Enabled: c.Enabled, Mandatory: c.Mandatory,
		BreakGlassEmail: c.BreakGlassEmail, UpdatedBy: c.UpdatedBy, UpdatedAt: c.UpdatedAt,
	}
}

func (h *authHandlers) ssoConnection(w http.ResponseWriter, r *http.Request) {
	c, err := h.svc.SSOConnection(r.Context())
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, connectionBody(c))
}

// ssoConnectionRequest is the body of PUT /org/sso.
type ssoConnectionRequest struct {
	Issuer          string `json:"issuer" doc:"the IdP's issuer identifier (https URL)"`
	ClientID        string `json:"client_id" doc:"Stockade's client ID at the IdP"`
	ClientSecret    string `json:"client_secret" doc:"the client secret; empty keeps the stored one while issuer and client ID stay the same"`
	DefaultRole     string `json:"default_role" doc:"the shop role given to a user signing in for the first time"`
	Enabled         bool   `json:"enabled" doc:"offer single sign-on for the org's verified domains"`
	Mandatory       bool   `json:"mandatory" doc:"refuse passwords and magic links for the org's verified domains"`
	BreakGlassEmail string `json:"break_glass_email" doc:"the one org owner exempt from mandatory SSO; empty for nobody"`
}

func (h *authHandlers) putSSOConnection(w http.ResponseWriter, r *http.Request) {
	var in ssoConnectionRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	c, err := h.svc.PutSSOConnection(r.Context(), auth.SSOConnectionInput{
		Issuer: in.Issuer, ClientID: in.ClientID, ClientSecret: in.ClientSecret, DefaultRole: ports.Role(in.DefaultRole),
		Enabled: in.Enabled, Mandatory: in.Mandatory, BreakGlassEmail: in.BreakGlassEmail,
	}, h.client(r))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, connectionBody(c))
}

func (h *authHandlers) deleteSSOConnection(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.DeleteSSOConnection(r.Context(), h.client(r)); err != nil {
		WriteProblem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// domainBody is a claimed domain as answered.
type domainBody struct {
	Domain      string     `json:"domain"`
	Verified    bool       `json:"verified"`
	VerifiedAt  *time.Time `json:"verified_at,omitempty"`
	RecordName  string     `json:"record_name"`
	RecordType  string     `json:"record_type"`
	RecordValue string     `json:"record_value"`
	CreatedAt   time.Time  `json:"created_at"`
}

func domainBodyOf(d auth.OrgDomainInfo) domainBody {
	b := domainBody{Domain: d.Domain, Verified: d.Verified(), RecordName: d.RecordName, RecordType: "TXT", RecordValue: d.RecordValue, CreatedAt: d.CreatedAt}
	if d.Verified() {
		at := d.VerifiedAt
		b.VerifiedAt = &at
	}
	return b
}

func (h *authHandlers) orgDomains(w http.ResponseWriter, r *http.Request) {
	ds, err := h.svc.OrgDomains(r.Context())
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	out := make([]domainBody, len(ds))
	for i, d := range ds {
		out[i] = domainBodyOf(d)
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"domains": out})
}

// domainRequest is the body of POST /org/domains.
type domainRequest struct {
	Domain string `json:"domain" doc:"the e-mail domain to claim, e.g. example.com"`
}

func (h *authHandlers) addOrgDomain(w http.ResponseWriter, r *http.Request) {
	var in domainRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	d, err := h.svc.AddOrgDomain(r.Context(), in.Domain, h.client(r))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusCreated, domainBodyOf(d))
}

func (h *authHandlers) verifyOrgDomain(w http.ResponseWriter, r *http.Request) {
	d, err := h.svc.VerifyOrgDomain(r.Context(), r.PathValue("domain"), h.client(r))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusOK, domainBodyOf(d))
}

func (h *authHandlers) removeOrgDomain(w http.ResponseWriter, r *http.Request) {
	if err := h.svc.RemoveOrgDomain(r.Context(), r.PathValue("domain"), h.client(r)); err != nil {
		WriteProblem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
