package httpapi_test

// Per-org single sign-on (AUTH-14) against two real in-process issuers:
// acme's org signs in through issuer A, globex's through issuer B. Domains
// are proven through a fake DNS resolver.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/oidc"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/internal/oidctest"
	"github.com/stockadehq/stockade/ports"
)

// fakeDNS answers TXT lookups from a map; unknown names are NXDOMAIN.
type fakeDNS struct {
	mu  sync.Mutex
	txt map[string][]string
}

func (d *fakeDNS) LookupTXT(_ context.Context, name string) ([]string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.txt[name]; ok {
		return r, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (d *fakeDNS) publish(name, value string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.txt[name] = append(d.txt[name], value)
}

type ssoWorld struct {
	*harness
	issA, issB *oidctest.Issuer
	dns        *fakeDNS
	globex     ports.Shop
	annCookie  string // ann: acme's Owner and the org's owner
	olga       ports.User
}

const (
	olgaPassword = "olga-Breakglass-ember-71"
	adaPassword  = "ada-Member-harbour-64"
)

func newSSOWorld(t *testing.T) *ssoWorld {
	t.Helper()
	issA, issB := oidctest.New(t), oidctest.New(t)
	clients := map[string]*http.Client{issA.URL(): issA.Client(), issB.URL(): issB.Client()}
	factory := func(ctx context.Context, c auth.SSOClient) (ports.IdentityProvider, error) {
		return oidc.New(ctx, oidc.Config{Name: c.Name, Issuer: c.Issuer, ClientID: c.ClientID, ClientSecret: c.ClientSecret, HTTPClient: clients[c.Issuer]})
	}
	dns := &fakeDNS{txt: map[string][]string{}}
	w := &ssoWorld{harness: newHarness(t, withSSO(factory, dns)), issA: issA, issB: issB, dns: dns}
	ctx := context.Background()

	// globex: another org with its own shop and IdP.
	globexOrg := ports.Org{ID: ports.NewOrgID(), Name: "Globex"}
	w.globex = ports.Shop{ID: ports.NewShopID(), OrgID: globexOrg.ID, Slug: "globex", Name: "Globex", Status: ports.ShopActive}
	require.NoError(t, w.raw.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		if _, err := tx.Orgs().Create(ctx, globexOrg); err != nil {
			return err
		}
		if _, err := tx.Shops().Create(ctx, w.globex); err != nil {
			return err
		}
		_, err := tx.OrgMembers().Add(ctx, w.acme.OrgID, w.ann.ID, ports.OrgOwner)
		return err
	}))
	// olga: an owner of acme's org with an acme.test address, the
	// break-glass owner; ada: a member of acme with an acme.test address.
	w.olga = w.createUser("olga@acme.test", "Olga", olgaPassword)
	w.addMember(w.acme, w.olga, ports.RoleOwner)
	require.NoError(t, w.raw.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		_, err := tx.OrgMembers().Add(ctx, w.acme.OrgID, w.olga.ID, ports.OrgOwner)
		return err
	}))
	ada := w.createUser("ada@acme.test", "Ada", adaPassword)
	w.addMember(w.acme, ada, ports.RoleSales)

	// ann configures acme's org over the API: connection, then domain.
	w.annCookie, _ = w.signIn("acme.example.test", "ann@example.test", annPassword)
	res := w.serve(call{method: http.MethodPut, path: "/org/sso", cookie: w.annCookie, body: fmt.Sprintf(
		`{"issuer":%q,"client_id":%q,"client_secret":%q,"default_role":"viewer","enabled":true,"mandatory":false}`,
		issA.URL(), issA.ClientID(), issA.ClientSecret())})
	require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))
	w.proveDomain(w.annCookie, "acme.example.test", "acme.test")

	// globex is set up by its operator (system scope).
	gctx := access.System(ctx, w.globex.ID, globexOrg.ID, "test")
	_, err := w.svc.PutSSOConnection(gctx, auth.SSOConnectionInput{
		Issuer: issB.URL(), ClientID: issB.ClientID(), ClientSecret: issB.ClientSecret(), DefaultRole: ports.RoleTech, Enabled: true,
	}, auth.Client{})
	require.NoError(t, err)
	d, err := w.svc.AddOrgDomain(gctx, "globex.test", auth.Client{})
	require.NoError(t, err)
	w.dns.publish(d.RecordName, d.RecordValue)
	_, err = w.svc.VerifyOrgDomain(gctx, "globex.test", auth.Client{})
	require.NoError(t, err)
	return w
}

