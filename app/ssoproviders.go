package app

import (
	"context"
	"crypto/sha256"
	"net/http"
	"sync"
	"time"

	"github.com/stockadehq/stockade/adapters/oidc"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// Limits of the SSO provider cache (SSOProviders).
const (
	// SSOProviderTTL is how long a built provider (its discovery document,
	// and through it the issuer's signing keys, which go-oidc refreshes on
	// an unknown key ID) is reused before it is discovered again.
	SSOProviderTTL = time.Hour
	// maxSSOProviders bounds the cache; when full, expired entries go
	// first, then everything (the next sign-ins discover again).
	maxSSOProviders = 1024
)

// SSOProviders builds an org single sign-on connection's identity provider
// with adapters/oidc (discovery within ctx), making every request to the
// issuer through client (nil: oidc's default client with a timeout).
//
// Providers are cached for SSOProviderTTL by issuer, client ID and a hash
// of the client secret, so a sign-in does not fetch the issuer's discovery
// document and keys on every start and callback; a changed connection
// (another issuer, client or secret) builds a new one at once. A failed
// build is not cached. The cache is safe for concurrent use.
func SSOProviders(client *http.Client) auth.SSOProviderFunc {
	c := &ssoCache{client: client, now: time.Now, entries: map[ssoKey]ssoEntry{}}
	return c.provider
}

type ssoKey struct {
	issuer, clientID, name string
	secret                 [sha256.Size]byte
}

type ssoEntry struct {
	p       ports.IdentityProvider
	expires time.Time
}

type ssoCache struct {
	client  *http.Client
	now     func() time.Time
	mu      sync.Mutex
	entries map[ssoKey]ssoEntry
}

func (c *ssoCache) provider(ctx context.Context, sc auth.SSOClient) (ports.IdentityProvider, error) {
	key := ssoKey{issuer: sc.Issuer, clientID: sc.ClientID, name: sc.Name, secret: sha256.Sum256([]byte(sc.ClientSecret))}
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.p, nil
	}
	p, err := oidc.New(ctx, oidc.Config{Name: sc.Name, Issuer: sc.Issuer, ClientID: sc.ClientID, ClientSecret: sc.ClientSecret, HTTPClient: c.client})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxSSOProviders {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxSSOProviders {
			clear(c.entries)
		}
	}
	c.entries[key] = ssoEntry{p: p, expires: now.Add(SSOProviderTTL)}
	return p, nil
}
