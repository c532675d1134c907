package httpapi_test

// OpenID Connect sign-in (AUTH-5) against the real in-process issuer:
// PKCE S256, state, nonce, verified-e-mail linking, one-time codes.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/oidc"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/internal/oidctest"
	"github.com/stockadehq/stockade/ports"
)

type oidcWorld struct {
	*harness
	iss *oidctest.Issuer
}

func newOIDCWorld(t *testing.T) oidcWorld {
	t.Helper()
	iss := oidctest.New(t)
	p, err := oidc.New(context.Background(), oidc.Config{
		Name: "corp", Issuer: iss.URL(), ClientID: iss.ClientID(), ClientSecret: iss.ClientSecret(), HTTPClient: iss.Client(),
	})
	require.NoError(t, err)
	iss.AddUser(oidctest.User{Subject: "sub-ann", Email: "ann@example.test", EmailVerified: true, Name: "Ann"})
	// tom's address, but the issuer has not verified it: whoever this is,
	// they must not become tom.
	iss.AddUser(oidctest.User{Subject: "sub-not-tom", Email: "tom@example.test", EmailVerified: false})
	iss.AddUser(oidctest.User{Subject: "sub-quirky", Email: "Ann@Example.test", EmailVerified: true, EmailVerifiedAsString: true})
	return oidcWorld{harness: newHarness(t, withProviders(p)), iss: iss}
}

// start runs GET /auth/oidc/corp/start on host and returns the provider URL
// and the state cookie.
func (w oidcWorld) start(host string) (*url.URL, *http.Cookie) {
	w.t.Helper()
	res := w.serve(call{method: http.MethodGet, path: "/auth/oidc/corp/start", host: host})
	require.Equal(w.t, http.StatusFound, res.StatusCode)
	loc, err := res.Location()
	require.NoError(w.t, err)
	c := setCookie(w.t, res, auth.OIDCStateCookieName)
	// The browser would send back only name=value; so does the test.
	return loc, &http.Cookie{Name: c.Name, Value: c.Value}
}

// callback delivers the issuer's redirect to the handler with the state
// cookie, as the browser would.
func (w oidcWorld) callback(back *url.URL, state *http.Cookie) *http.Response {
	w.t.Helper()
	c := call{method: http.MethodGet, path: back.RequestURI(), host: back.Host}
	if state != nil {
		c.cookies = []*http.Cookie{state}
	}
	return w.serve(c)
}

func (w oidcWorld) identity(sub string) (ports.Identity, error) {
	var id ports.Identity
	err := w.raw.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		id, err = tx.Identities().Get(ctx, w.iss.URL(), sub)
		return err
	}, ports.ReadOnly())
	return id, err
}

// statePayload decodes a state cookie's signed JSON.
func statePayload(t *testing.T, c *http.Cookie) map[string]any {
	t.Helper()
	f := strings.Split(c.Value, ".")
	require.Len(t, f, 4)
	raw, err := b64url.DecodeString(f[2])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

// Guards oidc.go StartOIDC (fresh state/nonce/verifier, signed cookie),
// FinishOIDC and linkIdentity (verified e-mail links the existing
// account), and the Exchange the provider runs (PKCE and nonce).
func TestOIDCHappyPath(t *testing.T) {
	t.Parallel()
	w := newOIDCWorld(t)
	authURL, state := w.start("acme.example.test")

	assert.Equal(t, w.iss.URL()+"/authorize", authURL.Scheme+"://"+authURL.Host+authURL.Path)
	q := authURL.Query()
	assert.Equal(t, "S256", q.Get("code_challenge_method"))
	assert.Len(t, q.Get("code_challenge"), 43)
	assert.NotEmpty(t, q.Get("state"))
	assert.NotEmpty(t, q.Get("nonce"))
	assert.NotEqual(t, q.Get("state"), q.Get("nonce"))
	assert.Equal(t, "https://acme.example.test/auth/oidc/corp/callback", q.Get("redirect_uri"))
	assert.Contains(t, strings.Fields(q.Get("scope")), "openid")
	payload := statePayload(t, state)
	assert.NotContains(t, authURL.String(), payload["v"], "the PKCE verifier never leaves in the URL")

	back := w.iss.Authorize(t, authURL.String(), "sub-ann")
	res := w.callback(back, state)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, readBody(t, res))
	assert.Equal(t, "/", res.Header.Get("Location"))
	cookie := sessionCookie(t, res)
	cleared := setCookie(t, res, auth.OIDCStateCookieName)
	assert.Equal(t, -1, cleared.MaxAge, "the state cookie is spent")

	pr, err := w.svc.Authenticate(context.Background(), w.acme.ID, cookie)
	require.NoError(t, err)
	assert.Equal(t, w.ann.ID, pr.User, "linked to the existing account with the verified e-mail")
	assert.Equal(t, auth.MethodOIDC, pr.Method)
	id, err := w.identity("sub-ann")
	require.NoError(t, err)
	assert.Equal(t, w.ann.ID, id.UserID)

	t.Run("replayed code", func(t *testing.T) {
		// Guards the issuer's one-time code (the server keeps no record of
		// used states): the same callback a second time is refused.
		problemOf(t, w.callback(back, state), http.StatusUnauthorized)
	})
	t.Run("second sign-in uses the link", func(t *testing.T) {
		authURL, state := w.start("acme.example.test")
		res := w.callback(w.iss.Authorize(t, authURL.String(), "sub-ann"), state)
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
	})
}

