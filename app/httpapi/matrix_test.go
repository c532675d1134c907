package httpapi_test

// The cross-tenant attack matrix (issue 5, TEN-1/2/5/6/7). Routes are
// enumerated from the API itself (API.Routes), so a route added later is
// attacked without editing this file; a route whose path names a kind of
// resource the matrix has no fixture for, or that takes a body the matrix
// cannot build, fails the test with a message saying what to add.
//
//	go test ./app/httpapi -run 'TestAttackMatrix|TestPermissionMatrix|TestEveryRouteConsultsTheGuard' -v
//
// prints the number of cases each part ran.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// resourceParams are the path parameters that name one shop's resource.
var resourceParams = []string{"file", "user", "invitation", "session", "hq_shop", "shop_slug", "job", "link", "contact", "message", "endpoint", "passkey"}

// bodyless are the state-changing routes that take no body.
var bodyless = []string{
	"POST /auth/signout", "POST /auth/sessions/revoke-others",
	"POST /org/shops/{shop_slug}/suspend", "POST /org/shops/{shop_slug}/reactivate",
	"POST /jobs/{job}/retry", "POST /auth/impersonation/exit",
	"POST /billing/portal", "POST /billing/card", "POST /billing/connect", "POST /billing/connect/refresh", "POST /billing/refresh", "POST /messaging/messages/{message}/retry",
	"POST /webhook-endpoints/{endpoint}/disable", "POST /webhook-endpoints/{endpoint}/enable",
	"POST /auth/2fa/totp/enrol", "POST /auth/2fa/recovery-codes",
	"POST /export",
	"POST /auth/passkeys/register/begin", "POST /auth/passkeys/step-up/begin", "POST /auth/passkeys/signin/begin",
	"POST /org/domains/{domain}/verify",
	"POST /org/scim/tokens",
}

type spec struct{ target, body, contentType string }

