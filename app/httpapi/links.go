package httpapi

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/capability"
	"github.com/stockadehq/stockade/core/storage"
	"github.com/stockadehq/stockade/ports"
)

// LinkPrefix is where every public capability-link route lives.
const LinkPrefix = "/p/"

// LinkTokenParam is the query parameter a link's token travels in; the
// header form is "Authorization: Bearer <token>".
const LinkTokenParam = "token"

// LinkRoute is a public route reached with a capability link (CAP-1): an
// embedding app's page or action for one of its record types, or
// Stockade's own file download. The router resolves the token on the
// shop's host and, before Handler runs, checks that the link was minted
// for exactly the record the path names and grants Action
// (access.RequireRecord); the handler then finds the capability scope in
// the request's context (access.From), and its use case calls
// access.RequireRecord again. A route that fails any check answers the
// one 404 problem of access.ErrNoCapability.
type LinkRoute struct {
	Method string
	// Path is a net/http pattern path under LinkPrefix that names the
	// record ID with {RecordParam}, e.g. "/p/quotes/{quote}/accept".
	Path        string
	RecordType  string
	RecordParam string
	// Action is what the route does to the record ("view", "accept").
	Action  string
	Handler http.Handler
}

func (l LinkRoute) validate() error {
	switch {
	case l.Method == "" || l.Handler == nil:
		return fmt.Errorf("httpapi: link route %s %s: method and handler are required", l.Method, l.Path)
	case !strings.HasPrefix(l.Path, LinkPrefix):
		return fmt.Errorf("httpapi: link route %s: path must start with %s", l.Path, LinkPrefix)
	case l.RecordParam == "" || !strings.Contains(l.Path, "{"+l.RecordParam+"}"):
		return fmt.Errorf("httpapi: link route %s: path must name the record as {%s}", l.Path, l.RecordParam)
	}
	if err := ports.ValidateRecordType(l.RecordType); err != nil {
		return fmt.Errorf("httpapi: link route %s: %w", l.Path, err)
	}
	if err := ports.ValidateAction(l.Action); err != nil {
		return fmt.Errorf("httpapi: link route %s: %w", l.Path, err)
	}
	return nil
}

// LinksDeps is what the capability-link routes need. The management
// routes run on a shop's host with the authentication routes' session
// and CSRF protection, so Deps.Auth must be set too.
type LinksDeps struct {
	Service *capability.Service
	// Routes are the embedding app's public routes for its record types.
	// The first GET route of a record type is where minted links of that
	// type point.
	Routes []LinkRoute
}

// linksRoutes registers the capability-link API (CAP-1):
//
//	POST   /links  {record_type, record_id, actions, ttl?}  links.manage  → 201 {id, …, token, url}: the only time the token is shown
//	GET    /links?record_type=&record_id=&active=true      links.manage  → 200 {links}: never a token
//	DELETE /links/{link}                                   links.manage  → 204
//	GET    /p/files/{file}?token=…                          the link      → 303 to a short-lived signed download URL (with Deps.Files)
//	…      d.Routes                                         the link
//
// Minting, listing and revoking a link also needs its record kind's
// permission (files.read for files).
func linksRoutes(rt *router, a AuthDeps, d LinksDeps, files *FilesDeps) {
	h := &linkHandlers{svc: d.Service, shops: a.Shops, trustXFF: a.TrustForwardedFor, landing: map[string]LinkRoute{}}
	rt.member("POST", "/links", access.LinksManage, true, h.mint).json(mintLinkRequest{})
	rt.member("GET", "/links", access.LinksManage, true, h.list)
	rt.member("DELETE", "/links/{link}", access.LinksManage, true, h.revoke)
	routes := d.Routes
	if files != nil {
		fh := &fileLinkHandler{svc: files.Service, shops: a.Shops}
		routes = append([]LinkRoute{{
			Method: "GET", Path: "/p/files/{file}", RecordType: storage.LinkRecordType, RecordParam: "file",
			Action: storage.LinkDownload, Handler: http.HandlerFunc(fh.download),
		}}, routes...)
	}
	for _, l := range routes {
		if err := l.validate(); err != nil {
			panic(err) // a programming error of the embedding app, caught by its first test
		}
		if _, ok := h.landing[l.RecordType]; !ok && l.Method == http.MethodGet {
			h.landing[l.RecordType] = l
		}
		rt.link(l, d.Service, a.TrustForwardedFor)
	}
}

