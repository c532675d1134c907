package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/stockadehq/stockade/core/auth"
)

// OpenAPIRoute is where the API serves its own OpenAPI document (see
// OpenAPI): public, on any host, no session.
const OpenAPIRoute = "/openapi.json"

// OpenAPIInfo is what the OpenAPI document says about the deployment
// rather than about its routes.
type OpenAPIInfo struct {
	// Version is the document's info.version, the build's version; ""
	// means "dev".
	Version string
	// PublicURL is the platform's URL (the public URL HostShops was
	// made with, e.g. "https://example.com"): the document's servers are
	// the shops' hosts under it ({shop}.example.com) and, for the
	// platform's own routes, the URL itself. "" leaves servers out.
	PublicURL string
}

// OpenAPI returns the OpenAPI 3.1 document, as indented JSON, of routes
// (as API.Routes lists them) and of the health checks GET /healthz and GET
// /readyz. It is derived from the routes alone:
//
//   - one operation per route, its operationId the method and path
//     (e.g. post_files_file_finalize), its tag the path's first segment;
//   - a required string parameter per {name} of the path;
//   - security: the session cookie (AccessSession), the operator cookie
//     (AccessOperator), the link token in the query or as a bearer token
//     (AccessCapability), the org's SCIM token as a bearer token
//     (AccessSCIM), none otherwise;
//   - a request body when Route.Body is set, its schema derived from the
//     Go type by reflection (unknown fields refused, as decodeJSON does),
//     also as a form when Route.Form;
//   - error answers as RFC 9457 problem details
//     (application/problem+json, #/components/schemas/Problem, derived
//     from Problem), but SCIM errors on AccessSCIM routes;
//   - the route's access in x-stockade-* extensions: x-stockade-access,
//     x-stockade-host (shop, platform or any), x-stockade-permission,
//     x-stockade-org-permission, x-stockade-hq (also served under
//     HQPrefix; set on the route, not on that copy), x-stockade-via-hq
//     (the copy), x-stockade-capability, x-stockade-recent-auth
//     (Route.Sensitive) and x-stockade-before-second-factor
//     (Route.BeforeSecondFactor).
//
// Success answers are described by their status class only. An error
// names a body type whose schema cannot be derived.
func OpenAPI(routes []Route, info OpenAPIInfo) ([]byte, error) {
	b := &openAPIBuilder{schemas: newSchemaSet(), paths: map[string]map[string]any{}, opIDs: map[string]bool{}}
	if err := b.build(routes, info); err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(b.doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("openapi: encode the document: %w", err)
	}
	return append(out, '\n'), nil
}

// OpenAPI returns the document the API serves at OpenAPIRoute (see the
// function OpenAPI), or the error that kept it from being built.
func (a *API) OpenAPI() ([]byte, error) { return a.openapi.get() }

// openAPIDoc is the API's own document, built from its routes on first
// use.
type openAPIDoc struct {
	routes []Route
	info   OpenAPIInfo
	once   sync.Once
	body   []byte
	err    error
}

func (d *openAPIDoc) get() ([]byte, error) {
	d.once.Do(func() { d.body, d.err = OpenAPI(d.routes, d.info) })
	return d.body, d.err
}