// specFor builds the request for route r with params; owner asks for the
// variant that makes or unmakes an Owner.
func specFor(t *testing.T, r httpapi.Route, params map[string]string, n int64, owner bool) spec {
	t.Helper()
	key := r.Method + " " + strings.TrimPrefix(r.Path, httpapi.HQPrefix)
	s := spec{target: fill(t, r.Path, params), contentType: "application/json"}
	role := "sales"
	if owner {
		role = "owner"
	}
	switch key {
	case "POST /auth/password":
		s.body = fmt.Sprintf(`{"current_password":%q,"new_password":"fresh-Teapot-pass-%d"}`, matrixPassword, n)
	case "POST /files":
		s.target += "?kind=document&name=x.pdf"
		s.body, s.contentType = "%PDF-1.7\n"+strings.Repeat("x", 100), "application/pdf"
	case "POST /files/uploads":
		s.body = `{"kind":"document","name":"x.pdf","size":100,"content_type":"application/pdf"}`
	case "POST /files/{file}/finalize":
		s.body = `{"sha256":"` + strings.Repeat("0", 64) + `"}`
	case "PATCH /shop":
		s.body = fmt.Sprintf(`{"name":"Renamed %d"}`, n)
	case "PATCH /members/{user}":
		s.body = `{"role":"` + role + `"}`
	case "POST /invitations":
		s.body = fmt.Sprintf(`{"email":"x%d@alpha.test","role":%q}`, n, role)
	case "POST /orgs":
		s.body = fmt.Sprintf(`{"name":"Org %d","slug":"org-%d"}`, n, n)
	case "POST /org/shops":
		s.body = fmt.Sprintf(`{"slug":"shop-%d","name":"Shop %d"}`, n, n)
	case "POST /links":
		s.body = fmt.Sprintf(`{"record_type":"file","record_id":%q,"actions":["download"],"ttl":"1h"}`, params["file"])
	case "GET /links":
		s.target += "?record_type=file&record_id=" + params["file"]
		s.contentType = ""
	case "POST /exports":
		s.body = `{"reason":"matrix"}`
	case "POST /billing/checkout":
		s.body = `{"plan":"pro"}`
	case "PUT /messaging/contacts/{contact}/consent":
		s.body = `{"topic":"marketing","opted_out":true}`
	case "PUT /messaging/settings":
		s.body = fmt.Sprintf(`{"messaging_service_sid":"","help_text":"Help %d","send_from":0,"send_until":0,"time_zone":""}`, n)
	case "POST /messaging/messages":
		s.body = fmt.Sprintf(`{"channel":"email","category":"transactional","to":{"email":"m%d@alpha.test"},"subject":"Hi","body":"x"}`, n)
	case "POST /webhook-endpoints":
		s.body = fmt.Sprintf(`{"url":"https://hooks-%d.example.test/in","events":["*"]}`, n)
	case "POST /auth/2fa/totp/confirm", "POST /auth/2fa/step-up":
		// Not a code at all: never confirms a factor or steps up by luck.
		s.body = `{"code":"not-a-code"}`
	case "POST /auth/passkeys/register/finish":
		// No credential at all: never registers a passkey by luck.
		s.body = `{"name":"Matrix","credential":{}}`
	case "POST /auth/passkeys/step-up/finish", "POST /auth/passkeys/signin/finish":
		s.body = `{"credential":{}}`
	case "PATCH /auth/passkeys/{passkey}":
		s.body = fmt.Sprintf(`{"name":"Renamed %d"}`, n)
	case "PUT /shop/2fa-policy":
		// Nobody required: the matrix's members stay served.
		s.body = `{"all_members":false,"roles":[]}`
	case "PUT /org/members":
		s.body = fmt.Sprintf(`{"email":%q,"role":"admin"}`, params["email"])
	case "PUT /org/sso":
		// A disabled connection: the matrix never reaches an issuer.
		s.body = `{"issuer":"https://idp.example.test","client_id":"matrix","client_secret":"matrix-secret","default_role":"viewer","enabled":false,"mandatory":false}`
	case "POST /org/domains":
		s.body = fmt.Sprintf(`{"domain":"d%d.example.test"}`, n)
	case "POST /auth/sso/start":
		s.body = `{"email":"x@alpha.test"}`
	case "POST /org/invitations/accept":
		s.body = `{"token":"` + strings.Repeat("A", 43) + `"}`
	case "POST /org/scim/mappings":
		s.body = `{"group":"Matrix Group","shop":"alpha","role":"viewer"}`
	default:
		if r.Method != http.MethodGet && r.Method != http.MethodDelete && !slices.Contains(bodyless, key) {
			t.Fatalf("the attack matrix cannot build a request for %s: add a body to specFor (or the route to bodyless)", key)
		}
		s.contentType = ""
	}
	return s
}

func namesResource(path string) bool {
	for _, p := range resourceParams {
		if strings.Contains(path, "{"+p+"}") {
			return true
		}
	}
	return false
}

func sessionRoutes(a *matrixAPI) []httpapi.Route {
	var out []httpapi.Route
	for _, r := range a.api.Routes() {
		if isSessionRoute(r) {
			out = append(out, r)
		}
	}
	return out
}

// isSessionRoute reports whether r is served to a signed-in member.
func isSessionRoute(r httpapi.Route) bool { return r.Access == httpapi.AccessSession }

