package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/scim"
	"github.com/stockadehq/stockade/ports"
)

// SCIMDeps are what the SCIM routes need.
type SCIMDeps struct {
	Service *scim.Service
}

// SCIMPrefix is where the SCIM 2.0 service provider lives (RFC 7644).
const SCIMPrefix = "/scim/v2"

// The SCIM schema URNs (RFC 7643, RFC 7644).
const (
	scimUserSchema   = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimGroupSchema  = "urn:ietf:params:scim:schemas:core:2.0:Group"
	scimErrorSchema  = "urn:ietf:params:scim:api:messages:2.0:Error"
	scimListSchema   = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	scimSPCSchema    = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	scimRTSchema     = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	scimSchemaSchema = "urn:ietf:params:scim:schemas:core:2.0:Schema"
	scimContentType  = "application/scim+json"
	scimMaxBody      = 1 << 20
	scimDefaultCount = 100
)

// scimRoutes registers the org owner's management routes (session routes
// whose use cases check the org role) and the SCIM 2.0 service provider
// (AccessSCIM: the org's bearer token is the credential):
//
//	POST   /org/scim/tokens                 a new token, shown once (201)
//	GET    /org/scim/tokens                 the org's tokens (never a secret)
//	DELETE /org/scim/tokens/{scim_token}    revoke one (204)
//	POST   /org/scim/mappings               {group, shop, role}: map a group to a shop role (201)
//	GET    /org/scim/mappings               the org's mappings
//	DELETE /org/scim/mappings/{scim_mapping} remove one (204)
//
//	GET  /scim/v2/ServiceProviderConfig, /scim/v2/ResourceTypes, /scim/v2/Schemas
//	POST /scim/v2/Users, GET /scim/v2/Users?filter=userName eq "…"&startIndex=&count=
//	GET, PUT, PATCH, DELETE /scim/v2/Users/{scim_user}
//	POST /scim/v2/Groups, GET /scim/v2/Groups?filter=displayName eq "…"
//	GET, PUT, PATCH, DELETE /scim/v2/Groups/{scim_group}
func scimRoutes(rt *router, a AuthDeps, d SCIMDeps) {
	h := &scimHandlers{svc: d.Service, trustXFF: a.TrustForwardedFor}
	if a.Shops != nil {
		h.base = strings.TrimRight(a.Shops.PublicURL(""), "/") + SCIMPrefix
	}
	perm := access.OrgMembersManage
	rt.org(http.MethodPost, "/org/scim/tokens", perm, h.createToken)
	rt.org(http.MethodGet, "/org/scim/tokens", perm, h.listTokens)
	rt.org(http.MethodDelete, "/org/scim/tokens/{scim_token}", perm, h.revokeToken)
	rt.org(http.MethodPost, "/org/scim/mappings", perm, h.createMapping).json(scimMappingRequest{})
	rt.org(http.MethodGet, "/org/scim/mappings", perm, h.listMappings)
	rt.org(http.MethodDelete, "/org/scim/mappings/{scim_mapping}", perm, h.deleteMapping)

	scimRoute := func(method, path string, fn http.HandlerFunc) {
		rt.add(Route{Method: method, Path: SCIMPrefix + path, Access: AccessSCIM}, fn, h.authenticate)
	}
	scimRoute(http.MethodGet, "/ServiceProviderConfig", h.serviceProviderConfig)
	scimRoute(http.MethodGet, "/ResourceTypes", h.resourceTypes)
	scimRoute(http.MethodGet, "/Schemas", h.schemas)
	scimRoute(http.MethodPost, "/Users", h.createUser)
	scimRoute(http.MethodGet, "/Users", h.listUsers)
	scimRoute(http.MethodGet, "/Users/{scim_user}", h.getUser)
	scimRoute(http.MethodPut, "/Users/{scim_user}", h.replaceUser)
	scimRoute(http.MethodPatch, "/Users/{scim_user}", h.patchUser)
	scimRoute(http.MethodDelete, "/Users/{scim_user}", h.deleteUser)
	scimRoute(http.MethodPost, "/Groups", h.createGroup)
	scimRoute(http.MethodGet, "/Groups", h.listGroups)
	scimRoute(http.MethodGet, "/Groups/{scim_group}", h.getGroup)
	scimRoute(http.MethodPut, "/Groups/{scim_group}", h.replaceGroup)
	scimRoute(http.MethodPatch, "/Groups/{scim_group}", h.patchGroup)
	scimRoute(http.MethodDelete, "/Groups/{scim_group}", h.deleteGroup)
}

type scimHandlers struct {
	svc      *scim.Service
	trustXFF bool
	// base is the service provider's absolute URL, for meta.location; ""
	// leaves locations relative.
	base string
}

