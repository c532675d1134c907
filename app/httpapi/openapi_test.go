package httpapi_test

// The OpenAPI document (GET /openapi.json): it validates as OpenAPI 3.1,
// lists exactly the routes API.Routes has (and the health checks), every
// route whose handler decodes a JSON body declares exactly that body, real
// answers and requests conform to it, and it is the same public document
// on every host, whoever asks.
//
//	go test ./app/httpapi -run 'OpenAPI' -v

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/core/capability"
	"github.com/stockadehq/stockade/ports"
)

// fullAPI is the matrix world's API with every part, billing included
// (on a Stripe that cannot be reached: no test here needs it to answer).
func fullAPI(t *testing.T) (*matrixWorld, *matrixAPI) {
	t.Helper()
	w := newMatrixWorld(t, false)
	policy := access.DefaultPolicy()
	return w, w.apiWith(w.raw, policy, unreachableBillingService(t, w.raw, policy, w.clock))
}

// getOpenAPI fetches the document on host, with cookie when not "".
func getOpenAPI(t *testing.T, a *matrixAPI, host, cookie string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, httpapi.OpenAPIRoute, nil)
	req.Host = host
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: auth.SessionCookieName, Value: cookie})
	}
	rec := httptest.NewRecorder()
	a.api.ServeHTTP(rec, req)
	res := rec.Result()
	return res, readBody(t, res)
}

// openAPIValidator parses doc and fails t unless it is a valid OpenAPI
// document whose schemas all compile.
func openAPIValidator(t *testing.T, doc []byte) validator.Validator {
	t.Helper()
	d, err := libopenapi.NewDocument(doc)
	require.NoError(t, err)
	require.Equal(t, "3.1.0", d.GetVersion())
	v, errs := validator.NewValidator(d)
	require.Empty(t, errs, "the document's schemas do not build")
	ok, verrs := v.ValidateDocument()
	for _, e := range verrs {
		t.Errorf("invalid OpenAPI 3.1: %s: %s (line %d)", e.Message, e.Reason, e.SpecLine)
		for _, se := range e.SchemaValidationErrors {
			t.Errorf("  at %s (%s): %s", se.FieldPath, se.KeywordLocation, se.Reason)
		}
	}
	require.True(t, ok, "the document does not validate as OpenAPI 3.1")
	return v
}

func TestOpenAPIDocumentValidates(t *testing.T) {
	_, a := fullAPI(t)
	res, body := getOpenAPI(t, a, "alpha.example.test", "")
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	require.Equal(t, "application/json", res.Header.Get("Content-Type"))
	served, err := a.api.OpenAPI()
	require.NoError(t, err)
	require.Equal(t, string(served), body, "API.OpenAPI is the served document")
	openAPIValidator(t, []byte(body))

	// The validator is no rubber stamp: the same document broken in a
	// way JSON Schema alone would let through is refused.
	var broken map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &broken))
	broken["paths"].(map[string]any)["/shop"].(map[string]any)["get"].(map[string]any)["responses"] = map[string]any{"2XX": map[string]any{}}
	raw, err := json.Marshal(broken)
	require.NoError(t, err)
	d, err := libopenapi.NewDocument(raw)
	require.NoError(t, err)
	v, _ := validator.NewValidator(d)
	ok, _ := v.ValidateDocument()
	require.False(t, ok, "a response without its required description must not validate")
}

