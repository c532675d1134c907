package oidctest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/internal/oidctest"
)

// The adapter's tests drive the happy path and the faults; these pin the
// protocol checks a well-behaved client never trips.

const (
	redirect = "https://app.example/cb"
	verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 appendix B
)

func challenge() string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func authURL(iss *oidctest.Issuer, change func(url.Values)) string {
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {iss.ClientID()},
		"redirect_uri":          {redirect},
		"scope":                 {"openid email"},
		"state":                 {"st"},
		"nonce":                 {"nn"},
		"code_challenge":        {challenge()},
		"code_challenge_method": {"S256"},
	}
	if change != nil {
		change(q)
	}
	return iss.URL() + "/authorize?" + q.Encode()
}

// postToken sends form to the token endpoint and decodes the JSON answer.
func postToken(t *testing.T, iss *oidctest.Issuer, form url.Values, basic bool) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, iss.URL()+"/token", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(iss.ClientID()), url.QueryEscape(iss.ClientSecret()))
	}
	resp, err := iss.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

func codeFor(t *testing.T, iss *oidctest.Issuer) string {
	t.Helper()
	back := iss.Authorize(t, authURL(iss, nil), "u")
	require.Equal(t, "st", back.Query().Get("state"))
	require.Equal(t, iss.URL(), back.Query().Get("iss"))
	return back.Query().Get("code")
}

func tokenForm(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier}}
}

func TestDiscovery(t *testing.T) {
	iss := oidctest.New(t)
	resp, err := iss.Client().Get(iss.URL() + "/.well-known/openid-configuration")
	require.NoError(t, err)
	defer resp.Body.Close()
	var doc map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&doc))
	assert.Equal(t, iss.URL(), doc["issuer"])
	assert.Equal(t, iss.URL()+"/jwks", doc["jwks_uri"])
	assert.Equal(t, []any{"S256"}, doc["code_challenge_methods_supported"])
}

func TestClientAuthentication(t *testing.T) {
	tests := []struct {
		name       string
		give       func(iss *oidctest.Issuer, form url.Values) (basic bool)
		wantStatus int
	}{
		{"client_secret_basic", func(*oidctest.Issuer, url.Values) bool { return true }, http.StatusOK},
		{"client_secret_post", func(iss *oidctest.Issuer, f url.Values) bool {
			f.Set("client_id", iss.ClientID())
			f.Set("client_secret", iss.ClientSecret())
			return false
		}, http.StatusOK},
		{"wrong secret", func(iss *oidctest.Issuer, f url.Values) bool {
			f.Set("client_id", iss.ClientID())
			f.Set("client_secret", "guess")
			return false
		}, http.StatusUnauthorized},
		{"no credentials", func(*oidctest.Issuer, url.Values) bool { return false }, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := oidctest.New(t)
			iss.AddUser(oidctest.User{Subject: "u"})
			form := tokenForm(codeFor(t, iss))
			basic := tt.give(iss, form)

			status, body := postToken(t, iss, form, basic)
			assert.Equal(t, tt.wantStatus, status, "%v", body)
			if tt.wantStatus == http.StatusOK {
				assert.NotEmpty(t, body["id_token"])
			} else {
				assert.Equal(t, "invalid_client", body["error"])
			}
		})
	}
}

func TestTokenRefusals(t *testing.T) {
	tests := []struct {
		name string
		give func(f url.Values)
	}{
		{"redirect_uri differs", func(f url.Values) { f.Set("redirect_uri", redirect+"/other") }},
		{"no verifier", func(f url.Values) { f.Del("code_verifier") }},
		{"wrong verifier", func(f url.Values) { f.Set("code_verifier", strings.Repeat("a", 43)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := oidctest.New(t)
			iss.AddUser(oidctest.User{Subject: "u"})
			code := codeFor(t, iss)
			form := tokenForm(code)
			tt.give(form)

			status, body := postToken(t, iss, form, true)
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Equal(t, "invalid_grant", body["error"])

			status, body = postToken(t, iss, tokenForm(code), true)
			assert.Equal(t, http.StatusBadRequest, status, "a code is spent by a failed redemption too")
			assert.Equal(t, "invalid_grant", body["error"])
		})
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	tests := []struct {
		name string
		give func(q url.Values)
		want string
	}{
		{"plain challenge method", func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"no challenge", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, "invalid_request"},
		{"no openid scope", func(q url.Values) { q.Set("scope", "email") }, "invalid_scope"},
		{"implicit flow", func(q url.Values) { q.Set("response_type", "id_token") }, "unsupported_response_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := oidctest.New(t)
			iss.AddUser(oidctest.User{Subject: "u"})

			back := iss.Authorize(t, authURL(iss, tt.give), "u")
			assert.Equal(t, tt.want, back.Query().Get("error"))
			assert.Equal(t, "st", back.Query().Get("state"))
			assert.Empty(t, back.Query().Get("code"))
		})
	}
}

// TestAuthorizeUnknownClient: with an unknown client or redirect URI the
// issuer must not redirect anywhere (RFC 6749 section 4.1.2.1).
func TestAuthorizeUnknownClient(t *testing.T) {
	iss := oidctest.New(t)
	iss.AddUser(oidctest.User{Subject: "u"})
	client := *iss.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	for _, change := range []func(url.Values){
		func(q url.Values) { q.Set("client_id", "someone-else") },
		func(q url.Values) { q.Set("redirect_uri", "/relative") },
	} {
		u := authURL(iss, change) + "&login_hint=u"
		resp, err := client.Get(u)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, u)
	}
}