// link registers a capability-link route: on the shop's host, with CSRF
// protection for unsafe methods, the token resolved and the record and
// action checked before l.Handler runs.
func (rt *router) link(l LinkRoute, svc *capability.Service, trustXFF bool) {
	r := Route{Method: l.Method, Path: l.Path, Access: AccessCapability, OnShop: true, RecordType: l.RecordType, RecordParam: l.RecordParam, Action: l.Action}
	rt.add(r, l.Handler, rt.csrf.Handler, rt.onShop, requireLink(svc, l, trustXFF))
}

// requireLink resolves the link token of the request on its shop's host
// (capability.Service.Resolve), checks l's record and action, and serves
// next (l.Handler) in the holder's scope. Every answer is marked not to
// be cached, indexed or referred.
func requireLink(svc *capability.Service, l LinkRoute, trustXFF bool) func(next http.Handler) http.Handler {
	return func(next http.Handler) http.Handler { return linkGuard(svc, l, trustXFF, next) }
}

// linkGuard is requireLink's middleware around next.
func linkGuard(svc *capability.Service, l LinkRoute, trustXFF bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Cache-Control", "no-store")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Robots-Tag", "noindex, nofollow")
		shop, ok := ShopFrom(r.Context())
		token, tok := linkToken(r)
		if !ok || !tok {
			WriteProblem(w, r, access.ErrNoCapability)
			return
		}
		sc, err := svc.Resolve(r.Context(), shop.ID, token)
		if err != nil {
			WriteProblem(w, r, err)
			return
		}
		cl := clientOf(r, trustXFF)
		sc.Org, sc.RequestID, sc.IP, sc.UserAgent = shop.OrgID, cl.RequestID, cl.IP, cl.UserAgent
		ctx := access.With(r.Context(), sc)
		if _, err := access.RequireRecord(ctx, l.RecordType, r.PathValue(l.RecordParam), l.Action); err != nil {
			WriteProblem(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// linkToken returns the token the request presents: in the query
// parameter LinkTokenParam or as "Authorization: Bearer". Two different
// tokens, or one given twice in the query, present none.
func linkToken(r *http.Request) (string, bool) {
	q := r.URL.Query()[LinkTokenParam]
	if len(q) > 1 {
		return "", false
	}
	var fromQuery, fromHeader string
	if len(q) == 1 {
		fromQuery = q[0]
	}
	if auth := r.Header.Values("Authorization"); len(auth) > 0 {
		scheme, value, ok := strings.Cut(auth[0], " ")
		if len(auth) > 1 || !ok || !strings.EqualFold(scheme, "Bearer") {
			return "", false
		}
		fromHeader = value
	}
	switch {
	case fromQuery != "" && fromHeader != "":
		if subtle.ConstantTimeCompare([]byte(fromQuery), []byte(fromHeader)) != 1 {
			return "", false
		}
		return fromQuery, true
	case fromQuery != "":
		return fromQuery, true
	case fromHeader != "":
		return fromHeader, true
	}
	return "", false
}

type linkHandlers struct {
	svc      *capability.Service
	shops    *HostShops
	trustXFF bool
	landing  map[string]LinkRoute // record type → where its links point
}

// linkJSON is a link as the API lists it: never its token or hash.
type linkJSON struct {
	ID         string    `json:"id"`
	RecordType string    `json:"record_type"`
	RecordID   string    `json:"record_id"`
	Actions    []string  `json:"actions"`
	CreatedBy  string    `json:"created_by,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
}

func linkOf(c ports.Capability) linkJSON {
	out := linkJSON{
		ID: c.ID.String(), RecordType: c.RecordType, RecordID: c.RecordID, Actions: c.Actions,
		CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt, RevokedAt: c.RevokedAt,
	}
	if !c.CreatedBy.IsZero() {
		out.CreatedBy = c.CreatedBy.String()
	}
	return out
}

// URL returns the absolute link to the landing route of recordType for
// recordID on shop's host with token, or "" when no GET route serves the
// type. Built from the configured public URL, never from the request.
func (h *linkHandlers) url(slug, recordType, recordID, token string) string {
	l, ok := h.landing[recordType]
	if !ok {
		return ""
	}
	path := strings.Replace(l.Path, "{"+l.RecordParam+"}", recordID, 1)
	return h.shops.URL(slug, path) + "?" + LinkTokenParam + "=" + token
}

// mintLinkRequest is the body of POST /links.
type mintLinkRequest struct {
	RecordType string   `json:"record_type"`
	RecordID   string   `json:"record_id"`
	Actions    []string `json:"actions"`
	TTL        string   `json:"ttl" doc:"a Go duration such as 72h; empty means the default"`
}

func (h *linkHandlers) mint(w http.ResponseWriter, r *http.Request) {
	var in mintLinkRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	var ttl time.Duration
	if in.TTL != "" {
		d, err := time.ParseDuration(in.TTL)
		if err != nil || d <= 0 {
			WriteProblem(w, r, ports.Invalid("ttl", `must be a positive duration such as "72h"`))
			return
		}
		ttl = d
	}
	m, err := h.svc.Mint(r.Context(), capability.MintInput{RecordType: in.RecordType, RecordID: in.RecordID, Actions: in.Actions, TTL: ttl})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	shop, _ := ShopFrom(r.Context())
	out := struct {
		linkJSON
		Token string `json:"token"`
		URL   string `json:"url,omitempty"`
	}{linkOf(m.Capability), m.Token, h.url(shop.Slug, m.Capability.RecordType, m.Capability.RecordID, m.Token)}
	writeJSON(w, "application/json", http.StatusCreated, out)
}

func (h *linkHandlers) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	active := false
	switch q.Get("active") {
	case "", "false", "0":
	case "true", "1":
		active = true
	default:
		WriteProblem(w, r, ports.Invalid("active", "must be true or false"))
		return
	}
	list, err := h.svc.List(r.Context(), q.Get("record_type"), q.Get("record_id"), active)
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	out := struct {
		Links []linkJSON `json:"links"`
	}{Links: make([]linkJSON, len(list))}
	for i, c := range list {
		out.Links[i] = linkOf(c)
	}
	writeJSON(w, "application/json", http.StatusOK, out)
}

func (h *linkHandlers) revoke(w http.ResponseWriter, r *http.Request) {
	id, err := ports.ParseCapabilityID(r.PathValue("link"))
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	if _, err := h.svc.Revoke(r.Context(), id); err != nil {
		WriteProblem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// fileLinkHandler serves GET /p/files/{file}: the holder of a file link
// is redirected to a short-lived signed download URL.
type fileLinkHandler struct {
	svc   *storage.Service
	shops *HostShops
}

func (h *fileLinkHandler) download(w http.ResponseWriter, r *http.Request) {
	id, err := ports.ParseFileID(r.PathValue("file"))
	if err != nil {
		WriteProblem(w, r, access.ErrNoCapability)
		return
	}
	d, err := h.svc.LinkDownloadURL(r.Context(), id)
	if err != nil {
		if errors.Is(err, ports.ErrNotFound) || errors.Is(err, ports.ErrForbidden) || errors.Is(err, ports.ErrUnauthenticated) {
			err = access.ErrNoCapability
		}
		WriteProblem(w, r, err)
		return
	}
	u := d.URL
	if d.ContentQuery != "" {
		shop, _ := ShopFrom(r.Context())
		u = h.shops.URL(shop.Slug, "/files/"+id.String()+"/content") + "?" + d.ContentQuery
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}
