package httpapi_test

// SCIM 2.0 provisioning per org (AUTH-14) over HTTP, with request bodies
// shaped like Okta's and Microsoft Entra ID's documented ones, on SQLite
// and Postgres: tokens made by an org owner, users linked by e-mail,
// groups mapped to shop roles, deprovisioning that ends the user's
// sessions in the org's shops (the cookie stops working) and only there,
// and the attacks — another org's token, another org's user or group by
// id, a revoked token, a token in the wrong scheme — each refused.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/core/scim"
	"github.com/stockadehq/stockade/core/tenancy"
	"github.com/stockadehq/stockade/ports"
)

// scimCall sends one SCIM request with the Authorization header authz
// (none when "") and returns the status and the decoded JSON answer.
func scimCall(t *testing.T, a *matrixAPI, method, target, authz, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	req.Host = "example.test"
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	rec := httptest.NewRecorder()
	a.api.ServeHTTP(rec, req)
	res := rec.Result()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	if len(raw) == 0 {
		return res.StatusCode, nil
	}
	require.Equal(t, "application/scim+json", res.Header.Get("Content-Type"), "%s %s: %s", method, target, raw)
	var out map[string]any
	require.NoError(t, json.Unmarshal(raw, &out), "%s %s: %s", method, target, raw)
	return res.StatusCode, out
}

// requireSCIMError checks that out is a SCIM error with status.
func requireSCIMError(t *testing.T, what string, status int, gotStatus int, out map[string]any) {
	t.Helper()
	require.Equal(t, status, gotStatus, "%s: %v", what, out)
	require.Equal(t, []any{"urn:ietf:params:scim:api:messages:2.0:Error"}, out["schemas"], what)
	require.Equal(t, fmt.Sprint(status), out["status"], "%s: the status is a string", what)
}

// roleIn returns user's role in shop, or "" when not a member.
func roleIn(t *testing.T, w *matrixWorld, shop ports.ShopID, user ports.UserID) ports.Role {
	t.Helper()
	var role ports.Role
	err := w.raw.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		m, err := tx.Memberships().Get(ctx, user)
		if err == nil {
			role = m.Role
		}
		if err != nil && !strings.Contains(err.Error(), "not found") {
			return err
		}
		return nil
	}, ports.ReadOnly())
	require.NoError(t, err)
	return role
}

// me answers GET /auth/me on slug's host with cookie.
func me(a *matrixAPI, slug, cookie string) int {
	res := a.send(http.MethodGet, "/auth/me", slug, cookie, "", "")
	res.Body.Close()
	return res.StatusCode
}

// scimWorld is the matrix world with a second org, delta, whose shop
// "delta" Tina also works in, and an SCIM token per org.
type scimWorld struct {
	w                        *matrixWorld
	a                        *matrixAPI
	delta                    ports.Shop
	tina                     ports.User
	alphaBearer, deltaBearer string
	alphaTokenID             string
	ownerCookie              string
}

func newSCIMWorld(t *testing.T, pg bool) *scimWorld {
	w := newMatrixWorld(t, pg)
	a := w.api(access.DefaultPolicy())
	ctx := context.Background()
	sys := access.With(ctx, access.Scope{System: "test"})
	sw := &scimWorld{w: w, a: a}

	deltaOwner, err := a.auth.CreateUser(ctx, "owner@delta.test", "Delta Owner", matrixPassword)
	require.NoError(t, err)
	_, sw.delta, err = a.tenancy.CreateOrg(sys, tenancy.NewOrg{Name: "Delta Corp", Slug: "delta", ShopName: "Delta Works", Owner: deltaOwner.ID})
	require.NoError(t, err)
	// Tina has an account and a shop of another org before the alpha
	// org's identity provider provisions her address.
	sw.tina, err = a.auth.CreateUser(ctx, "tina@alpha.test", "Tina", matrixPassword)
	require.NoError(t, err)
	_, err = a.tenancy.AddMember(access.System(ctx, sw.delta.ID, sw.delta.OrgID, "test"), sw.tina.Email, ports.RoleAdmin)
	require.NoError(t, err)

	// The alpha org's owner makes a token over HTTP; delta's comes from
	// the CLI's path.
	sw.ownerCookie, _ = w.signIn(a, "alpha", w.orgOwner.Email)
	res := a.send(http.MethodPost, "/org/scim/tokens", "alpha", sw.ownerCookie, "", "")
	body := readBody(t, res)
	require.Equal(t, http.StatusCreated, res.StatusCode, body)
	var tok struct{ ID, Token string }
	require.NoError(t, json.Unmarshal([]byte(body), &tok))
	require.True(t, strings.HasPrefix(tok.Token, "stk_scim_"), body)
	w.canary.Secret("alpha's SCIM token", tok.Token)
	sw.alphaBearer, sw.alphaTokenID = "Bearer "+tok.Token, tok.ID
	_, deltaSecret, err := a.scim.CreateToken(access.System(ctx, sw.delta.ID, sw.delta.OrgID, "test"))
	require.NoError(t, err)
	w.canary.Secret("delta's SCIM token", deltaSecret)
	sw.deltaBearer = "Bearer " + deltaSecret
	return sw
}