// --- the org owner's management routes ---

type scimTokenJSON struct {
	ID        string     `json:"id"`
	CreatedBy string     `json:"created_by,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

func scimTokenOf(t ports.SCIMToken) scimTokenJSON {
	out := scimTokenJSON{ID: t.ID.String(), CreatedAt: t.CreatedAt}
	if !t.CreatedBy.IsZero() {
		out.CreatedBy = t.CreatedBy.String()
	}
	if !t.RevokedAt.IsZero() {
		at := t.RevokedAt
		out.RevokedAt = &at
	}
	return out
}

// createToken answers 201 with the token's secret in "token": the only
// time it is shown.
func (h *scimHandlers) createToken(w http.ResponseWriter, r *http.Request) {
	tok, secret, err := h.svc.CreateToken(r.Context())
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusCreated, struct {
		scimTokenJSON
		Token   string `json:"token"`
		BaseURL string `json:"base_url,omitempty"`
	}{scimTokenOf(tok), secret, h.base})
}

func (h *scimHandlers) listTokens(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.ListTokens(r.Context())
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	out := make([]scimTokenJSON, len(list))
	for i, t := range list {
		out[i] = scimTokenOf(t)
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"tokens": out})
}

func (h *scimHandlers) revokeToken(w http.ResponseWriter, r *http.Request) {
	serveOwnerDelete(w, r, "scim_token", "token", ports.ParseSCIMTokenID, h.svc.RevokeToken, h.svc.RequireOwner)
}

// serveOwnerDelete answers a DELETE of an org item named by the path
// parameter param: 204 when del succeeds; for an ID that does not parse,
// the owner guard's refusal first (a malformed ID tells a non-owner
// nothing), else 404.
func serveOwnerDelete[ID any](w http.ResponseWriter, r *http.Request, param, what string,
	parse func(string) (ID, error), del func(context.Context, ID) error, guard func(context.Context) error) {
	id, err := parse(r.PathValue(param))
	if err == nil {
		err = del(r.Context(), id)
	} else if err = guard(r.Context()); err == nil {
		err = fmt.Errorf("no such %s: %w", what, ports.ErrNotFound)
	}
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// scimMappingRequest is the body of POST /org/scim/mappings: the SCIM
// group (its id or displayName), the slug of a shop of the org, the role.
type scimMappingRequest struct {
	Group string     `json:"group"`
	Shop  string     `json:"shop"`
	Role  ports.Role `json:"role"`
}

type scimMappingJSON struct {
	ID        string    `json:"id"`
	GroupID   string    `json:"group_id"`
	Group     string    `json:"group"`
	Shop      string    `json:"shop"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

func scimMappingOf(m scim.Mapping) scimMappingJSON {
	return scimMappingJSON{ID: m.ID.String(), GroupID: m.GroupID.String(), Group: m.GroupName, Shop: m.ShopSlug, Role: string(m.Role), CreatedAt: m.CreatedAt}
}

func (h *scimHandlers) createMapping(w http.ResponseWriter, r *http.Request) {
	var in scimMappingRequest
	if err := decodeJSON(w, r, &in); err != nil {
		WriteProblem(w, r, err)
		return
	}
	m, err := h.svc.CreateMapping(r.Context(), scim.MappingInput{Group: in.Group, Shop: in.Shop, Role: in.Role})
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	writeJSON(w, "application/json", http.StatusCreated, scimMappingOf(m))
}

func (h *scimHandlers) listMappings(w http.ResponseWriter, r *http.Request) {
	list, err := h.svc.ListMappings(r.Context())
	if err != nil {
		WriteProblem(w, r, err)
		return
	}
	out := make([]scimMappingJSON, len(list))
	for i, m := range list {
		out[i] = scimMappingOf(m)
	}
	writeJSON(w, "application/json", http.StatusOK, map[string]any{"mappings": out})
}

func (h *scimHandlers) deleteMapping(w http.ResponseWriter, r *http.Request) {
	serveOwnerDelete(w, r, "scim_mapping", "mapping", ports.ParseSCIMMappingID, h.svc.DeleteMapping, h.svc.RequireOwner)
}

// --- the SCIM service provider ---

type scimCallerKey struct{}

// authenticate admits a request whose Authorization header carries an
// org's SCIM token in the Bearer scheme, and puts its scim.Caller in the
// context. Anything else — no header, another scheme, a revoked or
// unknown token — is a 401 SCIM error. Cookies are never read.
func (h *scimHandlers) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="SCIM"`)
			writeSCIMError(w, r, fmt.Errorf("a SCIM request needs the org's token as a Bearer token: %w", ports.ErrUnauthenticated))
			return
		}
		c, err := h.svc.Authenticate(r.Context(), strings.TrimSpace(token))
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="SCIM", error="invalid_token"`)
			writeSCIMError(w, r, err)
			return
		}
		cl := clientOf(r, h.trustXFF)
		c.RequestID, c.IP, c.UserAgent = cl.RequestID, cl.IP, cl.UserAgent
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), scimCallerKey{}, c)))
	})
}