// proveDomain claims domain over the API with cookie on host, publishes
// the record and verifies it.
func (w *ssoWorld) proveDomain(cookie, host, domain string) {
	w.t.Helper()
	res := w.serve(call{method: http.MethodPost, path: "/org/domains", host: host, cookie: cookie, body: `{"domain":"` + domain + `"}`})
	require.Equal(w.t, http.StatusCreated, res.StatusCode)
	var d struct {
		RecordName  string `json:"record_name"`
		RecordValue string `json:"record_value"`
		Verified    bool   `json:"verified"`
	}
	decodeBody(w.t, res, &d)
	require.False(w.t, d.Verified)
	w.dns.publish(d.RecordName, d.RecordValue)
	res = w.serve(call{method: http.MethodPost, path: "/org/domains/" + domain + "/verify", host: host, cookie: cookie})
	require.Equal(w.t, http.StatusOK, res.StatusCode, readBody(w.t, res))
}

// start runs POST /auth/sso/start for email on host: the IdP URL and the
// state cookie.
func (w *ssoWorld) start(host, email string) (string, *http.Cookie) {
	w.t.Helper()
	res := w.serve(call{method: http.MethodPost, path: "/auth/sso/start", host: host, body: `{"email":"` + email + `"}`})
	body := readBody(w.t, res)
	require.Equal(w.t, http.StatusOK, res.StatusCode, body)
	var out struct {
		RedirectURL string `json:"redirect_url"`
	}
	c := setCookie(w.t, res, auth.SSOStateCookieName)
	require.NoError(w.t, json.Unmarshal([]byte(body), &out))
	return out.RedirectURL, &http.Cookie{Name: c.Name, Value: c.Value}
}

// back delivers the IdP's redirect to the shop with the state cookie.
func (w *ssoWorld) back(u *url.URL, state *http.Cookie) *http.Response {
	w.t.Helper()
	return w.serve(call{method: http.MethodGet, path: u.RequestURI(), host: u.Host, cookies: []*http.Cookie{state}})
}

// signInAs runs a whole SSO sign-in on host for email, the IdP signing in
// sub at iss.
func (w *ssoWorld) signInAs(iss *oidctest.Issuer, host, email, sub string) *http.Response {
	w.t.Helper()
	authURL, state := w.start(host, email)
	return w.back(iss.Authorize(w.t, authURL, sub), state)
}

func (w *ssoWorld) membership(shop ports.Shop, email string) (ports.Membership, error) {
	var m ports.Membership
	u, err := w.svc.UserByEmail(context.Background(), email)
	if err != nil {
		return m, err
	}
	err = w.raw.InShop(context.Background(), shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		m, err = tx.Memberships().Get(ctx, u.ID)
		return err
	}, ports.ReadOnly())
	return m, err
}