// bravoState is everything bravo holds, read as the superuser sees it
// through the store, to prove the matrix changed none of it.
func bravoState(t *testing.T, w *matrixWorld) string {
	t.Helper()
	var b strings.Builder
	err := w.raw.InShop(context.Background(), w.bravo.ID, func(ctx context.Context, tx ports.ShopTx) error {
		shop, err := tx.ThisShop().Get(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "shop %s %s %s\n", shop.Name, shop.Slug, shop.Status)
		ms, err := tx.Memberships().List(ctx)
		if err != nil {
			return err
		}
		for _, m := range ms {
			fmt.Fprintf(&b, "member %s %s\n", m.UserID, m.Role)
		}
		fs, err := tx.Files().List(ctx, ports.FileQuery{Limit: 1000})
		if err != nil {
			return err
		}
		for _, f := range fs {
			fmt.Fprintf(&b, "file %s %s %s\n", f.ID, f.Name, f.State)
			links, err := tx.Capabilities().ListByRecord(ctx, "file", f.ID.String(), time.Time{})
			if err != nil {
				return err
			}
			for _, l := range links {
				fmt.Fprintf(&b, "link %s %v %v %v\n", l.ID, l.Actions, l.ExpiresAt, l.RevokedAt)
			}
		}
		invs, err := tx.Invitations().List(ctx, time.Time{})
		if err != nil {
			return err
		}
		for _, i := range invs {
			fmt.Fprintf(&b, "invitation %s %s %v\n", i.ID, i.Email, i.RevokedAt)
		}
		ss, err := tx.Sessions().ListByUser(ctx, w.bob.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "bob sessions %d\n", len(ss))
		hooks, err := tx.WebhookEndpoints().List(ctx)
		if err != nil {
			return err
		}
		for _, e := range hooks {
			fmt.Fprintf(&b, "webhook endpoint %s %s %v %x\n", e.ID, e.URL, e.DisabledAt, e.SealedSecret)
		}
		bill, err := tx.Billing().Get(ctx)
		switch {
		case errors.Is(err, ports.ErrNotFound):
			fmt.Fprintln(&b, "billing none") // a world without billing
		case err != nil:
			return err
		default:
			fmt.Fprintln(&b, fmtBilling(bill))
		}
		evs, err := tx.Audit().List(ctx, ports.AuditQuery{Limit: 1000})
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "audit events %d\n", len(evs))
		jobs, err := tx.Jobs().List(ctx, "", 1000)
		if err != nil {
			return err
		}
		for _, j := range jobs {
			fmt.Fprintf(&b, "job %s %s %d\n", j.ID, j.State, j.Attempts)
		}
		contacts, err := tx.Consent().ListContacts(ctx, ports.ContactID{}, 1000)
		if err != nil {
			return err
		}
		for _, c := range contacts {
			cs, err := tx.Consent().Consent(ctx, c.ID)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "contact %s %s %s %v\n", c.ID, c.Phone, c.Email, cs)
		}
		msgs, err := tx.Outbox().List(ctx, ports.OutboxQuery{Limit: 1000})
		if err != nil {
			return err
		}
		for _, m := range msgs {
			fmt.Fprintf(&b, "message %s %s %d\n", m.ID, m.State, m.Attempts)
		}
		settings, err := tx.MessagingSettings().Get(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "messaging settings %+v\n", settings)
		return nil
	}, ports.ReadOnly())
	require.NoError(t, err)
	return b.String()
}

// noSecrets fails when body holds any of bravo's data — except a value the
// request itself carried (an error may echo the ID the attacker sent). The
// audit log's reading routes may also show the bravo IDs that alpha's
// attackers sent in earlier requests: alpha's log records those attempts
// with their targets (outcome "denied"), which is the log doing its job;
// bravo's names, e-mails and anything else never sent stay forbidden.
func noSecrets(t *testing.T, w *matrixWorld, what, body, sent string) {
	t.Helper()
	noInternals(t, what, body)
	auditRead := strings.HasPrefix(sent, "/audit")
	for _, s := range w.bravoSecrets {
		if strings.Contains(sent, s) {
			continue
		}
		if auditRead && sentAsParam(w, s) {
			continue
		}
		require.NotContains(t, body, s, "%s leaked bravo's %q", what, s)
	}
}

// sentAsParam reports whether s is one of the bravo IDs the matrix sends as
// path parameters.
func sentAsParam(w *matrixWorld, s string) bool {
	for _, v := range w.bravoParams {
		if v == s {
			return true
		}
	}
	return false
}