func callerOf(r *http.Request) scim.Caller {
	c, _ := r.Context().Value(scimCallerKey{}).(scim.Caller)
	return c
}

// scimError is a SCIM error answer (RFC 7644 §3.12).
type scimError struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// scimTyped is an error with a SCIM error type (invalidFilter, …).
type scimTyped struct {
	kind string
	err  error
}

func (e scimTyped) Error() string { return e.err.Error() }
func (e scimTyped) Unwrap() error { return e.err }

// badSCIM is an ErrInvalid of SCIM type kind.
func badSCIM(kind, detail string) error {
	return scimTyped{kind: kind, err: fmt.Errorf("%s: %w", detail, ports.ErrInvalid)}
}

// writeSCIMError answers err in the SCIM error schema, its status the one
// WriteProblem would give; the detail never names the store, and a 5xx
// says nothing of its cause (which the log gets).
func writeSCIMError(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusOf(err)
	e := scimError{Schemas: []string{scimErrorSchema}, Status: strconv.Itoa(status)}
	var typed scimTyped
	switch {
	case errors.As(err, &typed):
		e.ScimType = typed.kind
	case errors.Is(err, scim.ErrUserNameChanged):
		e.ScimType = "mutability"
	case errors.Is(err, ports.ErrConflict) && !errors.Is(err, ports.ErrLastOwner):
		e.ScimType = "uniqueness"
	case errors.Is(err, ports.ErrInvalid):
		e.ScimType = "invalidValue"
	}
	if status >= 500 {
		loggerFrom(r.Context()).Error("scim request failed", zap.Error(err))
		e.Detail = http.StatusText(status)
	} else {
		e.Detail = PublicDetail(err)
	}
	writeJSON(w, scimContentType, status, e)
}

// writeSCIM answers v as SCIM JSON.
func writeSCIM(w http.ResponseWriter, status int, v any) { writeJSON(w, scimContentType, status, v) }

// decodeSCIM reads r's body (application/scim+json or application/json,
// at most 1 MiB) into v. Unknown attributes are ignored, as RFC 7644 lets
// a service provider do with attributes it does not keep.
func decodeSCIM(r *http.Request, v any) error {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]))
	if ct != scimContentType && ct != "application/json" {
		return badSCIM("invalidSyntax", "the body must be application/scim+json")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, scimMaxBody+1))
	if err != nil {
		return fmt.Errorf("read the body: %w", err)
	}
	if len(body) > scimMaxBody {
		return badSCIM("invalidSyntax", "the body is larger than 1 MiB")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return badSCIM("invalidSyntax", "the body is not the JSON object expected")
	}
	return nil
}

// flexBool is a SCIM boolean: JSON true or false, or the strings "True"
// and "False" (any case) that Microsoft Entra ID sends.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	var v bool
	if err := json.Unmarshal(data, &v); err == nil {
		*b = flexBool(v)
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	v, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(s)))
	if err != nil {
		return err
	}
	*b = flexBool(v)
	return nil
}

type scimMeta struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	Location     string `json:"location,omitempty"`
}

type scimNameJSON struct {
	GivenName  string `json:"givenName,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
	Formatted  string `json:"formatted,omitempty"`
}

type scimRef struct {
	Value   string `json:"value"`
	Display string `json:"display,omitempty"`
	Ref     string `json:"$ref,omitempty"`
}

type scimEmail struct {
	Value   string `json:"value"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary"`
}

type scimUserJSON struct {
	Schemas     []string      `json:"schemas"`
	ID          string        `json:"id"`
	ExternalID  string        `json:"externalId,omitempty"`
	UserName    string        `json:"userName"`
	Name        *scimNameJSON `json:"name,omitempty"`
	DisplayName string        `json:"displayName,omitempty"`
	Active      bool          `json:"active"`
	Emails      []scimEmail   `json:"emails"`
	Groups      []scimRef     `json:"groups"`
	Meta        scimMeta      `json:"meta"`
}

type scimGroupJSON struct {
	Schemas     []string  `json:"schemas"`
	ID          string    `json:"id"`
	ExternalID  string    `json:"externalId,omitempty"`
	DisplayName string    `json:"displayName"`
	Members     []scimRef `json:"members"`
	Meta        scimMeta  `json:"meta"`
}

func scimTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (h *scimHandlers) location(kind, id string) string {
	return h.base + "/" + kind + "/" + id
}