// Guards oidc.go FinishOIDC's state checks (readOIDCState's MAC with the
// shop, the constant-time compare with the returned state) and the
// provider's nonce check.
func TestOIDCRefusals(t *testing.T) {
	t.Parallel()
	w := newOIDCWorld(t)

	t.Run("wrong state parameter", func(t *testing.T) {
		authURL, state := w.start("acme.example.test")
		back := w.iss.Authorize(t, authURL.String(), "sub-ann")
		q := back.Query()
		q.Set("state", "attacker-chosen")
		back.RawQuery = q.Encode()
		problemOf(t, w.callback(back, state), http.StatusUnauthorized)
	})
	t.Run("no state cookie", func(t *testing.T) {
		authURL, _ := w.start("acme.example.test")
		problemOf(t, w.callback(w.iss.Authorize(t, authURL.String(), "sub-ann"), nil), http.StatusUnauthorized)
	})
	t.Run("cookies of two sign-ins swapped", func(t *testing.T) {
		// Login CSRF: the attacker's callback with the victim's cookie.
		urlA, _ := w.start("acme.example.test")
		_, stateB := w.start("acme.example.test")
		problemOf(t, w.callback(w.iss.Authorize(t, urlA.String(), "sub-ann"), stateB), http.StatusUnauthorized)
	})
	t.Run("state cookie from another shop", func(t *testing.T) {
		authURL, state := w.start("acme.example.test")
		back := w.iss.Authorize(t, authURL.String(), "sub-ann")
		back.Host = "bolt.example.test"
		problemOf(t, w.callback(back, state), http.StatusUnauthorized)
	})
	t.Run("nonce mismatch", func(t *testing.T) {
		// The state cookie is re-signed with the test's key so that state
		// and verifier match and only the nonce differs: the refusal can
		// come from the ID token's nonce check alone.
		authURL, state := w.start("acme.example.test")
		back := w.iss.Authorize(t, authURL.String(), "sub-ann")
		p := statePayload(t, state)
		p["n"] = "another-nonce"
		raw, err := json.Marshal(p)
		require.NoError(t, err)
		forged := &http.Cookie{Name: auth.OIDCStateCookieName, Value: w.signState(w.acme.ID, raw)}
		problemOf(t, w.callback(back, forged), http.StatusUnauthorized)
	})
	t.Run("re-signed unchanged state still works", func(t *testing.T) {
		// The control for the case above: signState is faithful.
		authURL, state := w.start("acme.example.test")
		back := w.iss.Authorize(t, authURL.String(), "sub-ann")
		raw, err := json.Marshal(statePayload(t, state))
		require.NoError(t, err)
		same := &http.Cookie{Name: auth.OIDCStateCookieName, Value: w.signState(w.acme.ID, raw)}
		require.Equal(t, http.StatusSeeOther, w.callback(back, same).StatusCode)
	})
	t.Run("expired state", func(t *testing.T) {
		authURL, state := w.start("acme.example.test")
		back := w.iss.Authorize(t, authURL.String(), "sub-ann")
		w.clock.Advance(10 * time.Minute)
		problemOf(t, w.callback(back, state), http.StatusUnauthorized)
	})
	t.Run("provider error", func(t *testing.T) {
		_, state := w.start("acme.example.test")
		back, err := url.Parse("https://acme.example.test/auth/oidc/corp/callback?error=access_denied&state=x")
		require.NoError(t, err)
		problemOf(t, w.callback(back, state), http.StatusUnauthorized)
	})
	t.Run("unknown provider", func(t *testing.T) {
		problemOf(t, w.serve(call{method: http.MethodGet, path: "/auth/oidc/nope/start"}), http.StatusNotFound)
	})
}

// Guards oidc.go linkIdentity's `if !id.EmailVerified` refusal: an
// identity whose e-mail the issuer did not verify is not linked to the
// account holding that e-mail, and nothing is written.
func TestOIDCUnverifiedEmailDoesNotLink(t *testing.T) {
	t.Parallel()
	w := newOIDCWorld(t)
	users := w.countRows("users")
	authURL, state := w.start("acme.example.test")
	problemOf(t, w.callback(w.iss.Authorize(t, authURL.String(), "sub-not-tom"), state), http.StatusUnauthorized)
	_, err := w.identity("sub-not-tom")
	require.ErrorIs(t, err, ports.ErrNotFound, "no identity row")
	assert.Equal(t, users, w.countRows("users"), "no user created")
	assert.Equal(t, 0, w.countRows("sessions"))
}

// email_verified sent as the string "true" (as Google has) still counts as
// verified, and the e-mail is matched case-insensitively.
func TestOIDCVerifiedAsStringLinks(t *testing.T) {
	t.Parallel()
	w := newOIDCWorld(t)
	authURL, state := w.start("acme.example.test")
	res := w.callback(w.iss.Authorize(t, authURL.String(), "sub-quirky"), state)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	id, err := w.identity("sub-quirky")
	require.NoError(t, err)
	assert.Equal(t, w.ann.ID, id.UserID)
}