// TestAttackMatrix: every alpha member, in every role, tries every session
// route against bravo's resources (same org) through alpha's host and
// through bravo's host. Each attempt must be refused (403 or 404 on
// alpha's host whenever the path names one of bravo's resources; 401, 403
// or 404 on bravo's host, where alpha's cookie is no credential — 401 is
// the truthful answer to a cookie minted for another shop) and no answer
// may carry any of bravo's data; at the end bravo is exactly as before.
func TestAttackMatrix(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := map[bool]string{false: "sqlite", true: "postgres"}[pg]
		t.Run(name, func(t *testing.T) {
			w := newMatrixWorld(t, pg)
			a := w.api(access.DefaultPolicy())
			before := bravoState(t, w)
			routes := sessionRoutes(a)
			cases := 0
			for _, r := range routes {
				for _, role := range ports.DefaultRoles() {
					u := w.byRole[role]
					for _, host := range []string{"alpha", "bravo"} {
						cookie, _ := w.signIn(a, "alpha", u.Email)
						params := maps(w.bravoParams, map[string]string{"email": w.bob.Email})
						sp := specFor(t, r, params, w.unique(), false)
						res := a.send(r.Method, sp.target, host, cookie, sp.body, sp.contentType)
						body := readBody(t, res)
						w.restorePassword(a, u)
						what := fmt.Sprintf("%s %s as alpha %s on %s's host (%d)", r.Method, sp.target, role, host, res.StatusCode)
						switch {
						case host == "bravo":
							require.Contains(t, []int{401, 403, 404}, res.StatusCode, what+": "+body)
						case namesResource(r.Path):
							require.Contains(t, []int{403, 404}, res.StatusCode, what+": "+body)
						}
						noSecrets(t, w, what, body, sp.target+" "+sp.body)
						cases++
					}
				}
			}
			require.Equal(t, before, bravoState(t, w), "the matrix changed bravo")
			t.Logf("attack matrix on %s: %d session routes × %d roles × 2 hosts = %d attempts, all refused, bravo unchanged", name, len(routes), len(ports.DefaultRoles()), cases)
			w.skipLeftOutBillingRoutes(t, "the attack matrix on "+name, isSessionRoute)
		})
	}
}

func maps(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// documentedMatrix reads the "Roles and permissions" table of
// docs/roles.md: permission → roles holding it.
func documentedMatrix(t *testing.T) map[access.Permission][]ports.Role {
	t.Helper()
	f, err := os.Open("../../docs/roles.md")
	require.NoError(t, err)
	defer f.Close()
	out := map[access.Permission][]ports.Role{}
	var cols []ports.Role
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			in = strings.Contains(line, "Roles and permissions")
			continue
		}
		if !in || !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if cells[0] == "Permission" {
			for _, c := range cells[1:] {
				if ports.Role(strings.ToLower(c)).Valid() {
					cols = append(cols, ports.Role(strings.ToLower(c)))
				}
			}
			continue
		}
		if !strings.HasPrefix(cells[0], "`") {
			continue
		}
		perm := access.Permission(strings.Trim(cells[0], "`"))
		out[perm] = []ports.Role{}
		for i, r := range cols {
			if cells[1+i] == "✓" {
				out[perm] = append(out[perm], r)
			}
		}
	}
	require.NoError(t, sc.Err())
	require.Len(t, cols, 5, "docs/roles.md: the Roles and permissions table needs a column per role")
	return out
}

func TestRolesDocDocumentsTheDefaultMatrix(t *testing.T) {
	doc := documentedMatrix(t)
	p := access.DefaultPolicy()
	var perms []access.Permission
	for perm := range doc {
		perms = append(perms, perm)
	}
	slices.Sort(perms)
	require.Equal(t, p.Permissions(), perms, "docs/roles.md lists exactly the default permissions")
	for _, perm := range perms {
		want := p.Roles(perm)
		if want == nil {
			want = []ports.Role{}
		}
		require.Equal(t, want, doc[perm], "docs/roles.md row %s", perm)
	}
}