func (h *scimHandlers) userJSON(u scim.User) scimUserJSON {
	out := scimUserJSON{
		Schemas: []string{scimUserSchema}, ID: u.ID.String(), ExternalID: u.ExternalID, UserName: u.UserName,
		DisplayName: u.DisplayName, Active: u.Active,
		Emails: []scimEmail{{Value: u.UserName, Type: "work", Primary: true}},
		Groups: make([]scimRef, len(u.Groups)),
		Meta:   scimMeta{ResourceType: "User", Created: scimTime(u.CreatedAt), LastModified: scimTime(u.UpdatedAt), Location: h.location("Users", u.ID.String())},
	}
	if u.GivenName != "" || u.FamilyName != "" {
		out.Name = &scimNameJSON{GivenName: u.GivenName, FamilyName: u.FamilyName, Formatted: strings.TrimSpace(u.GivenName + " " + u.FamilyName)}
	}
	for i, g := range u.Groups {
		out.Groups[i] = scimRef{Value: g.ID.String(), Display: g.DisplayName, Ref: h.location("Groups", g.ID.String())}
	}
	return out
}

func (h *scimHandlers) groupJSON(g scim.Group) scimGroupJSON {
	out := scimGroupJSON{
		Schemas: []string{scimGroupSchema}, ID: g.ID.String(), ExternalID: g.ExternalID, DisplayName: g.DisplayName,
		Members: make([]scimRef, len(g.Members)),
		Meta:    scimMeta{ResourceType: "Group", Created: scimTime(g.CreatedAt), LastModified: scimTime(g.UpdatedAt), Location: h.location("Groups", g.ID.String())},
	}
	for i, m := range g.Members {
		out.Members[i] = scimRef{Value: m.ID.String(), Display: m.UserName, Ref: h.location("Users", m.ID.String())}
	}
	return out
}

// scimUserBody is a user resource as a client sends it; attributes
// Stockade does not keep are ignored.
type scimUserBody struct {
	UserName    string        `json:"userName"`
	ExternalID  string        `json:"externalId"`
	Name        *scimNameJSON `json:"name"`
	DisplayName string        `json:"displayName"`
	Active      *flexBool     `json:"active"`
	Emails      []scimEmail   `json:"emails"`
}

// input turns b into a scim.UserInput; active defaults to true (RFC 7643
// leaves it to the provider; Okta and Entra ID send it).
func (b scimUserBody) input() scim.UserInput {
	in := scim.UserInput{UserName: b.UserName, ExternalID: b.ExternalID, DisplayName: b.DisplayName, Active: true}
	if in.UserName == "" {
		for _, e := range b.Emails {
			if e.Primary || len(b.Emails) == 1 {
				in.UserName = e.Value
			}
		}
	}
	if b.Name != nil {
		in.GivenName, in.FamilyName = b.Name.GivenName, b.Name.FamilyName
	}
	if b.Active != nil {
		in.Active = bool(*b.Active)
	}
	return in
}

func (h *scimHandlers) createUser(w http.ResponseWriter, r *http.Request) {
	var b scimUserBody
	if err := decodeSCIM(r, &b); err != nil {
		writeSCIMError(w, r, err)
		return
	}
	u, err := h.svc.CreateUser(r.Context(), callerOf(r), b.input())
	if err != nil {
		writeSCIMError(w, r, err)
		return
	}
	w.Header().Set("Location", h.location("Users", u.ID.String()))
	writeSCIM(w, http.StatusCreated, h.userJSON(u))
}

// userID parses the {scim_user} path value; a malformed one names no
// user of the org: 404.
func userID(r *http.Request) (ports.SCIMUserID, error) {
	id, err := ports.ParseSCIMUserID(r.PathValue("scim_user"))
	if err != nil {
		return id, fmt.Errorf("no such user: %w", ports.ErrNotFound)
	}
	return id, nil
}

func groupID(r *http.Request) (ports.SCIMGroupID, error) {
	id, err := ports.ParseSCIMGroupID(r.PathValue("scim_group"))
	if err != nil {
		return id, fmt.Errorf("no such group: %w", ports.ErrNotFound)
	}
	return id, nil
}

func (h *scimHandlers) getUser(w http.ResponseWriter, r *http.Request) {
	id, err := userID(r)
	var u scim.User
	if err == nil {
		u, err = h.svc.GetUser(r.Context(), callerOf(r), id)
	}
	if err != nil {
		writeSCIMError(w, r, err)
		return
	}
	writeSCIM(w, http.StatusOK, h.userJSON(u))
}

// scimFilter matches the one filter form Stockade serves: attribute eq
// "value" (RFC 7644 §3.4.2.2), which is what Okta and Entra ID send.
var scimFilter = regexp.MustCompile(`^\s*([A-Za-z][\w.]*)\s+(?i:eq)\s+("(?:[^"\\]|\\.)*")\s*$`)

