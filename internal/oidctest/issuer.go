// Package oidctest runs a real OpenID Connect issuer in-process, on an
// httptest TLS server, for tests of code that signs people in with OIDC.
//
// The issuer speaks the authorization code flow for real: a discovery
// document, a JWKS with a key generated at start, an /authorize endpoint and a
// /token endpoint that checks the client's credentials, the redirect URI and
// the PKCE (S256) verifier, accepts each code once, and returns an ID token
// signed with ES256. The test names the user who "signs in" (see
// [Issuer.Authorize]); a browser that comes without a login_hint gets a
// minimal login page asking for the user's subject.
//
// Tests can also make it misbehave the way a broken or hostile issuer would
// (see [Faults]).
//
// The package imports nothing from this module, and is meant for _test.go
// files only.
package oidctest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Lifetimes of what the issuer hands out.
const (
	codeLifetime  = 5 * time.Minute
	tokenLifetime = time.Hour
)

// User is an account at the issuer. The zero value of each optional field
// leaves its claim out of the ID token.
type User struct {
	Subject       string // the sub claim; required
	Email         string // the email claim
	EmailVerified bool   // the email_verified claim
	// EmailVerifiedAsString sends email_verified as the JSON string "true"
	// or "false" instead of a boolean, as Google has been seen to do.
	EmailVerifiedAsString bool
	Name                  string // the name claim
	// AMR is the amr claim: the authentication methods the user "used"
	// (RFC 8176 values such as "pwd", "otp", "hwk", "mfa").
	AMR []string
}

// Faults make the issuer misbehave. Each set field changes every token
// response issued after [Issuer.SetFaults], until the faults are changed
// again.
type Faults struct {
	ForeignKey    bool // sign the ID token with a key that is not in the JWKS (same key ID)
	WrongAudience bool // aud names another client
	Expired       bool // exp lies an hour in the past
	WrongIssuer   bool // iss names another issuer
	NoIDToken     bool // the token response carries no id_token
	// JWKSDown makes the JWKS endpoint drop the connection without an
	// answer, as an unreachable issuer would.
	JWKSDown bool
}

// grant is an issued, not yet redeemed authorization code.
type grant struct {
	clientID    string
	redirectURI string
	challenge   string // S256 code challenge
	nonce       string
	subject     string
	expires     time.Time
}

// Issuer is a running OpenID Connect issuer. Its methods are safe for
// concurrent use. It is stopped when the test that made it ends.
type Issuer struct {
	srv          *httptest.Server
	clientID     string
	clientSecret string
	keyID        string
	key          *ecdsa.PrivateKey // in the JWKS
	foreignKey   *ecdsa.PrivateKey // never published

	mu     sync.Mutex
	users  map[string]User  // by subject
	codes  map[string]grant // by code
	faults Faults
}

// New starts an issuer with one registered confidential client and no users,
// and stops it when t ends.
func New(t testing.TB) *Issuer {
	t.Helper()
	return start(t, httptest.NewTLSServer)
}

// NewHTTP is New on plain HTTP (http://127.0.0.1:port): for a real browser,
// which would refuse the TLS server's self-signed certificate, and for code
// under test that uses its own HTTP client. Issuers accept http only for a
// loopback host, which this is.
func NewHTTP(t testing.TB) *Issuer {
	t.Helper()
	return start(t, httptest.NewServer)
}

// start starts an issuer on the server serve makes.
func start(t testing.TB, serve func(http.Handler) *httptest.Server) *Issuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("oidctest: generate signing key: %v", err)
	}
	foreign, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("oidctest: generate foreign key: %v", err)
	}
	i := &Issuer{
		clientID:     "client-" + rand.Text(),
		clientSecret: rand.Text(),
		keyID:        "key-" + rand.Text(),
		key:          key,
		foreignKey:   foreign,
		users:        map[string]User{},
		codes:        map[string]grant{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", i.discovery)
	mux.HandleFunc("GET /jwks", i.jwks)
	mux.HandleFunc("GET /authorize", i.authorize)
	mux.HandleFunc("POST /token", i.token)
	i.srv = serve(mux)
	t.Cleanup(i.srv.Close)
	return i
}

// URL is the issuer identifier: the https (NewHTTP: http) base URL the discovery document
// names as issuer and every honest ID token carries in iss.
func (i *Issuer) URL() string { return i.srv.URL }

// ClientID is the registered client's ID; tokens are issued to it.
func (i *Issuer) ClientID() string { return i.clientID }

// ClientSecret is the registered client's secret, random per issuer.
func (i *Issuer) ClientSecret() string { return i.clientSecret }

// Client returns an HTTP client that trusts the issuer's TLS certificate
// (for NewHTTP, a plain client).
// Give it to the code under test.
func (i *Issuer) Client() *http.Client { return i.srv.Client() }

// Close stops the issuer now, so that later requests find nothing listening.
// Calling it more than once is harmless.
func (i *Issuer) Close() { i.srv.Close() }

// AddUser registers u, replacing a user with the same subject.
func (i *Issuer) AddUser(u User) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.users[u.Subject] = u
}

// SetFaults replaces the issuer's faults; the zero Faults restores honest
// behaviour.
func (i *Issuer) SetFaults(f Faults) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.faults = f
}

func (i *Issuer) currentFaults() Faults {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.faults
}

// discovery serves the OpenID Provider metadata (OpenID Connect Discovery
// 1.0, section 3).
func (i *Issuer) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                i.URL(),
		"authorization_endpoint":                i.URL() + "/authorize",
		"token_endpoint":                        i.URL() + "/token",
		"jwks_uri":                              i.URL() + "/jwks",
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{string(jose.ES256)},
		"scopes_supported":                      []string{"openid", "email", "profile"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_supported":                      []string{"iss", "sub", "aud", "exp", "iat", "nonce", "email", "email_verified", "name"},
	})
}

// jwks serves the public half of the signing key; never the foreign key.
func (i *Issuer) jwks(w http.ResponseWriter, _ *http.Request) {
	if i.currentFaults().JWKSDown {
		panic(http.ErrAbortHandler) // the server drops the connection unanswered
	}
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key:       &i.key.PublicKey,
		KeyID:     i.keyID,
		Algorithm: string(jose.ES256),
		Use:       "sig",
	}}})
}

// writeJSON sends v as a JSON body that no cache may keep.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, fmt.Sprintf("oidctest: encode response: %v", err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