// TestPermissionMatrix: for every role, every session route on the
// caller's own shop is allowed or refused with 403 exactly as docs/roles.md's
// table documents (owner-making variants need members.owners too); org
// and HQ routes refuse every member without an org role, and serve an org
// admin.
func TestPermissionMatrix(t *testing.T) {
	w := newMatrixWorld(t, false)
	a := w.api(access.DefaultPolicy())
	doc := documentedMatrix(t)
	allowed := func(role ports.Role, perms ...access.Permission) bool {
		for _, p := range perms {
			if !slices.Contains(doc[p], role) {
				return false
			}
		}
		return true
	}
	checks := 0
	check := func(r httpapi.Route, u ports.User, targetRole ports.Role, ownerVariant bool, want bool) {
		t.Helper()
		cookie, _ := w.signIn(a, "alpha", u.Email)
		params := w.alphaTargets(a, u, targetRole)
		sp := specFor(t, r, params, w.unique(), ownerVariant)
		res := a.send(r.Method, sp.target, "alpha", cookie, sp.body, sp.contentType)
		body := readBody(t, res)
		w.restorePassword(a, u)
		what := fmt.Sprintf("%s %s as %s (owner variant %v)", r.Method, sp.target, u.Email, ownerVariant)
		if want {
			require.NotContains(t, []int{401, 403}, res.StatusCode, what+" should be allowed: "+body)
		} else {
			require.Equal(t, http.StatusForbidden, res.StatusCode, what+" should be refused: "+body)
		}
		checks++
	}
	for _, r := range sessionRoutes(a) {
		for _, role := range ports.DefaultRoles() {
			u := w.byRole[role]
			switch {
			case r.ViaHQ || r.OrgPermission != "":
				check(r, u, ports.RoleViewer, false, false) // no org role
			default:
				check(r, u, ports.RoleViewer, false, allowed(role, r.Permission))
				key := r.Method + " " + r.Path
				switch key {
				case "PATCH /members/{user}":
					check(r, u, ports.RoleViewer, true, allowed(role, r.Permission, access.MembersOwners))
					check(r, u, ports.RoleOwner, false, allowed(role, r.Permission, access.MembersOwners))
				case "DELETE /members/{user}":
					check(r, u, ports.RoleOwner, false, allowed(role, r.Permission, access.MembersOwners))
				case "POST /invitations":
					check(r, u, ports.RoleViewer, true, allowed(role, r.Permission, access.MembersOwners))
				}
			}
		}
		if r.OrgPermission != "" {
			// The org admin (a viewer of alpha) holds every org permission
			// but managing the org's owners and admins.
			check(r, w.hqAdmin, ports.RoleViewer, false, access.OrgAllows(ports.OrgAdmin, r.OrgPermission))
		}
	}
	t.Logf("permission matrix: %d checks over %d session routes", checks, len(sessionRoutes(a)))
	w.skipLeftOutBillingRoutes(t, "the permission matrix", isSessionRoute)
}

// TestEveryRouteConsultsTheGuard builds the API over a policy that grants
// nothing: every session route must then answer 403 to a caller whom
// nothing else stops — alpha's owner, who is also the org's owner — so a
// use case that skips its guard is caught whatever its route.
func TestEveryRouteConsultsTheGuard(t *testing.T) {
	w := newMatrixWorld(t, false)
	def := w.api(access.DefaultPolicy())
	none, err := access.ExactPolicy()
	require.NoError(t, err)
	deny := w.api(none)
	owner := w.orgOwner
	cases := 0
	for _, r := range sessionRoutes(deny) {
		params := w.alphaTargets(def, owner, ports.RoleViewer)
		if r.ViaHQ {
			params["hq_shop"] = "alpha" // the owner's own org; resources are alpha's
		}
		cookie, _ := w.signIn(def, "alpha", owner.Email)
		sp := specFor(t, r, params, w.unique(), false)
		res := deny.send(r.Method, sp.target, "alpha", cookie, sp.body, sp.contentType)
		body := readBody(t, res)
		w.restorePassword(def, owner)
		require.Equal(t, http.StatusForbidden, res.StatusCode, "%s %s under a policy that grants nothing: %s", r.Method, sp.target, body)
		cases++
	}
	t.Logf("deny-all policy: %d session routes, every one refused by the guard", cases)
	w.skipLeftOutBillingRoutes(t, "the deny-all guard check", isSessionRoute)
}
