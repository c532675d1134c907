package app

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// MessagingConfig configures messaging (MSG-1 … MSG-6): the outbox, the
// consent registry's one-click unsubscribe links and the inbound webhooks.
type MessagingConfig struct {
	// WebhookURL is the public base URL (scheme and host, no path) the
	// providers call the webhooks on, as they see it: behind a proxy or a
	// tunnel the request's own URL differs from the one Twilio signed, so
	// the signature is checked against this one.
	// STOCKADE_MESSAGING_WEBHOOK_URL, default "" meaning HTTP.PublicURL.
	WebhookURL string `koanf:"webhook_url"`
	// UnsubscribeKeys sign the one-click unsubscribe links of marketing
	// e-mail (RFC 8058): comma-separated keys of at least 32 random bytes
	// in unpadded base64url; the first signs, all verify (put a new key
	// first to rotate; keep the old one while its mails are read).
	// STOCKADE_MESSAGING_UNSUBSCRIBE_KEYS, default "" meaning a key
	// generated once and kept in DataDir/unsubscribe.key (mode 0600).
	UnsubscribeKeys string `koanf:"unsubscribe_keys"`
	// DefaultMessagingServiceSID sends transactional SMS for shops
	// without a Twilio Messaging Service of their own.
	// STOCKADE_MESSAGING_DEFAULT_SERVICE_SID, default "" (such shops
	// cannot send SMS).
	DefaultMessagingServiceSID string `koanf:"default_service_sid"`
	// EmailFrom is the From of e-mail that names none.
	// STOCKADE_MESSAGING_EMAIL_FROM, default "" meaning
	// no-reply@<host of HTTP.PublicURL>.
	EmailFrom string `koanf:"email_from"`
	// DefaultCountryCode is the calling code given to phone numbers
	// entered without one ("1"). STOCKADE_MESSAGING_DEFAULT_COUNTRY_CODE,
	// default "" (numbers must start with + and the country code).
	DefaultCountryCode string `koanf:"default_country_code"`
	// OutboxConcurrency is how many messages the outbox worker delivers
	// at once. STOCKADE_MESSAGING_OUTBOX_CONCURRENCY, default 0 meaning 1
	// on SQLite and 4 on Postgres.
	OutboxConcurrency int `koanf:"outbox_concurrency"`
}

// unsubscribeKeyFile holds the generated unsubscribe key, under DataDir.
const unsubscribeKeyFile = "unsubscribe.key"

// validate returns one *SettingError per problem with the settings.
func (m MessagingConfig) validate() []error {
	var errs []error
	if m.WebhookURL != "" {
		if err := validateBaseURL("STOCKADE_MESSAGING_WEBHOOK_URL", m.WebhookURL); err != nil {
			errs = append(errs, err)
		}
	}
	if m.UnsubscribeKeys != "" {
		if _, err := parseUnsubscribeKeys(m.UnsubscribeKeys); err != nil {
			errs = append(errs, err)
		}
	}
	if cc := m.DefaultCountryCode; cc != "" && (len(cc) > 3 || strings.Trim(cc, "0123456789") != "" || cc[0] == '0') {
		errs = append(errs, problem("STOCKADE_MESSAGING_DEFAULT_COUNTRY_CODE", "want 1 to 3 digits, e.g. 1"))
	}
	if m.OutboxConcurrency < 0 || m.OutboxConcurrency > 64 {
		errs = append(errs, problem("STOCKADE_MESSAGING_OUTBOX_CONCURRENCY", "want 0 to 64, got %d", m.OutboxConcurrency))
	}
	return errs
}

// validateBaseURL checks an absolute http(s) URL with a host and no path,
// query or user information.
func validateBaseURL(setting, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return problem(setting, "want an absolute http(s) URL without path, e.g. https://hooks.example.com, got %q", raw)
	}
	return nil
}

// parseUnsubscribeKeys decodes comma-separated base64url keys of at least
// 32 bytes. The error names the setting and never holds a key.
func parseUnsubscribeKeys(spec string) ([][]byte, error) {
	var out [][]byte
	for i, part := range strings.Split(spec, ",") {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(part))
		if err != nil || len(b) < minStorageKeyLen {
			return nil, problem("STOCKADE_MESSAGING_UNSUBSCRIBE_KEYS", "key %d: want at least 32 bytes in unpadded base64url", i+1)
		}
		out = append(out, b)
	}
	return out, nil
}

// UnsubscribeKeys returns the configured unsubscribe keys, or the key in
// DataDir/unsubscribe.key, created with a fresh 256-bit key (mode 0600)
// the first time.
func UnsubscribeKeys(cfg Config) ([][]byte, error) {
	if cfg.Messaging.UnsubscribeKeys != "" {
		return parseUnsubscribeKeys(cfg.Messaging.UnsubscribeKeys)
	}
	path := filepath.Join(absDir(cfg.DataDir), unsubscribeKeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := writeNew(path, []byte(base64.RawURLEncoding.EncodeToString(randomKey())+"\n")); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		b, err = os.ReadFile(path) // another instance may have won the race
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	keys, err := parseUnsubscribeKeys(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return keys, nil
}

// WebhookBaseURL returns Messaging.WebhookURL, or HTTP.PublicURL when it
// is empty, without a trailing slash.
func (c Config) WebhookBaseURL() string {
	u := c.Messaging.WebhookURL
	if u == "" {
		u = c.HTTP.PublicURL
	}
	return strings.TrimSuffix(u, "/")
}