// parseFilter returns the value of filter when it is `attr eq "value"`
// for attr (case-insensitive); "" for no filter.
func parseFilter(filter, attr string) (string, error) {
	if strings.TrimSpace(filter) == "" {
		return "", nil
	}
	m := scimFilter.FindStringSubmatch(filter)
	if m == nil || !strings.EqualFold(m[1], attr) {
		return "", badSCIM("invalidFilter", fmt.Sprintf("only the filter %s eq \"…\" is supported", attr))
	}
	var v string
	if err := json.Unmarshal([]byte(m[2]), &v); err != nil || v == "" {
		return "", badSCIM("invalidFilter", "the filter's value is not a string")
	}
	return v, nil
}

// pageOf reads startIndex (1-based, default 1) and count (default 100,
// at most scim.MaxPage; 0 asks for the total only).
func pageOf(r *http.Request) (ports.SCIMPage, int, error) {
	q := r.URL.Query()
	start, count := 1, scimDefaultCount
	if s := q.Get("startIndex"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return ports.SCIMPage{}, 0, badSCIM("invalidValue", "startIndex must be a number")
		}
		start = max(n, 1)
	}
	if s := q.Get("count"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return ports.SCIMPage{}, 0, badSCIM("invalidValue", "count must be a number")
		}
		count = min(max(n, 0), scim.MaxPage)
	}
	return ports.SCIMPage{Offset: start - 1, Limit: count}, start, nil
}

type scimList struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	StartIndex   int      `json:"startIndex"`
	ItemsPerPage int      `json:"itemsPerPage"`
	Resources    []any    `json:"Resources"`
}

func (h *scimHandlers) listUsers(w http.ResponseWriter, r *http.Request) {
	serveSCIMList(w, r, "userName", h.svc.ListUsers, h.userJSON)
}

// serveSCIMList answers a SCIM list request: the `filter` (attr eq "…")
// and paging parameters, list's page, and each resource as toJSON
// renders it, in a ListResponse.
func serveSCIMList[T, J any](w http.ResponseWriter, r *http.Request, attr string,
	list func(context.Context, scim.Caller, string, ports.SCIMPage) ([]T, int, error), toJSON func(T) J) {
	value, err := parseFilter(r.URL.Query().Get("filter"), attr)
	if err != nil {
		writeSCIMError(w, r, err)
		return
	}
	page, start, err := pageOf(r)
	if err != nil {
		writeSCIMError(w, r, err)
		return
	}
	items, total, err := list(r.Context(), callerOf(r), value, page)
	if err != nil {
		writeSCIMError(w, r, err)
		return
	}
	out := scimList{Schemas: []string{scimListSchema}, TotalResults: total, StartIndex: start, ItemsPerPage: len(items), Resources: make([]any, len(items))}
	for i, it := range items {
		out.Resources[i] = toJSON(it)
	}
	writeSCIM(w, http.StatusOK, out)
}

func (h *scimHandlers) replaceUser(w http.ResponseWriter, r *http.Request) {
	id, err := userID(r)
	if err != nil {
		writeSCIMError(w, r, err)
		return
	}
	var b scimUserBody
	if err := decodeSCIM(r, &b); err != nil {
		writeSCIMError(w, r, err)
		return
	}
	u, err := h.svc.ReplaceUser(r.Context(), callerOf(r), id, b.input())
	if err != nil {
		writeSCIMError(w, r, err)
		return
	}
	writeSCIM(w, http.StatusOK, h.userJSON(u))
}

// scimPatch is a PATCH request (RFC 7644 §3.5.2).
type scimPatch struct {
	Operations []scimOp `json:"Operations"`
}

type scimOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// opKind is op's operation in lower case: add, replace or remove.
func opKind(op scimOp) (string, error) {
	k := strings.ToLower(op.Op)
	if k != "add" && k != "replace" && k != "remove" {
		return "", badSCIM("invalidSyntax", fmt.Sprintf("unknown PATCH op %q", op.Op))
	}
	return k, nil
}