func (d *openAPIDoc) serve(w http.ResponseWriter, r *http.Request) {
	body, err := d.get()
	if err != nil {
		WriteProblem(w, r, fmt.Errorf("build the OpenAPI document: %w", err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(body)
}

// buildVersion is the main module's version as the Go toolchain recorded
// it, or "dev".
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

type openAPIBuilder struct {
	schemas *schemaSet
	paths   map[string]map[string]any
	opIDs   map[string]bool
	doc     map[string]any
	// shopServer and platformServer are the servers of routes on a shop's
	// host and on the platform's; nil without a public URL.
	shopServer, platformServer map[string]any
}

func (b *openAPIBuilder) build(routes []Route, info OpenAPIInfo) error {
	version := info.Version
	if version == "" {
		version = "dev"
	}
	problem, err := b.schemas.of(reflect.TypeFor[Problem](), writeMode)
	if err != nil {
		return fmt.Errorf("openapi: the problem schema: %w", err)
	}
	b.doc = map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Stockade API",
			"version":     version,
			"description": openAPIDescription,
			"license":     map[string]any{"name": "Apache-2.0", "identifier": "Apache-2.0"},
		},
		"paths": b.paths,
	}
	if info.PublicURL != "" {
		if err := b.servers(info.PublicURL); err != nil {
			return err
		}
		b.doc["servers"] = []any{b.shopServer}
	}
	b.health()
	for _, r := range routes {
		if err := b.operation(r); err != nil {
			return err
		}
	}
	b.doc["components"] = map[string]any{
		"schemas": b.schemas.components,
		"responses": map[string]any{
			"Problem": map[string]any{
				"description": "An RFC 9457 problem details object: the status, its title, a detail for this occurrence, the request ID, and for a 400 the refused fields. A 429 carries Retry-After (whole seconds).",
				"content":     map[string]any{"application/problem+json": map[string]any{"schema": problem}},
			},
			"ServerProblem": map[string]any{
				"description": "A server-side failure (500) or unavailability (503): a problem with a fixed detail; the request ID finds the error in the logs.",
				"content":     map[string]any{"application/problem+json": map[string]any{"schema": problem}},
			},
		},
		"securitySchemes": map[string]any{
			"session": map[string]any{
				"type": "apiKey", "in": "cookie", "name": auth.SessionCookieName,
				"description": "The session cookie that signing in on a shop's host sets (Secure, HttpOnly, host-only). It is a credential only on the host of the shop it was made for; requests carrying it from another origin are refused (CSRF).",
			},
			"operatorSession": map[string]any{
				"type": "apiKey", "in": "cookie", "name": auth.OperatorCookieName,
				"description": "A platform operator's session cookie, set by POST /operator/signin on the platform's own host; no credential anywhere else.",
			},
			"linkToken": map[string]any{
				"type": "apiKey", "in": "query", "name": LinkTokenParam,
				"description": "A capability link's token: it admits the one record and the actions the link was minted for.",
			},
			"linkBearer": map[string]any{
				"type": "http", "scheme": "bearer",
				"description": "A capability link's token sent as Authorization: Bearer instead of in the query.",
			},
			"scimBearer": map[string]any{
				"type": "http", "scheme": "bearer",
				"description": "An org's SCIM token (made by an org owner with POST /org/scim/tokens, shown once) as Authorization: Bearer: it alone names the org.",
			},
		},
	}
	return nil
}

// openAPIDescription is info.description.
const openAPIDescription = `Stockade's HTTP API, generated from its router.

Hosts: a shop lives at {shop}.<public host>, and its routes resolve the shop from the Host header; the platform's routes (operators) live on the public host itself; a few routes (sign-up, mailed links of the platform, provider webhooks, this document, the health checks) answer on any host.

Errors are RFC 9457 problem details (application/problem+json) with the request ID; a 400 lists the refused fields. Request bodies are one JSON object, sent as application/json, at most 64 KiB, unknown fields refused.

Session cookies are Secure and host-only: a client must keep them for the shop's host (curl's cookie jar drops a Secure cookie over plain http). State-changing requests that carry a cookie from another origin are refused.`

// servers derives the shop and platform servers from the public URL.
func (b *openAPIBuilder) servers(public string) error {
	u, err := url.Parse(public)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("openapi: public URL %q is not an absolute URL", public)
	}
	b.shopServer = map[string]any{
		"url":         u.Scheme + "://{shop}." + u.Host,
		"description": "A shop's host.",
		"variables":   map[string]any{"shop": map[string]any{"default": "acme", "description": "The shop's slug."}},
	}
	b.platformServer = map[string]any{"url": u.Scheme + "://" + u.Host, "description": "The platform's own host."}
	return nil
}

// health adds the health checks, which API.Routes does not list.
func (b *openAPIBuilder) health() {
	status := func(v string) map[string]any {
		return map[string]any{"application/json": map[string]any{"schema": map[string]any{
			"type": "object", "properties": map[string]any{"status": map[string]any{"const": v}}, "required": []string{"status"},
		}}}
	}
	check := func(id, summary string, responses map[string]any) map[string]any {
		op := map[string]any{"operationId": id, "tags": []string{"health"}, "security": []any{}, "summary": summary, "responses": responses}
		if s := b.serversFor(Route{}); s != nil {
			op["servers"] = s
		}
		return map[string]any{"get": op}
	}
	b.paths["/healthz"] = check("get_healthz", "Liveness: the process serves.", map[string]any{
		"200": map[string]any{"description": "The process serves.", "content": status("ok")},
	})
	b.paths["/readyz"] = check("get_readyz", "Readiness: the store answers within 2 s.", map[string]any{
		"200": map[string]any{"description": "Ready.", "content": status("ready")},
		"503": map[string]any{"$ref": "#/components/responses/ServerProblem"},
	})
	b.opIDs["get_healthz"], b.opIDs["get_readyz"] = true, true
}