func TestSSOSignIn(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	w.issA.AddUser(oidctest.User{Subject: "sam", Email: "Sam@acme.test", EmailVerified: true, Name: "Sam", AMR: []string{"pwd"}})
	w.issA.AddUser(oidctest.User{Subject: "ada-idp", Email: "ada@acme.test", EmailVerified: true, AMR: []string{"pwd", "otp"}})

	t.Run("just in time member with the default role, AAL1", func(t *testing.T) {
		authURL, state := w.start("acme.example.test", "sam@acme.test")
		u, err := url.Parse(authURL)
		require.NoError(t, err)
		assert.Equal(t, w.issA.URL()+"/authorize", u.Scheme+"://"+u.Host+u.Path, "acme's addresses go to acme's IdP")
		assert.Equal(t, "S256", u.Query().Get("code_challenge_method"))
		assert.NotEmpty(t, u.Query().Get("nonce"))
		assert.Equal(t, "https://acme.example.test/auth/sso/callback", u.Query().Get("redirect_uri"))

		res := w.back(w.issA.Authorize(t, authURL, "sam"), state)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, readBody(t, res))
		p, err := w.svc.Authenticate(context.Background(), w.acme.ID, sessionCookie(t, res))
		require.NoError(t, err)
		assert.Equal(t, auth.MethodSSO, p.Method)
		assert.Equal(t, ports.RoleViewer, p.Role, "the connection's default role")
		assert.Equal(t, ports.AAL1, p.AAL, "amr pwd alone is one factor")
		added := w.events(w.acme, "member.added")
		require.NotEmpty(t, added)
		assert.JSONEq(t, `{"role":"viewer","via":"sso"}`, string(added[len(added)-1].After))
	})
	t.Run("an existing account is linked, its role kept, AAL2 by amr", func(t *testing.T) {
		before, err := w.svc.UserByEmail(context.Background(), "ada@acme.test")
		require.NoError(t, err)
		res := w.signInAs(w.issA, "acme.example.test", "ada@acme.test", "ada-idp")
		require.Equal(t, http.StatusSeeOther, res.StatusCode, readBody(t, res))
		p, err := w.svc.Authenticate(context.Background(), w.acme.ID, sessionCookie(t, res))
		require.NoError(t, err)
		assert.Equal(t, before.ID, p.User)
		assert.Equal(t, ports.RoleSales, p.Role)
		assert.Equal(t, ports.AAL2, p.AAL, "amr pwd+otp is a second factor")
	})
	t.Run("not offered for another domain or on another org's shop", func(t *testing.T) {
		res := w.serve(call{method: http.MethodPost, path: "/auth/sso/start", body: `{"email":"x@elsewhere.test"}`})
		problemOf(t, res, http.StatusNotFound)
		res = w.serve(call{method: http.MethodPost, path: "/auth/sso/start", host: "globex.example.test", body: `{"email":"sam@acme.test"}`})
		problemOf(t, res, http.StatusNotFound)
	})
	t.Run("another org cannot verify a verified domain", func(t *testing.T) {
		gctx := access.System(context.Background(), w.globex.ID, w.globex.OrgID, "test")
		d, err := w.svc.AddOrgDomain(gctx, "acme.test", auth.Client{})
		require.NoError(t, err, "claiming is allowed")
		w.dns.publish(d.RecordName, d.RecordValue)
		_, err = w.svc.VerifyOrgDomain(gctx, "acme.test", auth.Client{})
		require.ErrorIs(t, err, ports.ErrConflict)
	})
	t.Run("a domain without its record stays unverified", func(t *testing.T) {
		res := w.serve(call{method: http.MethodPost, path: "/org/domains", cookie: w.annCookie, body: `{"domain":"norecord.test"}`})
		require.Equal(t, http.StatusCreated, res.StatusCode)
		res = w.serve(call{method: http.MethodPost, path: "/org/domains/norecord.test/verify", cookie: w.annCookie})
		p := problemOf(t, res, http.StatusBadRequest)
		assert.Contains(t, p.Detail, "stockade-verification=")
	})
	t.Run("every change is audited in the org owner's shop", func(t *testing.T) {
		for _, a := range []string{auth.ActionSSOUpdated, auth.ActionDomainAdded, auth.ActionDomainVerified} {
			evs := w.events(w.acme, a)
			require.NotEmpty(t, evs, a)
			assert.Equal(t, "user:"+w.ann.ID.String(), evs[0].Actor)
			assert.NotContains(t, string(evs[0].After), w.issA.ClientSecret())
		}
	})
	t.Run("the connection never shows its secret", func(t *testing.T) {
		res := w.serve(call{method: http.MethodGet, path: "/org/sso", cookie: w.annCookie})
		body := readBody(t, res)
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		assert.NotContains(t, body, w.issA.ClientSecret())
		assert.Contains(t, body, w.issA.ClientID())
	})
	t.Run("a shop member without an org role cannot configure", func(t *testing.T) {
		tom, _ := w.signIn("acme.example.test", "tom@example.test", tomPassword)
		res := w.serve(call{method: http.MethodPut, path: "/org/sso", cookie: tom, body: `{"issuer":"https://evil.example","client_id":"x","client_secret":"y","default_role":"owner","enabled":false,"mandatory":false}`})
		problemOf(t, res, http.StatusForbidden)
	})
}

