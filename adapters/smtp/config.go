// Package smtp is an ports.EmailSender that submits mail to an SMTP
// server (a relay such as Postmark's, SES's or a self-hosted Postfix) with
// github.com/wneessen/go-mail.
//
// STARTTLS is required: a server that does not offer it, or whose
// certificate does not verify, gets nothing — not the password, not the
// message. Plain text is allowed only when explicitly configured and only
// to a loopback address (a local relay or test server). Implicit TLS (port
// 465) is available too.
//
// SMTP has no idempotency key. Each message's Message-ID is derived from
// its IdempotencyKey, so a retry after an ambiguous failure sends the same
// Message-ID and duplicates are recognisable (and dropped by receivers
// that de-duplicate on it); the window that remains is documented on
// Sender.SendEmail.
package smtp

import (
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/stockadehq/stockade/ports"
)

// Config reaches and authenticates to one SMTP server.
type Config struct {
	// Host is the server's name or address; Port defaults to 587
	// (submission with STARTTLS), or 465 with ImplicitTLS.
	Host string
	Port int
	// Username and Password authenticate (SMTP AUTH, the strongest
	// mechanism both sides offer); both empty sends unauthenticated.
	Username string
	Password Secret
	// ImplicitTLS speaks TLS from the first byte (SMTPS, port 465)
	// instead of upgrading with STARTTLS.
	ImplicitTLS bool
	// InsecurePlaintextLoopback turns TLS off. Allowed only when Host is
	// a loopback address (localhost, 127.0.0.0/8, ::1): a local relay or
	// a test server. New refuses it for any other host.
	InsecurePlaintextLoopback bool
	// RootCAs verifies the server's certificate; nil is the system pool.
	RootCAs *x509.CertPool
	// Timeout bounds connecting and each SMTP command; default 15s.
	Timeout time.Duration
	// HELO is the name given in EHLO; default the machine's host name.
	HELO string
	// MessageIDDomain is the right-hand side of generated Message-IDs;
	// default the domain of each message's From address.
	MessageIDDomain string
	// MaxIdle is how many open connections are kept for reuse; 0 means 2,
	// a negative number keeps none (one connection per message).
	MaxIdle int
	// IdleTimeout closes a kept connection unused for this long; default
	// 30s (servers drop idle clients after a few minutes).
	IdleTimeout time.Duration
	// Clock dates messages; nil is the system clock.
	Clock ports.Clock
	// Logger receives one debug line per message (never its body or
	// recipient) and one warning per failure; nil logs nothing.
	Logger *zap.Logger
}

// Defaults.
const (
	DefaultPort        = 587
	DefaultImplicitTLS = 465
	DefaultTimeout     = 15 * time.Second
	DefaultMaxIdle     = 2
	DefaultIdleTimeout = 30 * time.Second
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

// withDefaults checks c and fills its defaults. Errors match
// ports.ErrInvalid and never contain the password.
func (c Config) withDefaults() (Config, error) {
	c.Host = strings.TrimSpace(c.Host)
	if c.Host == "" || strings.ContainsAny(c.Host, "/ \t\r\n") {
		return c, ports.Invalid("smtp host", "must be a host name or address")
	}
	if c.Port == 0 {
		c.Port = DefaultPort
		if c.ImplicitTLS {
			c.Port = DefaultImplicitTLS
		}
	}
	if c.Port < 1 || c.Port > 65535 {
		return c, ports.Invalid("smtp port", fmt.Sprintf("must be 1 to 65535, got %d", c.Port))
	}
	if c.InsecurePlaintextLoopback {
		if c.ImplicitTLS {
			return c, ports.Invalid("smtp tls", "implicit TLS and plain text exclude each other")
		}
		if !isLoopback(c.Host) {
			return c, ports.Invalid("smtp tls", fmt.Sprintf("plain text is allowed only to a loopback host, not %q", c.Host))
		}
	}
	if (c.Username == "") != (c.Password == "") {
		return c, ports.Invalid("smtp auth", "set both the user name and the password, or neither")
	}
	if c.Timeout < 0 || c.IdleTimeout < 0 {
		return c, ports.Invalid("smtp timeout", "must not be negative")
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	switch {
	case c.MaxIdle == 0:
		c.MaxIdle = DefaultMaxIdle
	case c.MaxIdle < 0:
		c.MaxIdle = 0
	}
	if c.MessageIDDomain != "" && strings.ContainsAny(c.MessageIDDomain, "<>@ \t\r\n") {
		return c, ports.Invalid("smtp message id domain", "must be a bare domain")
	}
	if c.Clock == nil {
		c.Clock = ports.SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c, nil
}

// isLoopback reports whether host is localhost or a loopback IP.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