// serversFor returns the operation-level servers of r: nil for a route on
// a shop's host (the document's servers), the platform's for its own
// routes, both for a route on any host.
func (b *openAPIBuilder) serversFor(r Route) []any {
	switch {
	case b.shopServer == nil || r.OnShop:
		return nil
	case r.OnPlatform:
		return []any{b.platformServer}
	}
	return []any{b.shopServer, b.platformServer}
}

// openAPIPath turns a net/http pattern path into an OpenAPI path template
// and lists its parameters: "{name...}" becomes "{name}", "{$}" goes.
func openAPIPath(p string) (string, []string) {
	p = strings.ReplaceAll(p, "{$}", "")
	var names []string
	var out strings.Builder
	for {
		i := strings.IndexByte(p, '{')
		j := strings.IndexByte(p, '}')
		if i < 0 || j < i {
			out.WriteString(p)
			return out.String(), names
		}
		name := strings.TrimSuffix(p[i+1:j], "...")
		names = append(names, name)
		out.WriteString(p[:i] + "{" + name + "}")
		p = p[j+1:]
	}
}

// paramDoc describes a path parameter by its name.
func paramDoc(name string) string {
	switch name {
	case "hq_shop":
		return "The slug of the org's shop to act in (HQ)."
	case "shop_slug":
		return "The shop's slug."
	case "provider":
		return "The OpenID Connect provider's name."
	case "token":
		return "The token from the link."
	case "session", "user", "file", "invitation", "job", "link", "contact", "message", "endpoint":
		return "The " + name + "'s ID."
	}
	return "Path parameter " + name + "."
}

// operationID names r's operation: the method and the path's words.
func operationID(method, path string) string {
	id := strings.ToLower(method) + "_" + strings.Map(func(c rune) rune {
		if c < 128 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return c
		}
		return '_'
	}, strings.Trim(path, "/"))
	for strings.Contains(id, "__") {
		id = strings.ReplaceAll(id, "__", "_")
	}
	return strings.TrimSuffix(id, "_")
}