// operations lists the document's operations as "METHOD /path".
func operations(t *testing.T, doc []byte) []string {
	t.Helper()
	var d struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(doc, &d))
	var out []string
	for path, item := range d.Paths {
		for method := range item {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				out = append(out, strings.ToUpper(method)+" "+path)
			default:
				t.Fatalf("path item %s has %q, which this test does not know", path, method)
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestOpenAPIListsEveryRoute: the document's operations are exactly the
// API's routes — Stockade's and the embedding app's capability routes
// (quotes) — and the health checks.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	_, a := fullAPI(t)
	doc, err := a.api.OpenAPI()
	require.NoError(t, err)
	want := []string{"GET /healthz", "GET /readyz"}
	for _, r := range a.api.Routes() {
		want = append(want, r.Method+" "+strings.ReplaceAll(r.Path, "...}", "}"))
	}
	slices.Sort(want)
	require.Equal(t, want, operations(t, doc), "the OpenAPI document lists exactly API.Routes and the health checks")
	require.Contains(t, want, "POST /p/quotes/{quote}/accept", "the app's routes are in the document too")
	require.Contains(t, want, "POST /billing/checkout")
	require.Contains(t, want, "GET "+httpapi.OpenAPIRoute)

	// And for an API with fewer parts, fewer routes: the document follows
	// the router, not a list of its own.
	small := httpapi.New(httpapi.Deps{})
	doc, err = small.OpenAPI()
	require.NoError(t, err)
	require.Equal(t, []string{"GET /healthz", "GET /openapi.json", "GET /readyz"}, operations(t, doc))
}

// TestOpenAPIDeclaresEveryJSONBody drives every route to its handler (as
// the org's owner for session routes, freshly signed in so that a
// sensitive route's recent authentication holds; as an operator signed in
// with their second factor, an AAL2 session, for operator routes; with a
// minted link for capability routes) with a JSON body and a route probe, and requires that a handler
// that decodes a JSON body decodes exactly the type its route declares
// (Route.Body), and one that declares a body decodes it: the request body
// schemas cannot fall behind the handlers.
func TestOpenAPIDeclaresEveryJSONBody(t *testing.T) {
	w, a := fullAPI(t)
	owner := w.orgOwner
	operator, _ := newOperator(t, a, "openapi-ops@platform.test")
	declared := 0
	for _, r := range a.api.Routes() {
		params := map[string]string{}
		if strings.Contains(r.Path, "{") || r.Access == httpapi.AccessSCIM { // fresh targets: a route may delete its own
			params = w.alphaTargets(a, owner, ports.RoleViewer)
		}
		params["token"] = "not-a-token"      // the unsubscribe link's: its handler judges it
		params["shop"] = w.alpha.ID.String() // a provider's status callback names the shop
		target := fill(t, r.Path, params)
		host := "alpha.example.test"
		if r.OnPlatform {
			host = "example.test"
		}
		var body *strings.Reader
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			body = strings.NewReader(`{}`)
		}
		var req *http.Request
		if body != nil {
			req = httptest.NewRequest(r.Method, target, body)
			req.Header.Set("Content-Type", "application/json")
		} else {
			req = httptest.NewRequest(r.Method, target, nil)
		}
		req.Host = host
		switch r.Access {
		case httpapi.AccessSession:
			cookie, _ := w.signIn(a, "alpha", owner.Email)
			req.AddCookie(&http.Cookie{Name: auth.SessionCookieName, Value: cookie})
		case httpapi.AccessOperator:
			// A fresh session each time: a route may end its own.
			req.AddCookie(&http.Cookie{Name: auth.OperatorCookieName, Value: operatorSignIn(t, a, operator.Email)})
		case httpapi.AccessSCIM:
			req.Header.Set("Authorization", "Bearer "+params["scim_bearer"])
			req.Header.Set("Content-Type", "application/scim+json")
		case httpapi.AccessCapability:
			l, err := a.links.Mint(w.owner(w.alpha), capability.MintInput{RecordType: r.RecordType, RecordID: params[r.RecordParam], Actions: []string{r.Action}})
			require.NoError(t, err)
			req.URL.RawQuery = url.Values{httpapi.LinkTokenParam: {l.Token}}.Encode()
		}
		ctx, probe := httpapi.WithRouteProbe(req.Context())
		rec := httptest.NewRecorder()
		a.api.ServeHTTP(rec, req.WithContext(ctx))
		w.restorePassword(a, owner)
		what := fmt.Sprintf("%s %s (%d %s)", r.Method, target, rec.Code, strings.TrimSpace(rec.Body.String()))
		require.True(t, probe.Reached(), "%s: the request did not reach the route's handler: give this test the credential the route needs", what)
		bodies := probe.Bodies()
		if r.Body == nil {
			if len(bodies) > 0 {
				t.Fatalf("%s: the handler decodes a JSON body of type %v, but the route declares none: add .json(%v{}) to its registration", what, bodies[0], bodies[0])
			}
			continue
		}
		require.NotEmpty(t, bodies, "%s: the route declares the body %v, but its handler decoded none", what, r.Body)
		for _, b := range bodies {
			require.Equal(t, r.Body, b, "%s: the handler decodes %v, the route declares %v", what, b, r.Body)
		}
		declared++
	}
	require.Positive(t, declared)
	t.Logf("%d routes driven to their handlers; %d decode a JSON body, each the one it declares", len(a.api.Routes()), declared)
}