// TestSSOAttacks: each ID token the brief names is refused, and refusing
// creates no account, no membership and no session.
func TestSSOAttacks(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	refused := func(t *testing.T, res *http.Response, email string) {
		t.Helper()
		problemOf(t, res, http.StatusUnauthorized)
		for _, c := range res.Cookies() {
			require.False(t, c.Name == auth.SessionCookieName && c.Value != "", "a session cookie was set")
		}
		_, err := w.membership(w.acme, email)
		require.ErrorIs(t, err, ports.ErrNotFound, "no member was added")
	}

	t.Run("an ID token from another org's issuer", func(t *testing.T) {
		// Globex's IdP vouches for an acme.test address. On acme's
		// callback, with acme's state, its code is worthless: acme's
		// connection redeems it at acme's issuer.
		w.issB.AddUser(oidctest.User{Subject: "mallory-b", Email: "victim1@acme.test", EmailVerified: true})
		w.issA.AddUser(oidctest.User{Subject: "victim1", Email: "victim1@acme.test", EmailVerified: true})
		_, acmeState := w.start("acme.example.test", "victim1@acme.test")
		globexURL, _ := w.start("globex.example.test", "someone@globex.test")
		fromB := w.issB.Authorize(t, globexURL, "mallory-b")
		q := fromB.Query()
		st := statePayload(t, acmeState)
		cb := &url.URL{Scheme: "https", Host: "acme.example.test", Path: "/auth/sso/callback", RawQuery: url.Values{"code": {q.Get("code")}, "state": {st["s"].(string)}}.Encode()}
		refused(t, w.back(cb, acmeState), "victim1@acme.test")

		// On globex's own shop, its IdP cannot sign in an address of a
		// domain globex has not verified.
		_, globexState := w.start("globex.example.test", "someone@globex.test")
		res := w.back(fromB, globexState)
		problemOf(t, res, http.StatusUnauthorized)

		// A token whose iss names another issuer is refused by acme's
		// verifier.
		w.issA.SetFaults(oidctest.Faults{WrongIssuer: true})
		defer w.issA.SetFaults(oidctest.Faults{})
		refused(t, w.signInAs(w.issA, "acme.example.test", "victim1@acme.test", "victim1"), "victim1@acme.test")
	})
	t.Run("an ID token for another client", func(t *testing.T) {
		w.issA.AddUser(oidctest.User{Subject: "victim2", Email: "victim2@acme.test", EmailVerified: true})
		w.issA.SetFaults(oidctest.Faults{WrongAudience: true})
		defer w.issA.SetFaults(oidctest.Faults{})
		refused(t, w.signInAs(w.issA, "acme.example.test", "victim2@acme.test", "victim2"), "victim2@acme.test")
	})
	t.Run("an ID token without email_verified", func(t *testing.T) {
		w.issA.AddUser(oidctest.User{Subject: "victim3", Email: "ada@acme.test", EmailVerified: false})
		res := w.signInAs(w.issA, "acme.example.test", "ada@acme.test", "victim3")
		problemOf(t, res, http.StatusUnauthorized)
		var none []*http.Cookie
		for _, c := range res.Cookies() {
			if c.Name == auth.SessionCookieName && c.Value != "" {
				none = append(none, c)
			}
		}
		assert.Empty(t, none)
		err := w.raw.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
			_, err := tx.Identities().Get(ctx, w.issA.URL(), "victim3")
			return err
		}, ports.ReadOnly())
		require.ErrorIs(t, err, ports.ErrNotFound, "not linked to ada")
	})
	t.Run("an ID token for an unverified domain", func(t *testing.T) {
		// Claimed by acme's org, never proven.
		_, err := w.svc.AddOrgDomain(access.System(context.Background(), w.acme.ID, w.acme.OrgID, "test"), "pending.test", auth.Client{})
		require.NoError(t, err)
		for _, email := range []string{"victim4@pending.test", "victim4@unclaimed.test", "victim4@globex.test"} {
			sub := "sub-" + email
			w.issA.AddUser(oidctest.User{Subject: sub, Email: email, EmailVerified: true})
			// The sign-in starts with an acme.test address; the IdP answers
			// with another.
			refused(t, w.signInAs(w.issA, "acme.example.test", "sam@acme.test", sub), email)
		}
		_, err = w.svc.UserByEmail(context.Background(), "victim4@unclaimed.test")
		require.ErrorIs(t, err, ports.ErrNotFound, "no account was created")
		assert.NotEmpty(t, w.events(w.acme, auth.ActionSSOSignInDenied), "refusals are audited")
	})
}