func TestSCIM(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			sw := newSCIMWorld(t, pg)
			t.Run("TokensAreTheOrgOwners", func(t *testing.T) { testSCIMTokens(t, sw) })
			t.Run("OktaProvisioning", func(t *testing.T) { testSCIMOkta(t, sw) })
			t.Run("EntraProvisioning", func(t *testing.T) { testSCIMEntra(t, sw) })
			t.Run("Attacks", func(t *testing.T) { testSCIMAttacks(t, sw) })
		})
	}
}

// testSCIMTokens: only an org owner makes, lists and revokes tokens; a
// list never shows a secret; discovery answers with the token.
func testSCIMTokens(t *testing.T, sw *scimWorld) {
	w, a := sw.w, sw.a
	for _, u := range []ports.User{w.byRole[ports.RoleOwner], w.hqAdmin} {
		cookie, _ := w.signIn(a, "alpha", u.Email)
		res := a.send(http.MethodPost, "/org/scim/tokens", "alpha", cookie, "", "")
		require.Equal(t, http.StatusForbidden, res.StatusCode, "%s (a shop owner, or an org admin) makes no token: %s", u.Email, readBody(t, res))
		for _, path := range []string{"/org/scim/tokens/not-an-id", "/org/scim/mappings/not-an-id"} {
			res = a.send(http.MethodDelete, path, "alpha", cookie, "", "")
			require.Equal(t, http.StatusForbidden, res.StatusCode, "%s: a malformed ID tells a non-owner nothing: %s", path, readBody(t, res))
		}
	}
	for _, path := range []string{"/org/scim/tokens/not-an-id", "/org/scim/mappings/not-an-id"} {
		res := a.send(http.MethodDelete, path, "alpha", sw.ownerCookie, "", "")
		require.Equal(t, http.StatusNotFound, res.StatusCode, "%s: the owner is told it names nothing: %s", path, readBody(t, res))
	}
	res := a.send(http.MethodGet, "/org/scim/tokens", "alpha", sw.ownerCookie, "", "")
	body := readBody(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	require.Contains(t, body, sw.alphaTokenID)
	require.NotContains(t, body, strings.TrimPrefix(sw.alphaBearer, "Bearer "), "a token is shown once")
	require.NotContains(t, body, "stk_scim_")

	for _, path := range []string{"/ServiceProviderConfig", "/ResourceTypes", "/Schemas"} {
		status, out := scimCall(t, a, http.MethodGet, "/scim/v2"+path, sw.alphaBearer, "")
		require.Equal(t, http.StatusOK, status, "%s: %v", path, out)
	}
}

// testSCIMOkta provisions Tina with Okta's requests: create (linking her
// existing account), a group mapped to a tech role in bravo, membership by
// group push, deactivation that ends her bravo session but not her
// session in the other org's shop, reactivation, removal from the group.
func testSCIMOkta(t *testing.T, sw *scimWorld) {
	w, a := sw.w, sw.a
	// Okta's create request, password and all (a password is ignored).
	status, out := scimCall(t, a, http.MethodPost, "/scim/v2/Users", sw.alphaBearer, `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName": "Tina@alpha.test",
		"name": {"givenName": "Tina", "familyName": "Tech"},
		"emails": [{"primary": true, "value": "tina@alpha.test", "type": "work"}],
		"displayName": "Tina Tech", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7",
		"groups": [], "password": "1mz050nq", "active": true}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	tinaID := out["id"].(string)
	require.Equal(t, "tina@alpha.test", out["userName"])
	require.Equal(t, true, out["active"])

	// Okta's lookup before a create, and a second create of the address.
	q := "/scim/v2/Users?filter=" + url.QueryEscape(`userName eq "tina@alpha.test"`) + "&startIndex=1&count=100"
	status, out = scimCall(t, a, http.MethodGet, q, sw.alphaBearer, "")
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.EqualValues(t, 1, out["totalResults"])
	require.Equal(t, tinaID, out["Resources"].([]any)[0].(map[string]any)["id"])
	status, out = scimCall(t, a, http.MethodPost, "/scim/v2/Users", sw.alphaBearer, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"tina@alpha.test","active":true}`)
	requireSCIMError(t, "a second create", http.StatusConflict, status, out)
	require.Equal(t, "uniqueness", out["scimType"])
	require.Equal(t, ports.Role(""), roleIn(t, w, w.bravo.ID, sw.tina.ID), "a user alone grants nothing")

	// Okta pushes a group; the org owner maps it to tech in bravo.
	status, out = scimCall(t, a, http.MethodPost, "/scim/v2/Groups", sw.alphaBearer, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Field Techs","members":[]}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	groupID := out["id"].(string)
	res := a.send(http.MethodPost, "/org/scim/mappings", "alpha", sw.ownerCookie, `{"group":"Field Techs","shop":"bravo","role":"tech"}`, "application/json")
	require.Equal(t, http.StatusCreated, res.StatusCode, readBody(t, res))

	status, out = scimCall(t, a, http.MethodPatch, "/scim/v2/Groups/"+groupID, sw.alphaBearer, `{
		"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "add", "path": "members", "value": [{"value": "`+tinaID+`", "display": "tina@alpha.test"}]}]}`)
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Len(t, out["members"], 1)
	require.Equal(t, ports.RoleTech, roleIn(t, w, w.bravo.ID, sw.tina.ID), "the group's mapping gives the membership")
	require.Equal(t, ports.Role(""), roleIn(t, w, w.charlie.ID, sw.tina.ID), "and nothing in the org's other shops")

	bravoCookie, _ := w.signIn(a, "bravo", sw.tina.Email)
	deltaCookie, _ := w.signIn(a, "delta", sw.tina.Email)
	require.Equal(t, http.StatusOK, me(a, "bravo", bravoCookie))

	// Okta deactivates: {"op":"replace","value":{"active":false}}.
	status, out = scimCall(t, a, http.MethodPatch, "/scim/v2/Users/"+tinaID, sw.alphaBearer, `{
		"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "replace", "value": {"active": false}}]}`)
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Equal(t, false, out["active"])
	require.Equal(t, http.StatusUnauthorized, me(a, "bravo", bravoCookie), "deprovisioning ends the session in the org's shop")
	require.Equal(t, ports.Role(""), roleIn(t, w, w.bravo.ID, sw.tina.ID))
	require.Equal(t, http.StatusOK, me(a, "delta", deltaCookie), "and not in another org's shop")
	require.Equal(t, ports.RoleAdmin, roleIn(t, w, sw.delta.ID, sw.tina.ID), "nor her membership there")

	// Reactivated, she is a tech of bravo again; removed from the group
	// with Okta's filtered path, she is not.
	status, out = scimCall(t, a, http.MethodPatch, "/scim/v2/Users/"+tinaID, sw.alphaBearer, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":true}}]}`)
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Equal(t, ports.RoleTech, roleIn(t, w, w.bravo.ID, sw.tina.ID))
	bravoCookie, _ = w.signIn(a, "bravo", sw.tina.Email)
	status, out = scimCall(t, a, http.MethodPatch, "/scim/v2/Groups/"+groupID, sw.alphaBearer, `{
		"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "remove", "path": "members[value eq \"`+tinaID+`\"]"}]}`)
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Empty(t, out["members"])
	require.Equal(t, ports.Role(""), roleIn(t, w, w.bravo.ID, sw.tina.ID), "removal from the group removes the membership")
	require.Equal(t, http.StatusUnauthorized, me(a, "bravo", bravoCookie))

	// DELETE deprovisions and forgets the link; the platform user stays.
	status, _ = scimCall(t, a, http.MethodDelete, "/scim/v2/Users/"+tinaID, sw.alphaBearer, "")
	require.Equal(t, http.StatusNoContent, status)
	status, out = scimCall(t, a, http.MethodGet, "/scim/v2/Users/"+tinaID, sw.alphaBearer, "")
	requireSCIMError(t, "a deleted user", http.StatusNotFound, status, out)
	require.Equal(t, http.StatusOK, me(a, "delta", deltaCookie), "the platform user and her other org are untouched")
}

// testSCIMEntra provisions Rita with Microsoft Entra ID's requests: the
// enterprise-extension create, addMember/removeMember PATCHes, the
// filtered group lookup and the string-valued "active": "False".
func testSCIMEntra(t *testing.T, sw *scimWorld) {
	w, a := sw.w, sw.a
	status, out := scimCall(t, a, http.MethodPost, "/scim/v2/Users", sw.alphaBearer, `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"userName": "rita@alpha.test",
		"active": true,
		"emails": [{"primary": true, "type": "work", "value": "rita@alpha.test"}],
		"meta": {"resourceType": "User"},
		"name": {"formatted": "Rita Sales", "familyName": "Sales", "givenName": "Rita"},
		"roles": []}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	ritaID := out["id"].(string)
	// An operator vouches for her address, so that she can sign in.
	users, err := a.auth.SetPassword(context.Background(), "rita@alpha.test", matrixPassword)
	require.NoError(t, err)

	status, out = scimCall(t, a, http.MethodPost, "/scim/v2/Groups", sw.alphaBearer, `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
		"externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
		"displayName": "Sales Desk",
		"meta": {"resourceType": "Group"}}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	groupID := out["id"].(string)
	q := "/scim/v2/Groups?excludedAttributes=members&filter=" + url.QueryEscape(`displayName eq "Sales Desk"`)
	status, out = scimCall(t, a, http.MethodGet, q, sw.alphaBearer, "")
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.EqualValues(t, 1, out["totalResults"])

	// Mapped by its id this time: sales in alpha and viewer in charlie.
	for _, m := range []string{`{"group":"` + groupID + `","shop":"alpha","role":"sales"}`, `{"group":"` + groupID + `","shop":"charlie","role":"viewer"}`} {
		res := a.send(http.MethodPost, "/org/scim/mappings", "alpha", sw.ownerCookie, m, "application/json")
		require.Equal(t, http.StatusCreated, res.StatusCode, readBody(t, res))
	}
	status, out = scimCall(t, a, http.MethodPatch, "/scim/v2/Groups/"+groupID, sw.alphaBearer, `{
		"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"name": "addMember", "op": "add", "path": "members", "value": [{"displayName": "rita", "value": "`+ritaID+`"}]}]}`)
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Equal(t, ports.RoleSales, roleIn(t, w, w.alpha.ID, users.ID))
	require.Equal(t, ports.RoleViewer, roleIn(t, w, w.charlie.ID, users.ID))

	alphaCookie, _ := w.signIn(a, "alpha", "rita@alpha.test")
	charlieCookie, _ := w.signIn(a, "charlie", "rita@alpha.test")
	status, out = scimCall(t, a, http.MethodPatch, "/scim/v2/Users/"+ritaID, sw.alphaBearer, `{
		"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"op": "Replace", "path": "active", "value": "False"}]}`)
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Equal(t, false, out["active"])
	require.Equal(t, http.StatusUnauthorized, me(a, "alpha", alphaCookie), "Entra's disable ends her alpha session")
	require.Equal(t, http.StatusUnauthorized, me(a, "charlie", charlieCookie), "and her charlie session")

	// Enabled again, then removed with Entra's removeMember.
	status, out = scimCall(t, a, http.MethodPatch, "/scim/v2/Users/"+ritaID, sw.alphaBearer, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"True"}]}`)
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Equal(t, ports.RoleSales, roleIn(t, w, w.alpha.ID, users.ID))
	status, out = scimCall(t, a, http.MethodPatch, "/scim/v2/Groups/"+groupID, sw.alphaBearer, `{
		"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations": [{"name": "removeMember", "op": "remove", "path": "members", "value": [{"displayName": "rita", "value": "`+ritaID+`"}]}]}`)
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Equal(t, ports.Role(""), roleIn(t, w, w.alpha.ID, users.ID))
	require.Equal(t, ports.Role(""), roleIn(t, w, w.charlie.ID, users.ID))

	// Entra renames by PATCH; a userName change is refused (mutability).
	status, out = scimCall(t, a, http.MethodPatch, "/scim/v2/Groups/"+groupID, sw.alphaBearer, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"displayName","value":"Sales Team"}]}`)
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Equal(t, "Sales Team", out["displayName"])
	status, out = scimCall(t, a, http.MethodPatch, "/scim/v2/Users/"+ritaID, sw.alphaBearer, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"userName","value":"someone.else@alpha.test"}]}`)
	requireSCIMError(t, "a userName change", http.StatusBadRequest, status, out)
	require.Equal(t, "mutability", out["scimType"])
}

// testSCIMAttacks: each attempt is refused with the SCIM error schema and
// changes nothing.
func testSCIMAttacks(t *testing.T, sw *scimWorld) {
	w, a := sw.w, sw.a
	status, out := scimCall(t, a, http.MethodPost, "/scim/v2/Users", sw.alphaBearer, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"victim@alpha.test","active":true}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	victimID := out["id"].(string)
	status, out = scimCall(t, a, http.MethodPost, "/scim/v2/Groups", sw.alphaBearer, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Alpha Admins","members":[{"value":"`+victimID+`"}]}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	groupID := out["id"].(string)
	status, out = scimCall(t, a, http.MethodPost, "/scim/v2/Users", sw.deltaBearer, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"dan@delta.test","active":true}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	deltaUserID := out["id"].(string)

	patchOff := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`
	// Another org's token names alpha's user and group by id: 404.
	for _, c := range []struct{ method, path, body string }{
		{http.MethodGet, "/scim/v2/Users/" + victimID, ""},
		{http.MethodPatch, "/scim/v2/Users/" + victimID, patchOff},
		{http.MethodPut, "/scim/v2/Users/" + victimID, `{"userName":"victim@alpha.test","active":false}`},
		{http.MethodDelete, "/scim/v2/Users/" + victimID, ""},
		{http.MethodGet, "/scim/v2/Groups/" + groupID, ""},
		{http.MethodPatch, "/scim/v2/Groups/" + groupID, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"` + deltaUserID + `"}]}]}`},
		{http.MethodPut, "/scim/v2/Groups/" + groupID, `{"displayName":"Taken","members":[]}`},
		{http.MethodDelete, "/scim/v2/Groups/" + groupID, ""},
	} {
		status, out := scimCall(t, a, c.method, c.path, sw.deltaBearer, c.body)
		requireSCIMError(t, "delta's token: "+c.method+" "+c.path, http.StatusNotFound, status, out)
	}
	status, out = scimCall(t, a, http.MethodGet, "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "victim@alpha.test"`), sw.deltaBearer, "")
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 0, out["totalResults"], "another org's filter finds nothing")
	require.Empty(t, out["Resources"])
	status, out = scimCall(t, a, http.MethodGet, "/scim/v2/Users", sw.deltaBearer, "")
	require.Equal(t, http.StatusOK, status)
	require.NotContains(t, fmt.Sprint(out), victimID, "a list shows only the token's org")

	// Alpha's token names delta's user in a group: 404, and nothing joins.
	for _, body := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"` + deltaUserID + `"}]}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"` + deltaUserID + `\"]"}]}`,
	} {
		status, out := scimCall(t, a, http.MethodPatch, "/scim/v2/Groups/"+groupID, sw.alphaBearer, body)
		requireSCIMError(t, "alpha's token with delta's user", http.StatusNotFound, status, out)
	}
	status, out = scimCall(t, a, http.MethodGet, "/scim/v2/Users/"+deltaUserID, sw.alphaBearer, "")
	requireSCIMError(t, "alpha's token reading delta's user", http.StatusNotFound, status, out)
	status, out = scimCall(t, a, http.MethodGet, "/scim/v2/Groups/"+groupID, sw.alphaBearer, "")
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Len(t, out["members"], 1, "the victim is still the group's one member")
	status, out = scimCall(t, a, http.MethodGet, "/scim/v2/Users/"+victimID, sw.alphaBearer, "")
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Equal(t, true, out["active"], "the victim is still active")

	// The org owner maps nothing to another org's shop.
	res := a.send(http.MethodPost, "/org/scim/mappings", "alpha", sw.ownerCookie, `{"group":"Alpha Admins","shop":"delta","role":"admin"}`, "application/json")
	require.Equal(t, http.StatusNotFound, res.StatusCode, readBody(t, res))

	// The token in the wrong scheme, or where a token does not go.
	secret := strings.TrimPrefix(sw.alphaBearer, "Bearer ")
	for _, authz := range []string{"", "Basic " + secret, "Token " + secret, secret, "Bearer", "Bearer stk_scim_" + strings.Repeat("A", 43)} {
		status, out := scimCall(t, a, http.MethodGet, "/scim/v2/Users/"+victimID, authz, "")
		requireSCIMError(t, fmt.Sprintf("Authorization %q", strings.Replace(authz, secret, "<token>", 1)), http.StatusUnauthorized, status, out)
	}
	req := httptest.NewRequest(http.MethodGet, "/scim/v2/Users/"+victimID+"?access_token="+url.QueryEscape(secret), nil)
	req.Host = "example.test"
	req.AddCookie(&http.Cookie{Name: auth.SessionCookieName, Value: secret})
	req.AddCookie(&http.Cookie{Name: auth.SessionCookieName, Value: sw.ownerCookie})
	rec := httptest.NewRecorder()
	a.api.ServeHTTP(rec, req)
	require.Equal(t, http.StatusUnauthorized, rec.Code, "a token in the query or a cookie is no credential: %s", rec.Body)

	// A revoked token stops working at once.
	res = a.send(http.MethodDelete, "/org/scim/tokens/"+sw.alphaTokenID, "alpha", sw.ownerCookie, "", "")
	require.Equal(t, http.StatusNoContent, res.StatusCode, readBody(t, res))
	status, out = scimCall(t, a, http.MethodGet, "/scim/v2/Users/"+victimID, sw.alphaBearer, "")
	requireSCIMError(t, "a revoked token", http.StatusUnauthorized, status, out)
	res = a.send(http.MethodDelete, "/org/scim/tokens/"+sw.alphaTokenID, "alpha", sw.ownerCookie, "", "")
	require.Equal(t, http.StatusNotFound, res.StatusCode, "revoked once: %s", readBody(t, res))

	// Every token change is in the log of the owner's shop.
	var actions []string
	err := w.raw.InShop(context.Background(), w.alpha.ID, func(ctx context.Context, tx ports.ShopTx) error {
		evs, err := tx.Audit().List(ctx, ports.AuditQuery{Limit: 1000})
		for _, e := range evs {
			actions = append(actions, e.Action)
		}
		return err
	}, ports.ReadOnly())
	require.NoError(t, err)
	require.Contains(t, actions, "scim.token.created")
	require.Contains(t, actions, "scim.token.revoked")
}

// TestSCIMRoutesRefuseForeignCredentials attacks every AccessSCIM route
// the API lists: no credential, a member's session cookie, the token in
// another scheme or a revoked token are 401; another org's token on a
// route naming alpha's user or group is 404; and alpha's user and group
// are unchanged at the end.
func TestSCIMRoutesRefuseForeignCredentials(t *testing.T) {
	sw := newSCIMWorld(t, false)
	w, a := sw.w, sw.a
	fx := w.scimTargets(a, w.unique())
	ctx := context.Background()
	revoked, revokedSecret, err := a.scim.CreateToken(access.System(ctx, w.alpha.ID, w.alpha.OrgID, "test"))
	require.NoError(t, err)
	require.NoError(t, a.scim.RevokeToken(access.System(ctx, w.alpha.ID, w.alpha.OrgID, "test"), revoked.ID))
	cookie, _ := w.signIn(a, "alpha", w.orgOwner.Email)
	params := map[string]string{"scim_user": fx.user, "scim_group": fx.group}
	bodies := map[string]string{
		"POST /scim/v2/Users":                `{"userName":"intruder@alpha.test","active":true}`,
		"PUT /scim/v2/Users/{scim_user}":     `{"userName":"scim@alpha.test","active":false}`,
		"PATCH /scim/v2/Users/{scim_user}":   `{"Operations":[{"op":"replace","value":{"active":false}}]}`,
		"POST /scim/v2/Groups":               `{"displayName":"Intruders"}`,
		"PUT /scim/v2/Groups/{scim_group}":   `{"displayName":"Taken","members":[]}`,
		"PATCH /scim/v2/Groups/{scim_group}": `{"Operations":[{"op":"replace","path":"displayName","value":"Taken"}]}`,
	}
	before, err := a.scim.GetGroup(ctx, scimCallerFor(w), mustGroupID(t, fx.group))
	require.NoError(t, err)
	cases := 0
	for _, r := range a.api.Routes() {
		if r.Access != httpapi.AccessSCIM {
			continue
		}
		target := fill(t, r.Path, params)
		body := bodies[r.Pattern()]
		if r.Method != http.MethodGet && r.Method != http.MethodDelete {
			require.NotEmpty(t, body, "no body for %s: add one", r.Pattern())
		}
		for _, authz := range []string{"", "Basic " + fx.bearer, "Token " + fx.bearer, fx.bearer, "Bearer " + revokedSecret} {
			req := httptest.NewRequest(r.Method, target, strings.NewReader(body))
			req.Host = "alpha.example.test"
			req.Header.Set("Content-Type", "application/scim+json")
			if authz != "" {
				req.Header.Set("Authorization", authz)
			}
			req.AddCookie(&http.Cookie{Name: auth.SessionCookieName, Value: cookie})
			rec := httptest.NewRecorder()
			a.api.ServeHTTP(rec, req)
			require.Equal(t, http.StatusUnauthorized, rec.Code, "%s with %q and the owner's cookie: %s", r.Pattern(), strings.Replace(authz, fx.bearer, "<token>", 1), rec.Body)
			cases++
		}
		if strings.Contains(r.Path, "{") {
			status, out := scimCall(t, a, r.Method, target, sw.deltaBearer, body)
			requireSCIMError(t, "delta's token on "+r.Pattern(), http.StatusNotFound, status, out)
			cases++
		}
	}
	after, err := a.scim.GetGroup(ctx, scimCallerFor(w), mustGroupID(t, fx.group))
	require.NoError(t, err)
	require.Equal(t, before, after, "alpha's group is unchanged")
	status, out := scimCall(t, a, http.MethodGet, "/scim/v2/Users/"+fx.user, "Bearer "+fx.bearer, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, true, out["active"], "alpha's user is still active")
	t.Logf("%d attempts on the SCIM routes, all refused", cases)
}

func scimCallerFor(w *matrixWorld) scim.Caller { return scim.Caller{Org: w.alpha.OrgID} }

func mustGroupID(t *testing.T, s string) ports.SCIMGroupID {
	t.Helper()
	id, err := ports.ParseSCIMGroupID(s)
	require.NoError(t, err)
	return id
}
