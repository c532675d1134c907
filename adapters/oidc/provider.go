// Package oidc signs people in with an OpenID Connect issuer (AUTH-5): the
// authorization code flow with PKCE S256, state and nonce, and a verified ID
// token. [Provider] implements [ports.IdentityProvider] over
// golang.org/x/oauth2 and github.com/coreos/go-oidc/v3.
//
// The caller owns the per-attempt secrets: it generates
// [ports.AuthRequest]'s state, nonce and verifier, keeps them between the
// redirect and the callback, and compares the returned state itself. This
// package checks the nonce and the verifier's challenge by way of the issuer.
package oidc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/stockadehq/stockade/ports"
)

// GoogleIssuer is Google's OpenID Connect issuer identifier.
const GoogleIssuer = "https://accounts.google.com"

// defaultTimeout bounds each request to the issuer when Config.HTTPClient is
// nil; a sign-in should not hang on a provider that stopped answering.
const defaultTimeout = 10 * time.Second

// Config configures one issuer.
type Config struct {
	// Name is the provider's name in URLs and logs, e.g. "google". Required.
	Name string
	// Issuer is the issuer identifier, exactly as its discovery document and
	// ID tokens spell it: an https URL (http only for a loopback host), with
	// no query or fragment. Required.
	Issuer string
	// ClientID and ClientSecret are this application's registration at the
	// issuer. Both required.
	ClientID     string
	ClientSecret string
	// Scopes requested; nil means openid, email and profile. openid is added
	// when missing.
	Scopes []string
	// HTTPClient makes every request to the issuer (discovery, JWKS, token).
	// Nil means a client with a 10-second timeout.
	HTTPClient *http.Client
}

// GoogleConfig returns the Config for Google with the given registration.
func GoogleConfig(clientID, clientSecret string) Config {
	return Config{Name: "google", Issuer: GoogleIssuer, ClientID: clientID, ClientSecret: clientSecret}
}

// Provider is one configured issuer. It is safe for concurrent use.
type Provider struct {
	name     string
	issuer   string
	client   *http.Client
	endpoint oauth2.Endpoint
	clientID string
	secret   string
	scopes   []string
	verifier *gooidc.IDTokenVerifier
}

var _ ports.IdentityProvider = (*Provider)(nil)

// New validates cfg and fetches the issuer's discovery document. It returns
// an error matching ports.ErrInvalid for a bad Config or an issuer whose
// discovery document names another issuer, lacks an endpoint, or offers no
// client-secret authentication, and ports.ErrUnavailable when the document cannot be
// fetched or read. ctx bounds the discovery request only.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	if err := validate(cfg); err != nil {
		return nil, fmt.Errorf("oidc: new: %w", err)
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: defaultTimeout}
	}
	scopes := cfg.Scopes
	if scopes == nil {
		scopes = []string{gooidc.ScopeOpenID, "email", "profile"}
	}
	if !slices.Contains(scopes, gooidc.ScopeOpenID) {
		scopes = append([]string{gooidc.ScopeOpenID}, scopes...)
	}

	provider, err := gooidc.NewProvider(gooidc.ClientContext(ctx, client), cfg.Issuer)
	if err != nil {
		var mismatch *gooidc.IssuerMismatchError
		if errors.As(err, &mismatch) {
			return nil, fmt.Errorf("oidc: new %s: %w", cfg.Name,
				ports.Invalid("issuer", fmt.Sprintf("the discovery document names issuer %q", mismatch.Discovered)))
		}
		return nil, fmt.Errorf("oidc: new %s: discovery: %v: %w", cfg.Name, err, ports.ErrUnavailable)
	}
	var meta discovered
	if err := provider.Claims(&meta); err != nil {
		return nil, fmt.Errorf("oidc: new %s: discovery document: %v: %w", cfg.Name, err, ports.ErrUnavailable)
	}
	endpoint := provider.Endpoint()
	if endpoint.AuthURL == "" || endpoint.TokenURL == "" || meta.JWKSURL == "" {
		return nil, fmt.Errorf("oidc: new %s: %w", cfg.Name,
			ports.Invalid("issuer", "the discovery document lacks authorization_endpoint, token_endpoint or jwks_uri"))
	}
	endpoint.AuthStyle, err = meta.authStyle()
	if err != nil {
		return nil, fmt.Errorf("oidc: new %s: %w", cfg.Name, err)
	}
	return &Provider{
		name:     cfg.Name,
		issuer:   cfg.Issuer,
		client:   client,
		endpoint: endpoint,
		clientID: cfg.ClientID,
		secret:   cfg.ClientSecret,
		scopes:   slices.Clone(scopes),
		verifier: meta.verifier(client, cfg.Issuer, cfg.ClientID),
	}, nil
}

// Google is New with GoogleConfig.
func Google(ctx context.Context, clientID, clientSecret string) (*Provider, error) {
	return New(ctx, GoogleConfig(clientID, clientSecret))
}

// validate checks cfg without touching the network.
func validate(cfg Config) error {
	switch {
	case cfg.Name == "":
		return ports.Invalid("name", "required")
	case cfg.ClientID == "":
		return ports.Invalid("client_id", "required")
	case cfg.ClientSecret == "":
		return ports.Invalid("client_secret", "required")
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return ports.Invalid("issuer", "must be an absolute URL without user info, query or fragment")
	}
	if u.Scheme != "https" && (u.Scheme != "http" || !loopback(u.Hostname())) {
		return ports.Invalid("issuer", "must use https (http only for a loopback host)")
	}
	return nil
}

// loopback reports whether host names this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// discovered is what Provider reads from the discovery document beyond
// what go-oidc exposes.
type discovered struct {
	JWKSURL     string   `json:"jwks_uri"`
	Algorithms  []string `json:"id_token_signing_alg_values_supported"`
	AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
}

// authStyle picks how the client authenticates at the token endpoint, so
// that a code is never spent on a probe: client_secret_basic when offered
// (or when the list is absent, as basic is the default), else
// client_secret_post.
func (d discovered) authStyle() (oauth2.AuthStyle, error) {
	switch {
	case len(d.AuthMethods) == 0 || slices.Contains(d.AuthMethods, "client_secret_basic"):
		return oauth2.AuthStyleInHeader, nil
	case slices.Contains(d.AuthMethods, "client_secret_post"):
		return oauth2.AuthStyleInParams, nil
	}
	return 0, ports.Invalid("issuer", "offers neither client_secret_basic nor client_secret_post")
}

// Name returns the configured name.
func (p *Provider) Name() string { return p.name }

// AuthURL returns the issuer's authorization URL for req: response_type
// code, the scopes, state, nonce, and the S256 challenge of req.Verifier.
// It does not check req; Exchange does.
func (p *Provider) AuthURL(req ports.AuthRequest, redirectURL string) string {
	return p.oauth(redirectURL).AuthCodeURL(req.State,
		oauth2.S256ChallengeOption(req.Verifier),
		gooidc.Nonce(req.Nonce),
	)
}

// oauth returns the OAuth 2.0 client configuration for one redirect URL.
func (p *Provider) oauth(redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     p.clientID,
		ClientSecret: p.secret,
		Endpoint:     p.endpoint,
		RedirectURL:  redirectURL,
		Scopes:       p.scopes,
	}
}