// applyUserAttr sets the user attribute path (case-insensitive) of in to
// raw, or clears it when raw is nil. Attributes Stockade does not keep
// are ignored; userName may only be set to the same address.
func applyUserAttr(in *scim.UserInput, path string, raw json.RawMessage) error {
	str := func() (string, error) {
		if raw == nil {
			return "", nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", badSCIM("invalidValue", path+" must be a string")
		}
		return s, nil
	}
	var err error
	switch strings.ToLower(path) {
	case "active":
		if raw == nil {
			return nil
		}
		var b flexBool
		if err := json.Unmarshal(raw, &b); err != nil {
			return badSCIM("invalidValue", "active must be a boolean")
		}
		in.Active = bool(b)
	case "username":
		var s string
		if s, err = str(); err == nil && ports.NormalizeEmail(s) != ports.NormalizeEmail(in.UserName) {
			return scim.ErrUserNameChanged
		}
	case "externalid":
		in.ExternalID, err = str()
	case "displayname":
		in.DisplayName, err = str()
	case "name.givenname":
		in.GivenName, err = str()
	case "name.familyname":
		in.FamilyName, err = str()
	case "name":
		var n scimNameJSON
		if raw != nil {
			if err := json.Unmarshal(raw, &n); err != nil {
				return badSCIM("invalidValue", "name must be an object")
			}
		}
		in.GivenName, in.FamilyName = n.GivenName, n.FamilyName
	}
	return err
}

func (h *scimHandlers) patchUser(w http.ResponseWriter, r *http.Request) {
	id, err := userID(r)
	if err != nil {
		writeSCIMError(w, r, err)
		return
	}
	var p scimPatch
	if err := decodeSCIM(r, &p); err != nil {
		writeSCIMError(w, r, err)
		return
	}
	c := callerOf(r)
	u, err := h.svc.GetUser(r.Context(), c, id)
	if err != nil {
		writeSCIMError(w, r, err)
		return
	}
	in := scim.UserInput{UserName: u.UserName, ExternalID: u.ExternalID, GivenName: u.GivenName, FamilyName: u.FamilyName, DisplayName: u.DisplayName, Active: u.Active}
	for _, op := range p.Operations {
		if err := patchUserOp(&in, op); err != nil {
			writeSCIMError(w, r, err)
			return
		}
	}
	out, err := h.svc.ReplaceUser(r.Context(), c, id, in)
	if err != nil {
		writeSCIMError(w, r, err)
		return
	}
	writeSCIM(w, http.StatusOK, h.userJSON(out))
}

// patchUserOp applies one operation: Okta's {"op":"replace","value":
// {"active":false}} (no path, an object of attributes) and Entra ID's
// {"op":"Replace","path":"active","value":"False"} alike.
func patchUserOp(in *scim.UserInput, op scimOp) error {
	kind, err := opKind(op)
	if err != nil {
		return err
	}
	if kind == "remove" {
		if op.Path == "" {
			return badSCIM("noTarget", "remove needs a path")
		}
		return applyUserAttr(in, op.Path, nil)
	}
	if op.Path != "" {
		return applyUserAttr(in, op.Path, op.Value)
	}
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal(op.Value, &attrs); err != nil {
		return badSCIM("invalidValue", "an operation without a path needs an object value")
	}
	for k, v := range attrs {
		if err := applyUserAttr(in, k, v); err != nil {
			return err
		}
	}
	return nil
}