// TestSSOMandatory: once the org makes SSO mandatory, passwords and magic
// links are refused for its verified domains on its shops, with a typed
// 403, except for the named break-glass owner.
func TestSSOMandatory(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	put := func(mandatory bool, breakGlass string) {
		t.Helper()
		res := w.serve(call{method: http.MethodPut, path: "/org/sso", cookie: w.annCookie, body: fmt.Sprintf(
			`{"issuer":%q,"client_id":%q,"default_role":"viewer","enabled":true,"mandatory":%v,"break_glass_email":%q}`,
			w.issA.URL(), w.issA.ClientID(), mandatory, breakGlass)})
		require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))
	}
	signIn := func(email, password string) *http.Response {
		return w.serve(call{method: http.MethodPost, path: "/auth/signin", body: credentials(email, password)})
	}
	// Before: ada signs in with her password.
	res := signIn("ada@acme.test", adaPassword)
	require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))

	// A link mailed before SSO became mandatory.
	res = w.serve(call{method: http.MethodPost, path: "/auth/magic-link", body: `{"email":"ada@acme.test"}`})
	require.Equal(t, http.StatusAccepted, res.StatusCode)
	_, oldLink := w.mailer.lastLink(t)

	put(true, "olga@acme.test")

	t.Run("password refused for the domain", func(t *testing.T) {
		p := problemOf(t, signIn("ada@acme.test", adaPassword), http.StatusForbidden)
		assert.Contains(t, p.Detail, "requires single sign-on")
		// The same answer for an address without an account: no oracle.
		p = problemOf(t, signIn("nobody@acme.test", "whatever-Pass-1234"), http.StatusForbidden)
		assert.Contains(t, p.Detail, "requires single sign-on")
	})
	t.Run("magic links refused for the domain", func(t *testing.T) {
		p := problemOf(t, w.serve(call{method: http.MethodPost, path: "/auth/magic-link", body: `{"email":"ada@acme.test"}`}), http.StatusForbidden)
		assert.Contains(t, p.Detail, "requires single sign-on")
		res := w.serve(call{method: http.MethodPost, path: "/auth/magic-link/consume", body: `{"token":"` + oldLink + `"}`})
		problemOf(t, res, http.StatusForbidden)
	})
	t.Run("the break-glass owner may still use a password", func(t *testing.T) {
		res := signIn("olga@acme.test", olgaPassword)
		require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))
	})
	t.Run("other domains and other orgs' shops are not affected", func(t *testing.T) {
		res := signIn("tom@example.test", tomPassword)
		require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))
	})
	t.Run("SSO still works", func(t *testing.T) {
		w.issA.AddUser(oidctest.User{Subject: "ada-idp", Email: "ada@acme.test", EmailVerified: true})
		res := w.signInAs(w.issA, "acme.example.test", "ada@acme.test", "ada-idp")
		require.Equal(t, http.StatusSeeOther, res.StatusCode, readBody(t, res))
	})
	t.Run("the break-glass must be an org owner", func(t *testing.T) {
		res := w.serve(call{method: http.MethodPut, path: "/org/sso", cookie: w.annCookie, body: fmt.Sprintf(
			`{"issuer":%q,"client_id":%q,"default_role":"viewer","enabled":true,"mandatory":true,"break_glass_email":"ada@acme.test"}`,
			w.issA.URL(), w.issA.ClientID())})
		problemOf(t, res, http.StatusBadRequest)
	})
	t.Run("without the break-glass, the owner is refused too", func(t *testing.T) {
		put(true, "")
		problemOf(t, signIn("olga@acme.test", olgaPassword), http.StatusForbidden)
		put(false, "")
		res := signIn("ada@acme.test", adaPassword)
		require.Equal(t, http.StatusOK, res.StatusCode, readBody(t, res))
	})
}