// TestOpenAPIDescribesRealTraffic validates real requests and answers
// against the document: the problem answers match the problem schema and
// are typed application/problem+json, a request the handler accepts
// matches its body schema, and one with a field the handler refuses does
// not.
func TestOpenAPIDescribesRealTraffic(t *testing.T) {
	w, a := fullAPI(t)
	doc, err := a.api.OpenAPI()
	require.NoError(t, err)
	v := openAPIValidator(t, doc)
	exchange := func(method, target, host, contentType, body string) (*http.Request, *http.Response) {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.Host = host
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		a.api.ServeHTTP(rec, req)
		// The validator reads the request again: a fresh copy, on the
		// server the document names.
		again := httptest.NewRequest(method, "https://"+host+target, strings.NewReader(body))
		again.Header = req.Header.Clone()
		return again, rec.Result()
	}
	valid := func(what string, req *http.Request, res *http.Response) {
		t.Helper()
		ok, errs := v.ValidateHttpRequestResponse(req, res)
		for _, e := range errs {
			t.Errorf("%s: %s: %s", what, e.Message, e.Reason)
		}
		require.True(t, ok, what)
	}

	// A sign-in that succeeds: the request matches SignInRequest.
	req, res := exchange(http.MethodPost, "/auth/signin", "alpha.example.test", "application/json", credentials(w.orgOwner.Email, matrixPassword))
	require.Equal(t, http.StatusOK, res.StatusCode)
	valid("a successful sign-in", req, res)

	// 400 with the refused fields, 401, 404, 405: problems as documented.
	req, res = exchange(http.MethodPost, "/auth/signin", "alpha.example.test", "text/plain", "{}")
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	ok, errs := v.ValidateHttpResponse(req, res)
	require.True(t, ok, "a 400 problem: %v", errs)
	req, res = exchange(http.MethodPost, "/auth/signin", "alpha.example.test", "application/json", credentials(w.orgOwner.Email, "wrong-"+matrixPassword))
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	valid("a refused sign-in", req, res)
	req, res = exchange(http.MethodGet, "/shop", "alpha.example.test", "", "")
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	ok, errs = v.ValidateHttpResponse(req, res)
	require.True(t, ok, "a 401 problem: %v", errs)
	req, res = exchange(http.MethodPost, "/auth/signin", "nowhere.example.test", "application/json", credentials(w.orgOwner.Email, matrixPassword))
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	ok, errs = v.ValidateHttpResponse(req, res)
	require.True(t, ok, "a 404 problem: %v", errs)

	// The problem schema is checked, not waved through: a problem body
	// missing its status does not match.
	req, res = exchange(http.MethodGet, "/shop", "alpha.example.test", "", "")
	res.Body = io.NopCloser(strings.NewReader(`{"type":"about:blank","title":"Unauthorized"}`))
	ok, _ = v.ValidateHttpResponse(req, res)
	require.False(t, ok, "a problem without its status must not match the schema")

	// A body with a field the handler refuses does not match the schema
	// either: the schema refuses unknown fields as decodeJSON does.
	bad := `{"email":"x@alpha.test","password":"x","admin":true}`
	req, res = exchange(http.MethodPost, "/auth/signin", "alpha.example.test", "application/json", bad)
	require.Equal(t, http.StatusBadRequest, res.StatusCode, "the handler refuses the unknown field")
	ok, _ = v.ValidateHttpRequest(req)
	require.False(t, ok, "the schema refuses the unknown field too")
}

// TestOpenAPIRouteIsPublic puts GET /openapi.json through the attack
// matrix's eyes as a public route: every host (each shop's, the
// platform's, an unknown one), anonymous or signed in as any of alpha's
// roles, gets the same document, which sets no cookie and carries none of
// bravo's data.
func TestOpenAPIRouteIsPublic(t *testing.T) {
	w := newMatrixWorld(t, false)
	a := w.api(access.DefaultPolicy())
	_, want := getOpenAPI(t, a, "example.test", "")
	cases := 0
	for _, host := range []string{"alpha.example.test", "bravo.example.test", "example.test", "unknown.example.test", "elsewhere.test"} {
		cookies := map[string]string{"anonymous": ""}
		for _, role := range ports.DefaultRoles() {
			c, _ := w.signIn(a, "alpha", w.byRole[role].Email)
			cookies[string(role)] = c
		}
		for who, cookie := range cookies {
			res, body := getOpenAPI(t, a, host, cookie)
			what := fmt.Sprintf("GET %s on %s as %s", httpapi.OpenAPIRoute, host, who)
			require.Equal(t, http.StatusOK, res.StatusCode, what+": "+body)
			require.Empty(t, res.Header.Values("Set-Cookie"), what)
			require.Equal(t, want, body, what+": the document depends on no one")
			noSecrets(t, w, what, body, "")
			cases++
		}
	}
	// The route is in the API's list as what it is.
	var found []httpapi.Route
	for _, r := range a.api.Routes() {
		if r.Pattern() == "GET "+httpapi.OpenAPIRoute {
			found = append(found, r)
		}
	}
	require.Equal(t, []httpapi.Route{{Method: http.MethodGet, Path: httpapi.OpenAPIRoute, Access: httpapi.AccessPublic}}, found)
	t.Logf("%d fetches of the document, one answer", cases)
}