func (b *openAPIBuilder) operation(r Route) error {
	path, params := openAPIPath(r.Path)
	method := strings.ToLower(r.Method)
	item := b.paths[path]
	if item == nil {
		item = map[string]any{}
		b.paths[path] = item
	}
	if _, dup := item[method]; dup {
		return fmt.Errorf("openapi: %s %s is registered twice", r.Method, path)
	}
	id := operationID(r.Method, path)
	for n := 2; b.opIDs[id]; n++ {
		id = fmt.Sprintf("%s_%d", operationID(r.Method, path), n)
	}
	b.opIDs[id] = true
	tag, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(r.Path, HQPrefix), "/"), "/")
	if tag == "" {
		tag = "root"
	}
	op := map[string]any{
		"operationId":       id,
		"tags":              []string{tag},
		"description":       routeAccessText(r),
		"x-stockade-access": string(r.Access),
		"x-stockade-host":   routeHost(r),
	}
	if s := b.serversFor(r); s != nil {
		op["servers"] = s
	}
	if len(params) > 0 {
		ps := make([]any, len(params))
		for i, name := range params {
			ps[i] = map[string]any{"name": name, "in": "path", "required": true, "description": paramDoc(name), "schema": map[string]any{"type": "string"}}
		}
		op["parameters"] = ps
	}
	switch r.Access {
	case AccessSession:
		op["security"] = []any{map[string]any{"session": []string{}}}
		op["x-stockade-permission"] = string(r.Permission)
		if r.OrgPermission != "" {
			op["x-stockade-org-permission"] = string(r.OrgPermission)
		}
	case AccessOperator:
		op["security"] = []any{map[string]any{"operatorSession": []string{}}}
	case AccessCapability:
		op["security"] = []any{map[string]any{"linkToken": []string{}}, map[string]any{"linkBearer": []string{}}}
	case AccessSCIM:
		op["security"] = []any{map[string]any{"scimBearer": []string{}}}
		op["x-stockade-capability"] = map[string]any{"record_type": r.RecordType, "record_param": r.RecordParam, "action": r.Action}
	default:
		op["security"] = []any{}
	}
	if r.Sensitive {
		op["x-stockade-recent-auth"] = true
	}
	if r.BeforeSecondFactor {
		op["x-stockade-before-second-factor"] = true
	}
	if r.HQ && !r.ViaHQ {
		op["x-stockade-hq"] = true
	}
	if r.ViaHQ {
		op["x-stockade-via-hq"] = true
	}
	responses := map[string]any{
		"2XX": map[string]any{"description": "Success."},
		"4XX": map[string]any{"$ref": "#/components/responses/Problem"},
		"5XX": map[string]any{"$ref": "#/components/responses/ServerProblem"},
	}
	if r.Access == AccessSCIM {
		// SCIM answers and errors are SCIM's own (RFC 7644), not problems.
		responses = map[string]any{
			"2XX": map[string]any{"description": "Success: a SCIM resource or list (application/scim+json)."},
			"4XX": map[string]any{"description": "A SCIM error (application/scim+json, schema urn:ietf:params:scim:api:messages:2.0:Error, the status as a string)."},
			"5XX": map[string]any{"description": "A SCIM error with a fixed detail; the request ID finds the cause in the logs."},
		}
	}
	if r.Body != nil {
		s, err := b.schemas.of(r.Body, readMode)
		if err != nil {
			return fmt.Errorf("openapi: the body of %s: %w", r.Pattern(), err)
		}
		content := map[string]any{"application/json": map[string]any{"schema": s}}
		if r.Form {
			content["application/x-www-form-urlencoded"] = map[string]any{"schema": s}
			responses["2XX"] = map[string]any{"description": "Success: JSON for a JSON body, a page for a form post."}
			responses["3XX"] = map[string]any{"description": "A form post may be answered with a redirect (303 See Other)."}
		}
		op["requestBody"] = map[string]any{"required": true, "content": content}
	}
	op["responses"] = responses
	item[method] = op
	return nil
}

// routeHost says where r is served: "shop", "platform" or "any".
func routeHost(r Route) string {
	switch {
	case r.OnShop:
		return "shop"
	case r.OnPlatform:
		return "platform"
	}
	return "any"
}

// routeAccessText says in words what r needs before its handler runs.
func routeAccessText(r Route) string {
	var s string
	switch r.Access {
	case AccessSession:
		s = "Needs a session on the shop's host; the caller's role must hold `" + string(r.Permission) + "`."
		if r.OrgPermission != "" {
			s = "Needs a session on a shop's host of the org; the caller's org role must allow `" + string(r.OrgPermission) + "`."
		}
	case AccessOperator:
		s = "Needs a platform operator's session, on the platform's own host."
	case AccessCapability:
		s = fmt.Sprintf("Needs a capability link's token for the %s named by {%s}, granting %q.", r.RecordType, r.RecordParam, r.Action)
	case AccessWebhook:
		s = "A provider's webhook: the signature over the body is the credential, checked before the body is read."
	case AccessSCIM:
		s = "SCIM 2.0 (RFC 7644): an org's SCIM token as a Bearer token is the credential and names the org; bodies and answers are application/scim+json, errors in the SCIM error schema. Served on any host."
	default:
		s = "Public: no session."
		switch {
		case r.OnShop:
			s += " Served on a shop's host."
		case r.OnPlatform:
			s += " Served on the platform's own host."
		default:
			s += " Served on any host."
		}
	}
	if r.Sensitive {
		s += " Needs a recent authentication too and, from a user with a second factor, a session that used it (AAL2): otherwise 403, and the client re-authenticates with POST /auth/2fa/step-up."
	}
	if r.BeforeSecondFactor {
		s += " Also serves a session that must still step up or enrol a second factor, which every other session route refuses with 403."
	}
	switch {
	case r.ViaHQ:
		s += " The HQ copy of " + strings.TrimPrefix(r.Path, HQPrefix) + ": an org owner or admin signed in on any shop of the org acts in the shop named by {hq_shop}."
	case r.HQ:
		s += " Also served under " + HQPrefix + " to the org's owners and admins (HQ)."
	}
	return s
}
