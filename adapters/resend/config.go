// Package resend sends e-mail through Resend and verifies Resend's
// webhooks: sending on Resend's official SDK
// (github.com/resend/resend-go/v3), webhook signatures with the Svix
// library (github.com/svix/svix-webhooks), which is what signs them.
//
// Every message carries its idempotency key in Resend's Idempotency-Key
// header: Resend answers a retry within 24 hours with the first send's ID
// instead of sending again.
package resend

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/stockadehq/stockade/ports"
)

// Config authenticates to Resend.
type Config struct {
	// APIKey (re_…) authenticates; a sending-access key is enough.
	APIKey Secret
	// BaseURL is the API's root; default https://api.resend.com/. The
	// SDK's RESEND_BASE_URL environment variable is never used.
	BaseURL string
	// Timeout bounds one API call; default 10s.
	Timeout time.Duration
	// HTTPClient carries the calls; nil is a client with Timeout. Its
	// Transport is used as is.
	HTTPClient *http.Client
	// Logger receives one debug line per message (its ID, never the
	// body or recipient) and one warning per failure; nil logs nothing.
	Logger *zap.Logger
}

// Defaults.
const (
	DefaultBaseURL = "https://api.resend.com/"
	DefaultTimeout = 10 * time.Second
)

// Secret is a credential. It prints, logs and marshals as "[redacted]";
// Reveal returns the value for the client that needs it.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret itself.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString redacts for %#v.
func (s Secret) GoString() string { return s.String() }

// MarshalText redacts in JSON and other text encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// withDefaults checks c. Errors match ports.ErrInvalid and never contain
// the key.
func (c Config) withDefaults() (Config, error) {
	k := c.APIKey.Reveal()
	if k == "" || strings.ContainsFunc(k, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return c, ports.Invalid("resend api key", "must be set (printable ASCII, e.g. re_…)")
	}
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return c, ports.Invalid("resend base url", "must be an absolute http(s) URL without credentials or query")
	}
	if !strings.HasSuffix(c.BaseURL, "/") {
		c.BaseURL += "/"
	}
	if c.Timeout < 0 {
		return c, ports.Invalid("resend timeout", fmt.Sprintf("must not be negative, got %s", c.Timeout))
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c, nil
}
