// Package twilio sends SMS through Twilio Messaging Services and verifies
// Twilio's webhooks, on the official SDK github.com/twilio/twilio-go.
//
// Every message goes out through a Messaging Service: in the US that is
// the unit registered to an A2P 10DLC campaign, and each shop registers
// its own. The sender never picks a bare phone number. A message names
// its shop's service (ports.SMS.MessagingServiceSID); a marketing message
// without one is refused with ports.ErrNoMessagingService; a transactional
// one without one goes through the platform's DefaultMessagingServiceSID,
// or is refused the same way when there is none. Deciding the category is
// the caller's (core/messaging) job; the adapter enforces the rule
// whatever the caller does.
//
// Twilio's Messages API takes no idempotency key: a request that times
// out after Twilio accepted it is sent again on retry. The outbox keeps
// that window as small as it can; see the README.
package twilio

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/stockadehq/stockade/ports"
)

// Config authenticates to Twilio.
type Config struct {
	// AccountSID is the account (AC…) messages are sent from.
	AccountSID string
	// AuthToken is the account's auth token. It signs the webhooks
	// Twilio sends (see NewWebhookVerifier) and authenticates API calls
	// unless an API key is set.
	AuthToken Secret
	// APIKeySID (SK…) and APIKeySecret authenticate API calls in place
	// of the auth token (Twilio's recommendation: revocable, per app).
	APIKeySID    string
	APIKeySecret Secret
	// DefaultMessagingServiceSID (MG…) sends transactional SMS of shops
	// that have no Messaging Service of their own; "" refuses them.
	// Marketing SMS never use it.
	DefaultMessagingServiceSID string
	// Edge and Region pin Twilio's data centre (e.g. "dublin", "ie1");
	// "" is Twilio's default. The environment is never read.
	Edge, Region string
	// Timeout bounds one API call; default 10s.
	Timeout time.Duration
	// HTTPClient carries the calls; nil is a client with Timeout. Its
	// Transport is used as is (tests point it at a local server).
	HTTPClient *http.Client
	// Logger receives one debug line per message (its SID and status,
	// never the body) and one warning per failure with Twilio's reason;
	// nil logs nothing.
	Logger *zap.Logger
}

// DefaultTimeout bounds one API call.
const DefaultTimeout = 10 * time.Second

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

// ValidSID reports whether sid is a Twilio SID with the given two-letter
// prefix: the prefix and 32 hexadecimal digits.
func ValidSID(prefix, sid string) bool {
	rest, ok := strings.CutPrefix(sid, prefix)
	if !ok || len(rest) != 32 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// alnum reports whether s is non-empty and only letters and digits (the
// SDK refuses anything else in credentials).
func alnum(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// withDefaults checks c. Errors match ports.ErrInvalid and never contain
// a secret.
func (c Config) withDefaults() (Config, error) {
	if !ValidSID("AC", c.AccountSID) {
		return c, ports.Invalid("twilio account sid", "must be AC followed by 32 hex digits")
	}
	if !alnum(c.AuthToken.Reveal()) {
		return c, ports.Invalid("twilio auth token", "must be set (letters and digits)")
	}
	if c.APIKeySID != "" || c.APIKeySecret != "" {
		if !ValidSID("SK", c.APIKeySID) {
			return c, ports.Invalid("twilio api key sid", "must be SK followed by 32 hex digits")
		}
		if !alnum(c.APIKeySecret.Reveal()) {
			return c, ports.Invalid("twilio api key secret", "must be set (letters and digits)")
		}
	}
	if c.DefaultMessagingServiceSID != "" && !ValidSID("MG", c.DefaultMessagingServiceSID) {
		return c, ports.Invalid("twilio default messaging service", "must be MG followed by 32 hex digits")
	}
	if c.Timeout < 0 {
		return c, ports.Invalid("twilio timeout", fmt.Sprintf("must not be negative, got %s", c.Timeout))
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c, nil
}
