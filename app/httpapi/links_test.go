package httpapi_test

// Capability links over HTTP (CAP-1): the attack matrix of the public
// /p/ routes, enumerated from API.Routes like the session matrix, on
// SQLite and on Postgres (application role, RLS on), and the life of a
// link through the management routes.
//
//	go test ./app/httpapi -run 'TestCapabilityAttackMatrix|TestLinks' -v

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/capability"
	"github.com/stockadehq/stockade/core/storage"
	"github.com/stockadehq/stockade/ports"
)

// linkActions are the actions of each record kind the matrix API
// registers.
var linkActions = map[string][]string{
	"file":  {"download"},
	"quote": quoteKind().Actions,
}

func capabilityRoutes(a *matrixAPI) []httpapi.Route {
	var out []httpapi.Route
	for _, r := range a.api.Routes() {
		if r.Access == httpapi.AccessCapability {
			out = append(out, r)
		}
	}
	return out
}

// linkRecord creates a fresh record of recordType in shop and returns its
// ID; it fails the test for a record type the matrix has no fixture for.
func (w *matrixWorld) linkRecord(a *matrixAPI, shop ports.Shop, recordType string) string {
	w.t.Helper()
	switch recordType {
	case "file":
		pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("L"), 100)...)
		f, err := a.files.Upload(w.owner(shop), storage.UploadInput{Kind: "document", Name: "linked.pdf", Size: int64(len(pdf)), Body: bytes.NewReader(pdf)})
		require.NoError(w.t, err)
		return f.ID.String()
	case "quote":
		return fmt.Sprintf("Q-%d", w.unique())
	}
	w.t.Fatalf("the capability attack matrix has no fixture for %q records: add one to linkRecord and linkActions", recordType)
	return ""
}

// owner returns a context acting as the owner of shop (alpha's owner, or
// bob in bravo).
func (w *matrixWorld) owner(shop ports.Shop) context.Context {
	u, role := w.byRole[ports.RoleOwner].ID, ports.RoleOwner
	if shop.ID == w.bravo.ID {
		u, role = w.bob.ID, ports.RoleAdmin
	}
	return access.With(context.Background(), access.Scope{Shop: shop.ID, Org: shop.OrgID, User: u, Role: role})
}

// mintLink mints a link in shop as its owner and requires success.
func (w *matrixWorld) mintLink(a *matrixAPI, shop ports.Shop, recordType, recordID string, actions []string, ttl time.Duration) capability.Minted {
	w.t.Helper()
	m, err := a.links.Mint(w.owner(shop), capability.MintInput{RecordType: recordType, RecordID: recordID, Actions: actions, TTL: ttl})
	require.NoError(w.t, err)
	return m
}

// linkCall is one request to a capability route.
type linkCall struct {
	method, target, slug string
	header               http.Header
	cookie               string
}

func (a *matrixAPI) sendLink(c linkCall) *http.Response {
	req := httptest.NewRequest(c.method, c.target, nil)
	req.Host = c.slug + ".example.test"
	req.RemoteAddr = "198.51.100.9:4000"
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "__Host-stockade_session", Value: c.cookie})
	}
	rec := httptest.NewRecorder()
	a.api.ServeHTTP(rec, req)
	return rec.Result()
}