func (h *scimHandlers) deleteUser(w http.ResponseWriter, r *http.Request) {
	id, err := userID(r)
	if err == nil {
		err = h.svc.DeleteUser(r.Context(), callerOf(r), id)
	}
	if err != nil {
		writeSCIMError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// scimGroupBody is a group resource as a client sends it.
type scimGroupBody struct {
	DisplayName string    `json:"displayName"`
	ExternalID  string    `json:"externalId"`
	Members     []scimRef `json:"members"`
}

// memberIDs parses member references; a malformed id names no user of the
// org: 404.
func memberIDs(refs []scimRef) ([]ports.SCIMUserID, error) {
	out := make([]ports.SCIMUserID, 0, len(refs))
	for _, ref := range refs {
		id, err := ports.ParseSCIMUserID(ref.Value)
		if err != nil {
			return nil, fmt.Errorf("no such user %q: %w", ref.Value, ports.ErrNotFound)
		}
		out = append(out, id)
	}
	return out, nil
}

func (b scimGroupBody) input() (scim.GroupInput, error) {
	ids, err := memberIDs(b.Members)
	if err != nil {
		return scim.GroupInput{}, err
	}
	if strings.TrimSpace(b.DisplayName) == "" {
		return scim.GroupInput{}, badSCIM("invalidValue", "displayName is required")
	}
	return scim.GroupInput{DisplayName: b.DisplayName, ExternalID: b.ExternalID, Members: ids}, nil
}

func (h *scimHandlers) createGroup(w http.ResponseWriter, r *http.Request) {
	var b scimGroupBody
	if err := decodeSCIM(r, &b); err != nil {
		writeSCIMError(w, r, err)
		return
	}
	in, err := b.input()
	var g scim.Group
	if err == nil {
		g, err = h.svc.CreateGroup(r.Context(), callerOf(r), in)
	}
	if err != nil {
		writeSCIMError(w, r, err)
		return
	}
	w.Header().Set("Location", h.location("Groups", g.ID.String()))
	writeSCIM(w, http.StatusCreated, h.groupJSON(g))
}

func (h *scimHandlers) getGroup(w http.ResponseWriter, r *http.Request) {
	id, err := groupID(r)
	var g scim.Group
	if err == nil {
		g, err = h.svc.GetGroup(r.Context(), callerOf(r), id)
	}
	if err != nil {
		writeSCIMError(w, r, err)
		return
	}
	writeSCIM(w, http.StatusOK, h.groupJSON(g))
}

func (h *scimHandlers) listGroups(w http.ResponseWriter, r *http.Request) {
	serveSCIMList(w, r, "displayName", h.svc.ListGroups, h.groupJSON)
}

func (h *scimHandlers) replaceGroup(w http.ResponseWriter, r *http.Request) {
	id, err := groupID(r)
	if err != nil {
		writeSCIMError(w, r, err)
		return
	}
	var b scimGroupBody
	if err := decodeSCIM(r, &b); err != nil {
		writeSCIMError(w, r, err)
		return
	}
	in, err := b.input()
	var g scim.Group
	if err == nil {
		g, err = h.svc.ReplaceGroup(r.Context(), callerOf(r), id, in)
	}
	if err != nil {
		writeSCIMError(w, r, err)
		return
	}
	writeSCIM(w, http.StatusOK, h.groupJSON(g))
}

// memberFilter is the path of Okta's member removal: members[value eq "id"].
var memberFilter = regexp.MustCompile(`^(?i:members)\[\s*(?i:value)\s+(?i:eq)\s+("(?:[^"\\]|\\.)*")\s*\]$`)

// groupPatchOp folds one operation into p: members added, removed
// (by value list, or Okta's members[value eq "…"] path) or replaced;
// displayName and externalId replaced, by path or in a value object.
func groupPatchOp(p *scim.GroupPatch, op scimOp) error {
	kind, err := opKind(op)
	if err != nil {
		return err
	}
	refs := func() ([]ports.SCIMUserID, error) {
		var list []scimRef
		if len(op.Value) == 0 || string(op.Value) == "null" {
			return nil, nil
		}
		if err := json.Unmarshal(op.Value, &list); err != nil {
			var one scimRef
			if err := json.Unmarshal(op.Value, &one); err != nil {
				return nil, badSCIM("invalidValue", "members must be a list of {value}")
			}
			list = []scimRef{one}
		}
		return memberIDs(list)
	}
	str := func(field string) (*string, error) {
		var s string
		if kind == "remove" {
			return &s, nil
		}
		if err := json.Unmarshal(op.Value, &s); err != nil {
			return nil, badSCIM("invalidValue", field+" must be a string")
		}
		return &s, nil
	}
	if m := memberFilter.FindStringSubmatch(op.Path); m != nil {
		if kind != "remove" {
			return badSCIM("invalidPath", "a filtered members path is only for remove")
		}
		var v string
		if err := json.Unmarshal([]byte(m[1]), &v); err != nil {
			return badSCIM("invalidPath", "the member filter's value is not a string")
		}
		ids, err := memberIDs([]scimRef{{Value: v}})
		if err != nil {
			return err
		}
		p.Remove = append(p.Remove, ids...)
		return nil
	}
	switch strings.ToLower(op.Path) {
	case "members":
		ids, err := refs()
		if err != nil {
			return err
		}
		switch {
		case kind == "add":
			p.Add = append(p.Add, ids...)
		case kind == "remove" && ids != nil:
			p.Remove = append(p.Remove, ids...)
		default: // replace, or remove of every member
			p.Replace, p.Add, p.Remove = &ids, nil, nil
		}
	case "displayname":
		if kind == "remove" {
			return badSCIM("mutability", "displayName is required")
		}
		p.DisplayName, err = str("displayName")
	case "externalid":
		p.ExternalID, err = str("externalId")
	case "":
		if kind == "remove" {
			return badSCIM("noTarget", "remove needs a path")
		}
		var attrs map[string]json.RawMessage
		if err := json.Unmarshal(op.Value, &attrs); err != nil {
			return badSCIM("invalidValue", "an operation without a path needs an object value")
		}
		for k, v := range attrs {
			if strings.EqualFold(k, "id") || strings.EqualFold(k, "schemas") || strings.EqualFold(k, "meta") {
				continue // Okta repeats the id; it is not changed
			}
			if err := groupPatchOp(p, scimOp{Op: op.Op, Path: k, Value: v}); err != nil {
				return err
			}
		}
	}
	return err
}

func (h *scimHandlers) patchGroup(w http.ResponseWriter, r *http.Request) {
	id, err := groupID(r)
	if err != nil {
		writeSCIMError(w, r, err)
		return
	}
	var body scimPatch
	if err := decodeSCIM(r, &body); err != nil {
		writeSCIMError(w, r, err)
		return
	}
	var p scim.GroupPatch
	for _, op := range body.Operations {
		if err := groupPatchOp(&p, op); err != nil {
			writeSCIMError(w, r, err)
			return
		}
	}
	g, err := h.svc.PatchGroup(r.Context(), callerOf(r), id, p)
	if err != nil {
		writeSCIMError(w, r, err)
		return
	}
	writeSCIM(w, http.StatusOK, h.groupJSON(g))
}

func (h *scimHandlers) deleteGroup(w http.ResponseWriter, r *http.Request) {
	id, err := groupID(r)
	if err == nil {
		err = h.svc.DeleteGroup(r.Context(), callerOf(r), id)
	}
	if err != nil {
		writeSCIMError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- discovery (RFC 7644 §4) ---

func (h *scimHandlers) serviceProviderConfig(w http.ResponseWriter, r *http.Request) {
	writeSCIM(w, http.StatusOK, map[string]any{
		"schemas":          []string{scimSPCSchema},
		"documentationUri": "https://github.com/stockadehq/stockade/blob/main/docs/scim.md",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": scim.MaxPage},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": false},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "OAuth Bearer Token", "primary": true,
			"description": "The org's SCIM token, made by an org owner (POST /org/scim/tokens), in the Authorization header's Bearer scheme.",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": h.base + "/ServiceProviderConfig"},
	})
}

func (h *scimHandlers) resourceTypes(w http.ResponseWriter, r *http.Request) {
	rt := func(name, endpoint, schema string) map[string]any {
		return map[string]any{
			"schemas": []string{scimRTSchema}, "id": name, "name": name, "endpoint": endpoint, "schema": schema,
			"meta": map[string]any{"resourceType": "ResourceType", "location": h.base + "/ResourceTypes/" + name},
		}
	}
	list := []any{rt("User", "/Users", scimUserSchema), rt("Group", "/Groups", scimGroupSchema)}
	writeSCIM(w, http.StatusOK, scimList{Schemas: []string{scimListSchema}, TotalResults: len(list), StartIndex: 1, ItemsPerPage: len(list), Resources: list})
}

// scimAttr describes one attribute in a Schemas answer.
func scimAttr(name, typ string, required bool, mutability, uniqueness string, sub ...map[string]any) map[string]any {
	a := map[string]any{
		"name": name, "type": typ, "multiValued": false, "required": required, "caseExact": false,
		"mutability": mutability, "returned": "default", "uniqueness": uniqueness,
	}
	if len(sub) > 0 {
		a["subAttributes"] = sub
	}
	return a
}

func scimMulti(a map[string]any) map[string]any { a["multiValued"] = true; return a }

func (h *scimHandlers) schemas(w http.ResponseWriter, r *http.Request) {
	schema := func(id, name string, attrs ...map[string]any) map[string]any {
		return map[string]any{
			"schemas": []string{scimSchemaSchema}, "id": id, "name": name, "attributes": attrs,
			"meta": map[string]any{"resourceType": "Schema", "location": h.base + "/Schemas/" + id},
		}
	}
	user := schema(scimUserSchema, "User",
		scimAttr("userName", "string", true, "immutable", "server"),
		scimAttr("externalId", "string", false, "readWrite", "none"),
		scimAttr("name", "complex", false, "readWrite", "none",
			scimAttr("givenName", "string", false, "readWrite", "none"),
			scimAttr("familyName", "string", false, "readWrite", "none"),
			scimAttr("formatted", "string", false, "readOnly", "none")),
		scimAttr("displayName", "string", false, "readWrite", "none"),
		scimAttr("active", "boolean", false, "readWrite", "none"),
		scimMulti(scimAttr("emails", "complex", false, "readOnly", "none",
			scimAttr("value", "string", false, "readOnly", "none"))),
		scimMulti(scimAttr("groups", "complex", false, "readOnly", "none",
			scimAttr("value", "string", false, "readOnly", "none"),
			scimAttr("display", "string", false, "readOnly", "none"))),
	)
	group := schema(scimGroupSchema, "Group",
		scimAttr("displayName", "string", true, "readWrite", "server"),
		scimAttr("externalId", "string", false, "readWrite", "none"),
		scimMulti(scimAttr("members", "complex", false, "readWrite", "none",
			scimAttr("value", "string", false, "immutable", "none"),
			scimAttr("display", "string", false, "readOnly", "none"))),
	)
	list := []any{user, group}
	writeSCIM(w, http.StatusOK, scimList{Schemas: []string{scimListSchema}, TotalResults: len(list), StartIndex: 1, ItemsPerPage: len(list), Resources: list})
}
