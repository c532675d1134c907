package oidctest

import (
	"bytes"
	"crypto/rand"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// authorize is the authorization endpoint (OpenID Connect Core 1.0, section
// 3.1.2). It signs in the user named by the login_hint parameter; a request
// without one gets the login page (see loginPage), whose form comes back
// here with the same parameters and login_hint. Errors about the client or its redirect URI are
// answered with 400 and no redirect, as RFC 6749 section 4.1.2.1 requires;
// other request errors are sent back to the redirect URI with state.
func (i *Issuer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != i.clientID {
		http.Error(w, "oidctest: unknown client_id", http.StatusBadRequest)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || !redirect.IsAbs() || redirect.Fragment != "" {
		http.Error(w, "oidctest: redirect_uri must be an absolute URL without a fragment", http.StatusBadRequest)
		return
	}
	fail := func(code, description string) {
		back := redirectWith(redirect, url.Values{
			"error":             {code},
			"error_description": {description},
			"state":             {q.Get("state")},
		})
		http.Redirect(w, r, back, http.StatusFound)
	}
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "only the authorization code flow is offered")
		return
	case !slices.Contains(strings.Fields(q.Get("scope")), "openid"):
		fail("invalid_scope", "the openid scope is required")
		return
	case q.Get("code_challenge_method") != "S256":
		fail("invalid_request", "code_challenge_method must be S256")
		return
	case !validChallenge(q.Get("code_challenge")):
		fail("invalid_request", "code_challenge must be 43 base64url characters")
		return
	}
	if !q.Has("login_hint") {
		loginPage(w, q)
		return
	}
	sub := q.Get("login_hint")
	i.mu.Lock()
	_, known := i.users[sub]
	code := rand.Text()
	if known {
		i.codes[code] = grant{
			clientID:    i.clientID,
			redirectURI: redirect.String(),
			challenge:   q.Get("code_challenge"),
			nonce:       q.Get("nonce"),
			subject:     sub,
			expires:     time.Now().Add(codeLifetime),
		}
	}
	i.mu.Unlock()
	if !known {
		http.Error(w, "oidctest: no user with subject "+sub, http.StatusBadRequest)
		return
	}
	back := url.Values{"code": {code}, "iss": {i.URL()}}
	if state := q.Get("state"); state != "" {
		back.Set("state", state)
	}
	http.Redirect(w, r, redirectWith(redirect, back), http.StatusFound)
}

// loginTemplate is the login page: a GET form back to /authorize carrying
// the request's parameters, and a field for the user's subject.
var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>oidctest sign-in</title></head>
<body><h1>oidctest sign-in</h1>
<form method="get" action="/authorize">
{{range $k, $vs := .}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">
{{end}}{{end}}<label for="login_hint">Subject</label>
<input id="login_hint" name="login_hint" required>
<button id="login" type="submit">Sign in</button>
</form></body></html>
`))

// loginPage answers the login page for the authorization request q, as an
// IdP does for a browser that is not signed in there.
func loginPage(w http.ResponseWriter, q url.Values) {
	var b bytes.Buffer
	if err := loginTemplate.Execute(&b, q); err != nil {
		http.Error(w, "oidctest: render login page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b.Bytes())
}

// redirectWith returns base with params added to whatever query it already
// has.
func redirectWith(base *url.URL, params url.Values) string {
	u := *base
	q := u.Query()
	for k, vs := range params {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// validChallenge reports whether c looks like an S256 challenge: the
// unpadded base64url encoding of 32 bytes.
func validChallenge(c string) bool {
	return len(c) == 43 && strings.Trim(c, base64URLAlphabet) == ""
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// Authorize plays the browser: it sends the user with subject sub to
// authURL (a URL on this issuer's authorization endpoint, as built by the
// code under test), and returns the URL the issuer redirected back to,
// without following it. On success that URL carries code and state; for a
// refused request it carries error and state. Authorize fails t when
// authURL is not this issuer's, when sub is not a registered user, or when
// the issuer answers without a redirect.
func (i *Issuer) Authorize(t testing.TB, authURL, sub string) *url.URL {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatalf("oidctest: parse auth URL: %v", err)
	}
	if u.Scheme+"://"+u.Host != i.URL() || u.Path != "/authorize" {
		t.Fatalf("oidctest: auth URL %s is not this issuer's authorization endpoint %s/authorize", authURL, i.URL())
	}
	q := u.Query()
	q.Set("login_hint", sub)
	u.RawQuery = q.Encode()

	client := *i.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u.String(), nil)
	if err != nil {
		t.Fatalf("oidctest: build authorize request: %v", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("oidctest: authorize: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		t.Fatalf("oidctest: authorize answered %s, not a redirect: %s", resp.Status, body)
	}
	back, err := resp.Location()
	if err != nil {
		t.Fatalf("oidctest: authorize redirect: %v", err)
	}
	return back
}
