package httpapi

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// shopCacheTTL bounds how long a shop read from the directory is reused:
// a suspension takes effect on every instance within this time.
const shopCacheTTL = 30 * time.Second

// shopCacheMax bounds the cache; when full it is emptied.
const shopCacheMax = 10000

// HostShops resolves the shop a request is for from its Host header
// (TEN-7): "{slug}.{base host}" names the shop with that slug. The base
// is the host of the public URL; "localhost" works for development
// ("acme.localhost:8080"). Shops are cached briefly.
type HostShops struct {
	store  ports.Store
	public *url.URL
	base   string // lower-case host of public, without port
	clock  ports.Clock

	mu    sync.Mutex
	cache map[string]cachedShop
}

type cachedShop struct {
	shop ports.Shop
	at   time.Time
}

// NewHostShops returns a resolver for shops under public, an absolute
// http or https URL with no path, e.g. "https://example.com" or
// "http://localhost:8080". ErrInvalid otherwise.
func NewHostShops(store ports.Store, public string, clock ports.Clock) (*HostShops, error) {
	u, err := url.Parse(public)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, ports.Invalid("public url", "must be an absolute http(s) URL without path, e.g. https://example.com")
	}
	if clock == nil {
		clock = ports.SystemClock{}
	}
	return &HostShops{store: store, public: u, base: strings.ToLower(u.Hostname()), clock: clock, cache: map[string]cachedShop{}}, nil
}

// Slug returns the shop slug named by host, or "" when host is not a
// shop's host (the base host itself, another domain, nested subdomains).
func (h *HostShops) Slug(host string) string {
	if hn, _, err := net.SplitHostPort(host); err == nil {
		host = hn
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	slug, ok := strings.CutSuffix(host, "."+h.base)
	if !ok || slug == "" || strings.Contains(slug, ".") || ports.ValidateSlug(slug) != nil {
		return ""
	}
	return slug
}

// IsPublicHost reports whether host (a Host header, port ignored) is the
// public URL's own host: the platform's host, which names no shop.
func (h *HostShops) IsPublicHost(host string) bool {
	if hn, _, err := net.SplitHostPort(host); err == nil {
		host = hn
	}
	return strings.TrimSuffix(strings.ToLower(host), ".") == h.base
}

// PublicURL returns the absolute URL of path on the platform's own host.
func (h *HostShops) PublicURL(path string) string {
	return (&url.URL{Scheme: h.public.Scheme, Host: h.public.Host, Path: path}).String()
}

// Shop returns the shop whose host is host. ErrNotFound when host names
// no shop.
func (h *HostShops) Shop(ctx context.Context, host string) (ports.Shop, error) {
	slug := h.Slug(host)
	if slug == "" {
		return ports.Shop{}, fmt.Errorf("no shop at this host: %w", ports.ErrNotFound)
	}
	now := h.clock.Now()
	h.mu.Lock()
	c, ok := h.cache[slug]
	h.mu.Unlock()
	if ok && now.Sub(c.at) < shopCacheTTL {
		return c.shop, nil
	}
	var shop ports.Shop
	err := h.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		shop, err = tx.Shops().GetBySlug(ctx, slug)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return ports.Shop{}, fmt.Errorf("shop %q: %w", slug, err)
	}
	h.mu.Lock()
	if len(h.cache) >= shopCacheMax {
		clear(h.cache)
	}
	h.cache[slug] = cachedShop{shop: shop, at: now}
	h.mu.Unlock()
	return shop, nil
}

// TokenLink is the LinkPrefix of a mailed link: the absolute URL of path
// on shop's host (slug) or, with slug empty, on the platform's own host,
// with an empty token parameter the use case appends its token to
// ("https://acme.example.com/invitation?token=").
func (h *HostShops) TokenLink(slug, path string) string {
	if slug == "" {
		return h.PublicURL(path) + "?token="
	}
	return h.URL(slug, path) + "?token="
}

// URL returns the absolute URL of path on shop's host, built from the
// configured public URL and never from a request's Host header.
func (h *HostShops) URL(slug, path string) string {
	host := slug + "." + h.public.Host
	return (&url.URL{Scheme: h.public.Scheme, Host: host, Path: path}).String()
}

// Forget drops slug from the cache, so a status or name change made by
// this process shows at once (other processes see it within the cache's
// 30 seconds).
func (h *HostShops) Forget(slug string) {
	h.mu.Lock()
	delete(h.cache, slug)
	h.mu.Unlock()
}
