package stockadetest

import (
	"context"
	"crypto/rand"
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
	"github.com/stockadehq/stockade/ports"
)

// UserCreator creates a user who signs in with a password;
// *auth.Service (app.Embedded.Auth) is one.
type UserCreator interface {
	CreateUser(ctx context.Context, email, name, password string) (ports.User, error)
}

// Site is a running Stockade HTTP API for a test: requests are served
// in-process by Handler (no network), on the hosts PublicURL implies.
type Site struct {
	// Handler is the API, e.g. app.Embedded.API.
	Handler http.Handler
	// PublicURL is the configured public URL (app.Config's
	// HTTP.PublicURL); a shop's host is its slug + "." + this URL's host.
	PublicURL string
	// Store seeds memberships; Users creates users with passwords.
	Store ports.Store
	Users UserCreator
}

// Host returns shop's host name on s.
func (s Site) Host(shop Shop) string {
	u, err := url.Parse(s.PublicURL)
	if err != nil || u.Host == "" {
		panic(fmt.Sprintf("stockadetest: Site.PublicURL %q is not an absolute URL", s.PublicURL)) // a test's setup error
	}
	return shop.Slug + "." + u.Host
}

// Client is one browser on one host: an anonymous one, or a member
// signed in with a session cookie (see Site.SignIn).
type Client struct {
	Site   Site
	Host   string
	Cookie *http.Cookie // nil: anonymous
	User   ports.UserID
	Role   ports.Role
}

// Anonymous returns a client without a session on shop's host.
func (s Site) Anonymous(shop Shop) Client { return Client{Site: s, Host: s.Host(shop)} }

// SignIn creates a user with a random password through s.Users, makes
// them a member of shop with role through s.Store, and signs them in over
// HTTP (POST /auth/signin on the shop's host). Any failure fails the test.
func (s Site) SignIn(t testing.TB, shop Shop, role ports.Role) Client {
	t.Helper()
	email := "m-" + strings.ToLower(rand.Text()) + "@example.com"
	password := rand.Text() + "-Aa1!"
	u, err := s.Users.CreateUser(t.Context(), email, "Member "+string(role), password)
	require.NoError(t, err, "stockadetest: create user")
	err = s.Store.InShop(t.Context(), shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Memberships().Add(ctx, u.ID, role)
		return err
	})
	require.NoError(t, err, "stockadetest: add %s member", role)
	c := Client{Site: s, Host: s.Host(shop), User: u.ID, Role: role}
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	res, text := c.Do(t, http.MethodPost, "/auth/signin", string(body))
	require.Equal(t, http.StatusOK, res.StatusCode, "stockadetest: sign-in on %s: %s", c.Host, text)
	for _, ck := range res.Cookies() {
		if ck.Value != "" && ck.MaxAge >= 0 {
			c.Cookie = ck
		}
	}
	require.NotNil(t, c.Cookie, "stockadetest: sign-in set no session cookie")
	return c
}

// On returns c's browser pointed at another host, keeping its cookie:
// what an attacker holding a session of one shop does on another's host.
func (c Client) On(host string) Client { c.Host = host; return c }

// Do sends method path (with a JSON body unless body is empty) on c's
// host with c's cookie, as a same-origin browser request, and returns the
// answer and its body.
func (c Client) Do(t testing.TB, method, path, body string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequestWithContext(t.Context(), method, path, rd)
	req.Host = c.Host
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Cookie != nil {
		req.AddCookie(c.Cookie)
	}
	rec := httptest.NewRecorder()
	c.Site.Handler.ServeHTTP(rec, req)
	return rec.Result(), rec.Body.String()
}

// Scenario is one row of an HTTP scenario table: As sends Method Path
// with Body, and the answer must have Status and, when set, contain
// BodyContains.
type Scenario struct {
	Name         string
	As           Client
	Method, Path string
	Body         string
	Status       int
	BodyContains string
}

// RunScenarios runs each scenario as a subtest.
func RunScenarios(t *testing.T, scenarios []Scenario) {
	t.Helper()
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			res, body := sc.As.Do(t, sc.Method, sc.Path, sc.Body)
			require.Equal(t, sc.Status, res.StatusCode, "%s %s: %s", sc.Method, sc.Path, body)
			if sc.BodyContains != "" {
				require.Contains(t, body, sc.BodyContains)
			}
		})
	}
}

// AttackMatrix attacks every session route of routes that keep says to
// (nil: all) across the tenant boundary: attacker, a member of another
// shop signed in on their own host, sends each route's request with its
// own cookie on the victim's host, and anonymous sends it with no cookie
// there. Every answer must be 401: neither caller holds a session of the
// victim's shop, so Stockade's session check refuses the request before
// any handler runs. A 403 or 404 is not accepted: a handler served
// without the guard answers 404 for the matrix's made-up IDs, and that
// must fail. Path parameters are filled with a fresh UUID; an HQ copy
// ({hq_shop}) gets the victim's slug. Each failing route is reported with
// t.Errorf, naming it.
func AttackMatrix(t testing.TB, routes []httpapi.Route, attacker, victim Client, keep func(httpapi.Route) bool) {
	t.Helper()
	n := 0
	for _, r := range routes {
		if r.Access != httpapi.AccessSession || (keep != nil && !keep(r)) {
			continue
		}
		n++
		path := fillPath(r.Path, victim.Host)
		for who, c := range map[string]Client{"another shop's member": attacker.On(victim.Host), "an anonymous caller": {Site: victim.Site, Host: victim.Host}} {
			res, body := c.Do(t, r.Method, path, "{}")
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("stockadetest: attack matrix: %s %s by %s on %s answered %d, want 401 (refused before any handler runs): %s",
					r.Method, r.Path, who, victim.Host, res.StatusCode, body)
			}
		}
	}
	if n == 0 {
		t.Errorf("stockadetest: attack matrix: no session route to attack")
	}
}

// fillPath replaces each {param} of path with a fresh UUID, and
// {hq_shop} with the slug of host.
func fillPath(path, host string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(path, '{')
		j := strings.IndexByte(path, '}')
		if i < 0 || j < i {
			b.WriteString(path)
			return b.String()
		}
		b.WriteString(path[:i])
		name := strings.TrimSuffix(path[i+1:j], "...")
		if name == "hq_shop" {
			slug, _, _ := strings.Cut(host, ".")
			b.WriteString(slug)
		} else {
			b.WriteString(ports.NewUserID().String())
		}
		path = path[j+1:]
	}
}