func withToken(path, token string) string {
	return path + "?token=" + url.QueryEscape(token)
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// tamper returns the token's variants that must all be refused.
func tamper(token string) map[string]string {
	flip := func(i int) string {
		b := []byte(token)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	out := map[string]string{
		"a character flipped":      flip(len(token) / 2),
		"the first character":      flip(0),
		"the last character":       flip(len(token) - 1),
		"truncated":                token[:len(token)-1],
		"extended":                 token + "A",
		"padded":                   token + "=",
		"upper-cased":              strings.ToUpper(token),
		"a space inside":           token[:10] + " " + token[10:],
		"the token twice":          token + token,
		"standard base64 alphabet": strings.NewReplacer("-", "+", "_", "/").Replace(token),
	}
	for k, v := range out {
		if v == token { // e.g. a token with no '-' or '_' in the standard alphabet
			delete(out, k)
		}
	}
	return out
}

// TestCapabilityAttackMatrix attacks every capability route the API
// registers — Stockade's file download and the app's quote routes, added
// through the router — with a valid link used against another record of
// the same type, for another action, for a record of another type with
// the same ID, on another shop's host, with another shop's link, after
// expiry, after revocation, tampered in every way, and replaced by a
// member's session. Each attempt must get the same 404 problem (status
// and detail, CAP-1: a refusal says nothing about why), no answer may
// carry bravo's data, and bravo must be unchanged. A positive control
// before each route's attacks proves the link itself works.
func TestCapabilityAttackMatrix(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[pg]
		t.Run(name, func(t *testing.T) {
			w := newMatrixWorld(t, pg)
			a := w.api(access.DefaultPolicy())
			before := bravoState(t, w)
			routes := capabilityRoutes(a)
			require.GreaterOrEqual(t, len(routes), 3, "the file route and the app's two quote routes")
			ownerCookie, _ := w.signIn(a, "alpha", w.byRole[ports.RoleOwner].Email)
			var want *problemJSON
			cases := 0
			for _, r := range routes {
				actions, ok := linkActions[r.RecordType]
				require.True(t, ok, "the capability attack matrix has no fixture for %q records (route %s %s): add one to linkActions and linkRecord", r.RecordType, r.Method, r.Path)
				at := func(id string) string { return fill(t, r.Path, map[string]string{r.RecordParam: id}) }
				rec1, rec2 := w.linkRecord(a, w.alpha, r.RecordType), w.linkRecord(a, w.alpha, r.RecordType)
				good := w.mintLink(a, w.alpha, r.RecordType, rec1, []string{r.Action}, time.Hour)

				// Positive control: the link works, by query and by header.
				for _, c := range []linkCall{
					{method: r.Method, target: withToken(at(rec1), good.Token), slug: "alpha"},
					{method: r.Method, target: at(rec1), slug: "alpha", header: bearer(good.Token)},
					{method: r.Method, target: withToken(at(rec1), good.Token), slug: "alpha", header: bearer(good.Token)},
				} {
					res := a.sendLink(c)
					body := readBody(t, res)
					require.Less(t, res.StatusCode, 400, "%s %s with a valid link: %s", r.Method, c.target, body)
					assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
					assert.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"))
				}

				attacks := map[string]linkCall{
					"another record of the type":      {method: r.Method, target: withToken(at(rec2), good.Token), slug: "alpha"},
					"another shop's host":             {method: r.Method, target: withToken(at(rec1), good.Token), slug: "bravo"},
					"a third shop's host":             {method: r.Method, target: withToken(at(rec1), good.Token), slug: "charlie"},
					"another shop's link":             {method: r.Method, target: withToken(at(w.bravoParams[r.RecordParam]), w.bravoLinkToken), slug: "alpha"},
					"another shop's link, header":     {method: r.Method, target: at(w.bravoParams[r.RecordParam]), slug: "alpha", header: bearer(w.bravoLinkToken)},
					"no token":                        {method: r.Method, target: at(rec1), slug: "alpha"},
					"no token, a member's session":    {method: r.Method, target: at(rec1), slug: "alpha", cookie: ownerCookie},
					"a member's session as the token": {method: r.Method, target: withToken(at(rec1), ownerCookie), slug: "alpha"},
					"two different tokens": {method: r.Method, target: withToken(at(rec1), good.Token), slug: "alpha",
						header: bearer(w.mintLink(a, w.alpha, r.RecordType, rec1, []string{r.Action}, time.Hour).Token)},
					"the token twice in the query": {method: r.Method, target: withToken(at(rec1), good.Token) + "&token=" + good.Token, slug: "alpha"},
					"another scheme":               {method: r.Method, target: at(rec1), slug: "alpha", header: http.Header{"Authorization": {"Basic " + good.Token}}},
					"the link's ID as the token":   {method: r.Method, target: withToken(at(rec1), good.Capability.ID.String()), slug: "alpha"},
				}
				if others := slices.DeleteFunc(slices.Clone(actions), func(s string) bool { return s == r.Action }); len(others) > 0 {
					other := w.mintLink(a, w.alpha, r.RecordType, rec1, others, time.Hour)
					attacks["another action"] = linkCall{method: r.Method, target: withToken(at(rec1), other.Token), slug: "alpha"}
				}
				// A link to a record of another type that has the same ID.
				if r.RecordType == "file" {
					q := w.mintLink(a, w.alpha, "quote", rec1, linkActions["quote"], time.Hour)
					attacks["another type, same ID"] = linkCall{method: r.Method, target: withToken(at(rec1), q.Token), slug: "alpha"}
				} else {
					f := w.linkRecord(a, w.alpha, "file")
					fl := w.mintLink(a, w.alpha, "file", f, []string{"download"}, time.Hour)
					attacks["another type, same ID"] = linkCall{method: r.Method, target: withToken(at(f), fl.Token), slug: "alpha"}
				}
				for variant, bad := range tamper(good.Token) {
					attacks["tampered: "+variant] = linkCall{method: r.Method, target: withToken(at(rec1), bad), slug: "alpha"}
					attacks["tampered, header: "+variant] = linkCall{method: r.Method, target: at(rec1), slug: "alpha", header: bearer(bad)}
				}
				revoked := w.mintLink(a, w.alpha, r.RecordType, rec1, []string{r.Action}, time.Hour)
				res := a.sendLink(linkCall{method: r.Method, target: withToken(at(rec1), revoked.Token), slug: "alpha"})
				require.Less(t, res.StatusCode, 400, "the link to be revoked works first")
				_, err := a.links.Revoke(w.owner(w.alpha), revoked.Capability.ID)
				require.NoError(t, err)
				attacks["after revocation"] = linkCall{method: r.Method, target: withToken(at(rec1), revoked.Token), slug: "alpha"}

				refuse := func(what string, c linkCall) {
					t.Helper()
					res := a.sendLink(c)
					p := problemOf(t, res, http.StatusNotFound)
					label := fmt.Sprintf("%s %s: %s", r.Method, r.Path, what)
					require.Equal(t, "no-store", res.Header.Get("Cache-Control"), label)
					if want == nil {
						want = &p
					}
					assert.Equal(t, want.Detail, p.Detail, "%s: every refusal gives the same answer", label)
					assert.Empty(t, p.Errors, label)
					raw, _ := json.Marshal(p)
					noSecrets(t, w, label, string(raw), c.target+fmt.Sprint(c.header))
					cases++
				}
				for what, c := range attacks {
					refuse(what, c)
				}

				// Expiry, on the world's clock: valid a microsecond before,
				// refused at the instant it expires.
				expiring := w.mintLink(a, w.alpha, r.RecordType, rec1, []string{r.Action}, time.Minute)
				w.clock.Advance(time.Minute - time.Microsecond)
				res = a.sendLink(linkCall{method: r.Method, target: withToken(at(rec1), expiring.Token), slug: "alpha"})
				require.Less(t, res.StatusCode, 400, "a microsecond before expiry the link works")
				w.clock.Advance(time.Microsecond)
				refuse("at expiry", linkCall{method: r.Method, target: withToken(at(rec1), expiring.Token), slug: "alpha"})
				w.clock.Advance(time.Hour)
				refuse("after expiry", linkCall{method: r.Method, target: withToken(at(rec1), good.Token), slug: "alpha"})
			}
			require.NotNil(t, want)
			assert.Equal(t, access.ErrNoCapability.Error(), want.Detail)

			// The refusal on alpha's host is the host's doing: bravo's own
			// link works on bravo's host.
			res := a.sendLink(linkCall{method: "GET", target: withToken("/p/files/"+w.bravoParams["file"], w.bravoLinkToken), slug: "bravo"})
			require.Equal(t, http.StatusSeeOther, res.StatusCode, readBody(t, res))
			require.Equal(t, before, bravoState(t, w), "the matrix changed bravo")
			t.Logf("capability attack matrix on %s: %d routes, %d refused attempts, each the same 404, bravo unchanged", name, len(routes), cases)
		})
	}
}

// TestRouterChecksTheRecordBeforeTheAppHandler registers an app route
// whose handler checks nothing: the router's own check still keeps a
// link for one record, or for another action, from reaching it.
func TestRouterChecksTheRecordBeforeTheAppHandler(t *testing.T) {
	w := newMatrixWorld(t, false)
	a := w.api(access.DefaultPolicy())
	ran := 0
	careless := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran++
		w.WriteHeader(http.StatusOK)
	})
	shops, err := httpapi.NewHostShops(w.raw, "https://example.test", w.clock)
	require.NoError(t, err)
	api := httpapi.New(httpapi.Deps{
		Logger: zapTo(a.w.canary),
		Auth:   &httpapi.AuthDeps{Service: a.auth, Shops: shops},
		Links: &httpapi.LinksDeps{Service: a.links, Routes: []httpapi.LinkRoute{
			{Method: "GET", Path: "/p/careless/{quote}", RecordType: "quote", RecordParam: "quote", Action: "pay", Handler: careless},
		}},
	})
	a.api = observe(api, a.w.canary)
	view := w.mintLink(a, w.alpha, "quote", "Q-1", []string{"view", "accept"}, time.Hour)
	pay := w.mintLink(a, w.alpha, "quote", "Q-1", []string{"pay"}, time.Hour)
	for _, c := range []linkCall{
		{method: "GET", target: withToken("/p/careless/Q-2", pay.Token), slug: "alpha"},
		{method: "GET", target: withToken("/p/careless/Q-1", view.Token), slug: "alpha"},
	} {
		problemOf(t, a.sendLink(c), http.StatusNotFound)
	}
	assert.Zero(t, ran, "the careless handler never ran")
	res := a.sendLink(linkCall{method: "GET", target: withToken("/p/careless/Q-1", pay.Token), slug: "alpha"})
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, 1, ran)

	require.Panics(t, func() {
		httpapi.New(httpapi.Deps{Auth: &httpapi.AuthDeps{Service: a.auth, Shops: shops}, Links: &httpapi.LinksDeps{Service: a.links, Routes: []httpapi.LinkRoute{
			{Method: "GET", Path: "/quotes/{quote}", RecordType: "quote", RecordParam: "quote", Action: "view", Handler: careless},
		}}})
	}, "an app route outside /p/ is a programming error")
	require.Panics(t, func() {
		httpapi.New(httpapi.Deps{Auth: &httpapi.AuthDeps{Service: a.auth, Shops: shops}, Links: &httpapi.LinksDeps{Service: a.links, Routes: []httpapi.LinkRoute{
			{Method: "GET", Path: "/p/quotes/{id}", RecordType: "quote", RecordParam: "quote", Action: "view", Handler: careless},
		}}})
	}, "a route whose path does not name the record is a programming error")
}