// TestSSOTwoFactorPolicy: the shop's two-factor policy applies to SSO
// sessions: an AAL1 one must enrol, an AAL2 one (amr shows a second
// factor) is served.
func TestSSOTwoFactorPolicy(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	require.NoError(t, w.raw.InShop(context.Background(), w.acme.ID, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.TwoFactorPolicy().Set(ctx, ports.TwoFactorPolicy{AllMembers: true, UpdatedBy: "test"})
		return err
	}))
	w.issA.AddUser(oidctest.User{Subject: "one", Email: "one@acme.test", EmailVerified: true, AMR: []string{"pwd"}})
	w.issA.AddUser(oidctest.User{Subject: "two", Email: "two@acme.test", EmailVerified: true, AMR: []string{"mfa"}})

	res := w.signInAs(w.issA, "acme.example.test", "one@acme.test", "one")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, readBody(t, res))
	one := sessionCookie(t, res)
	_, err := w.svc.Authenticate(context.Background(), w.acme.ID, one)
	require.ErrorIs(t, err, auth.ErrEnrolRequired)
	problemOf(t, w.serve(call{method: http.MethodGet, path: "/auth/sessions", cookie: one}), http.StatusForbidden)

	res = w.signInAs(w.issA, "acme.example.test", "two@acme.test", "two")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, readBody(t, res))
	p, err := w.svc.Authenticate(context.Background(), w.acme.ID, sessionCookie(t, res))
	require.NoError(t, err)
	assert.Equal(t, ports.AAL2, p.AAL)
}

// TestSSOIdentityLinkedElsewhere: an IdP identity linked to one account
// cannot sign in as another address later, and the refusal creates no
// account.
func TestSSOIdentityLinkedElsewhere(t *testing.T) {
	t.Parallel()
	w := newSSOWorld(t)
	w.issA.AddUser(oidctest.User{Subject: "dup", Email: "sam@acme.test", EmailVerified: true})
	res := w.signInAs(w.issA, "acme.example.test", "sam@acme.test", "dup")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, readBody(t, res))

	w.issA.AddUser(oidctest.User{Subject: "dup", Email: "zed@acme.test", EmailVerified: true})
	problemOf(t, w.signInAs(w.issA, "acme.example.test", "zed@acme.test", "dup"), http.StatusUnauthorized)
	_, err := w.svc.UserByEmail(context.Background(), "zed@acme.test")
	require.ErrorIs(t, err, ports.ErrNotFound, "the refused sign-in created no account")
}