// TestOpenAPIBodySchemas checks the reflection on the request types the
// document derives: nested and nullable fields, descriptions, and the
// refusal of a type it cannot describe.
func TestOpenAPIBodySchemas(t *testing.T) {
	type nested struct {
		Inner struct {
			N int `json:"n"`
		} `json:"inner"`
		Opt   *bool             `json:"opt" doc:"may be null"`
		Tags  []string          `json:"tags,omitempty"`
		Meta  map[string]string `json:"meta"`
		Skip  string            `json:"-"`
		Plain string
	}
	doc, err := httpapi.OpenAPI([]httpapi.Route{{Method: "POST", Path: "/x/{id...}", Access: httpapi.AccessPublic, Body: reflect.TypeFor[nested]()}}, httpapi.OpenAPIInfo{})
	require.NoError(t, err)
	var d struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(doc, &d))
	require.Contains(t, d.Paths, "/x/{id}", "a wildcard becomes a plain parameter")
	require.JSONEq(t, `{"type":"object","additionalProperties":false,"properties":{
		"inner":{"type":"object","additionalProperties":false,"properties":{"n":{"type":"integer"}}},
		"opt":{"type":["boolean","null"],"description":"may be null"},
		"tags":{"type":"array","items":{"type":"string"}},
		"meta":{"type":"object","additionalProperties":{"type":"string"}},
		"Plain":{"type":"string"}}}`, string(d.Components.Schemas["Nested"]))
	require.JSONEq(t, `{"type":"object","required":["type","title","status"],"properties":{
		"type":{"type":"string"},"title":{"type":"string"},"status":{"type":"integer"},
		"detail":{"type":"string"},"request_id":{"type":"string"},
		"errors":{"type":"array","items":{"$ref":"#/components/schemas/FieldError"}}}}`, string(d.Components.Schemas["Problem"]))
	openAPIValidator(t, doc)

	_, err = httpapi.OpenAPI([]httpapi.Route{{Method: "POST", Path: "/y", Body: reflect.TypeFor[struct{ C chan int }]()}}, httpapi.OpenAPIInfo{})
	require.ErrorContains(t, err, "POST /y")
}

// TestOpenAPIMarksSecondFactorGuards: an operation carries
// x-stockade-recent-auth exactly when its route is sensitive (a recent
// authentication, AAL2 with a factor) and x-stockade-before-second-factor
// exactly when its route serves a session that must still step up or
// enrol; both kinds exist.
func TestOpenAPIMarksSecondFactorGuards(t *testing.T) {
	_, a := fullAPI(t)
	doc, err := a.api.OpenAPI()
	require.NoError(t, err)
	var d struct {
		Paths map[string]map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(doc, &d))
	sensitive, pending := 0, 0
	for _, r := range a.api.Routes() {
		op := d.Paths[strings.ReplaceAll(r.Path, "...}", "}")][strings.ToLower(r.Method)]
		require.NotNil(t, op, r.Pattern())
		require.Equal(t, r.Sensitive, op["x-stockade-recent-auth"] == true, "%s: x-stockade-recent-auth", r.Pattern())
		require.Equal(t, r.BeforeSecondFactor, op["x-stockade-before-second-factor"] == true, "%s: x-stockade-before-second-factor", r.Pattern())
		if r.Sensitive {
			sensitive++
		}
		if r.BeforeSecondFactor {
			pending++
		}
	}
	require.Positive(t, sensitive)
	require.Positive(t, pending)
	t.Logf("%d sensitive routes, %d served before the second factor", sensitive, pending)
}