// TestLinksOverHTTP follows one file link through its life on both
// stores: a sales member mints it (the URL and token are shown once), the
// customer follows it to the file's bytes, the member lists it (no token)
// and revokes it, and every change is in the shop's audit log.
func TestLinksOverHTTP(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[pg]
		t.Run(name, func(t *testing.T) {
			w := newMatrixWorld(t, pg)
			a := w.api(access.DefaultPolicy())
			sales := w.byRole[ports.RoleSales]
			cookie, _ := w.signIn(a, "alpha", sales.Email)
			content := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("Q"), 321)...)
			f, err := a.files.Upload(w.owner(w.alpha), storage.UploadInput{Kind: "document", Name: "quote.pdf", Size: int64(len(content)), Body: bytes.NewReader(content)})
			require.NoError(t, err)

			res := a.send("POST", "/links", "alpha", cookie, fmt.Sprintf(`{"record_type":"file","record_id":%q,"actions":["download"],"ttl":"48h"}`, f.ID), "application/json")
			raw := readBody(t, res)
			require.Equal(t, http.StatusCreated, res.StatusCode, raw)
			var minted struct {
				ID, RecordType, RecordID, Token, URL string
				Actions                              []string
				ExpiresAt                            time.Time `json:"expires_at"`
				CreatedBy                            string    `json:"created_by"`
			}
			require.NoError(t, json.Unmarshal([]byte(raw), &minted))
			require.Len(t, minted.Token, capability.TokenLen)
			assert.Equal(t, "https://alpha.example.test/p/files/"+f.ID.String()+"?token="+minted.Token, minted.URL)
			assert.Equal(t, []string{"download"}, minted.Actions)
			assert.Equal(t, w.clock.Now().Add(48*time.Hour), minted.ExpiresAt)
			assert.Equal(t, sales.ID.String(), minted.CreatedBy)

			u, err := url.Parse(minted.URL)
			require.NoError(t, err)
			res = a.sendLink(linkCall{method: "GET", target: u.RequestURI(), slug: "alpha"})
			require.Equal(t, http.StatusSeeOther, res.StatusCode, readBody(t, res))
			loc, err := url.Parse(res.Header.Get("Location"))
			require.NoError(t, err)
			assert.Equal(t, "example.test", loc.Host, "a signed URL of the object store, not the shop host")
			assert.NotContains(t, loc.String(), minted.Token, "the link's token does not travel on")
			obj := httptest.NewRecorder()
			w.objects.Handler().ServeHTTP(obj, httptest.NewRequest("GET", loc.RequestURI(), nil))
			require.Equal(t, http.StatusOK, obj.Code, obj.Body.String())
			got, _ := io.ReadAll(obj.Result().Body)
			assert.Equal(t, content, got, "the customer gets the file's bytes")

			res = a.send("GET", "/links?record_type=file&record_id="+f.ID.String(), "alpha", cookie, "", "")
			raw = readBody(t, res)
			require.Equal(t, http.StatusOK, res.StatusCode, raw)
			assert.Contains(t, raw, minted.ID)
			assert.NotContains(t, raw, minted.Token, "a listing never shows the token")
			assert.NotContains(t, raw, "token")

			res = a.send("DELETE", "/links/"+minted.ID, "alpha", cookie, "", "")
			require.Equal(t, http.StatusNoContent, res.StatusCode, readBody(t, res))
			problemOf(t, a.sendLink(linkCall{method: "GET", target: u.RequestURI(), slug: "alpha"}), http.StatusNotFound)
			problemOf(t, a.send("DELETE", "/links/"+minted.ID, "alpha", cookie, "", ""), http.StatusNotFound)
			res = a.send("GET", "/links?record_type=file&record_id="+f.ID.String()+"&active=true", "alpha", cookie, "", "")
			raw = readBody(t, res)
			require.Equal(t, http.StatusOK, res.StatusCode, raw)
			assert.JSONEq(t, `{"links":[]}`, raw)

			var actions []string
			require.NoError(t, w.raw.InShop(context.Background(), w.alpha.ID, func(ctx context.Context, tx ports.ShopTx) error {
				evs, err := tx.Audit().List(ctx, ports.AuditQuery{Limit: 1000})
				for _, e := range evs {
					if e.Target == "capability:"+minted.ID {
						actions = append(actions, e.Action+" by "+e.Actor)
						all, _ := json.Marshal(e)
						assert.NotContains(t, string(all), minted.Token)
					}
				}
				return err
			}, ports.ReadOnly()))
			assert.Equal(t, []string{"capability.created by user:" + sales.ID.String(), "capability.revoked by user:" + sales.ID.String()}, actions)

			// Deleting the file revokes its links in the same unit of work.
			again := w.mintLink(a, w.alpha, "file", f.ID.String(), []string{"download"}, time.Hour)
			require.NoError(t, a.files.Delete(w.owner(w.alpha), f.ID))
			stored, err := getLink(w, w.alpha.ID, again.Capability.ID)
			require.NoError(t, err)
			assert.False(t, stored.RevokedAt.IsZero(), "the file's link was revoked with it")

			bad := map[string]string{
				"unknown type":    `{"record_type":"invoice","record_id":"1","actions":["view"]}`,
				"bad ttl":         fmt.Sprintf(`{"record_type":"file","record_id":%q,"actions":["download"],"ttl":"soon"}`, f.ID),
				"ttl over 90d":    `{"record_type":"quote","record_id":"Q-1","actions":["view"],"ttl":"2161h"}`,
				"unknown action":  `{"record_type":"quote","record_id":"Q-1","actions":["delete"]}`,
				"no actions":      `{"record_type":"quote","record_id":"Q-1","actions":[]}`,
				"bad record id":   `{"record_type":"quote","record_id":"Q 1","actions":["view"]}`,
				"unknown field":   `{"record_type":"quote","record_id":"Q-1","actions":["view"],"token":"mine"}`,
				"deleted file":    fmt.Sprintf(`{"record_type":"file","record_id":%q,"actions":["download"]}`, f.ID),
				"not a file's id": `{"record_type":"file","record_id":"Q-1","actions":["download"]}`,
			}
			for what, body := range bad {
				res := a.send("POST", "/links", "alpha", cookie, body, "application/json")
				assert.Contains(t, []int{400, 404}, res.StatusCode, "%s: %s", what, readBody(t, res))
			}
		})
	}
}

func getLink(w *matrixWorld, shop ports.ShopID, id ports.CapabilityID) (ports.Capability, error) {
	var c ports.Capability
	err := w.raw.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		c, err = tx.Capabilities().Get(ctx, id)
		return err
	}, ports.ReadOnly())
	return c, err
}
