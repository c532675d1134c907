package app

import (
	"net/url"
	"time"
)

// AuthConfig configures authentication. Zero values take the defaults of
// core/auth, adapters/passhash and core/auth/passwordpolicy.
type AuthConfig struct {
	// SessionKeys are the keys that sign session cookies, as
	// "id:secret[,id:secret…]" where each secret is at least 32 bytes in
	// unpadded base64url and the first key signs. Put a new key first to
	// rotate; drop an old one to invalidate what it signed.
	// STOCKADE_AUTH_SESSION_KEYS, default "" meaning a key generated once
	// and kept in DataDir/session.keys (mode 0600).
	SessionKeys string `koanf:"session_keys"`
	// SessionIdleTimeout, SessionLifetime and MagicLinkTTL: see
	// core/auth.Config. STOCKADE_AUTH_SESSION_IDLE_TIMEOUT (72h),
	// STOCKADE_AUTH_SESSION_LIFETIME (720h), STOCKADE_AUTH_MAGIC_LINK_TTL
	// (15m).
	SessionIdleTimeout time.Duration `koanf:"session_idle_timeout"`
	SessionLifetime    time.Duration `koanf:"session_lifetime"`
	MagicLinkTTL       time.Duration `koanf:"magic_link_ttl"`
	// Platform operators (AUD-5): their sessions' lifetime and idle
	// timeout, and how long an impersonation lasts (never extended; at
	// most 4h). STOCKADE_AUTH_OPERATOR_SESSION_LIFETIME (8h),
	// STOCKADE_AUTH_OPERATOR_IDLE_TIMEOUT (30m),
	// STOCKADE_AUTH_IMPERSONATION_TTL (1h).
	OperatorSessionLifetime time.Duration `koanf:"operator_session_lifetime"`
	OperatorIdleTimeout     time.Duration `koanf:"operator_idle_timeout"`
	ImpersonationTTL        time.Duration `koanf:"impersonation_ttl"`
	// PasswordMinLength is the shortest password accepted (at least 8).
	// STOCKADE_AUTH_PASSWORD_MIN_LENGTH, default 8.
	PasswordMinLength int `koanf:"password_min_length"`
	// Argon2id parameters of new hashes (default OWASP's: 19456 KiB, 2
	// iterations, parallelism 1) and how many hashes may run at once
	// (default max(2, GOMAXPROCS)): STOCKADE_AUTH_ARGON2_MEMORY_KIB,
	// STOCKADE_AUTH_ARGON2_ITERATIONS, STOCKADE_AUTH_ARGON2_PARALLELISM,
	// STOCKADE_AUTH_MAX_CONCURRENT_HASHES.
	Argon2MemoryKiB     int `koanf:"argon2_memory_kib"`
	Argon2Iterations    int `koanf:"argon2_iterations"`
	Argon2Parallelism   int `koanf:"argon2_parallelism"`
	MaxConcurrentHashes int `koanf:"max_concurrent_hashes"`
	// Google sign-in, offered as provider "google" when the client ID is
	// set. STOCKADE_AUTH_GOOGLE_CLIENT_ID, STOCKADE_AUTH_GOOGLE_CLIENT_SECRET.
	GoogleClientID     string `koanf:"google_client_id"`
	GoogleClientSecret string `koanf:"google_client_secret"`
	// One more OpenID Connect issuer, offered under OIDCName when OIDCIssuer
	// is set. STOCKADE_AUTH_OIDC_NAME, STOCKADE_AUTH_OIDC_ISSUER,
	// STOCKADE_AUTH_OIDC_CLIENT_ID, STOCKADE_AUTH_OIDC_CLIENT_SECRET.
	OIDCName         string `koanf:"oidc_name"`
	OIDCIssuer       string `koanf:"oidc_issuer"`
	OIDCClientID     string `koanf:"oidc_client_id"`
	OIDCClientSecret string `koanf:"oidc_client_secret"`
}

// validate returns one *SettingError per problem with the auth settings.
func (a AuthConfig) validate() []error {
	var errs []error
	if a.SessionKeys != "" {
		if _, err := ParseSessionKeys(a.SessionKeys); err != nil {
			errs = append(errs, err)
		}
	}
	for _, d := range []struct {
		env string
		v   time.Duration
	}{
		{"STOCKADE_AUTH_SESSION_IDLE_TIMEOUT", a.SessionIdleTimeout},
		{"STOCKADE_AUTH_SESSION_LIFETIME", a.SessionLifetime},
		{"STOCKADE_AUTH_MAGIC_LINK_TTL", a.MagicLinkTTL},
		{"STOCKADE_AUTH_OPERATOR_SESSION_LIFETIME", a.OperatorSessionLifetime},
		{"STOCKADE_AUTH_OPERATOR_IDLE_TIMEOUT", a.OperatorIdleTimeout},
		{"STOCKADE_AUTH_IMPERSONATION_TTL", a.ImpersonationTTL},
	} {
		if d.v < 0 {
			errs = append(errs, problem(d.env, "must not be negative, got %s", d.v))
		}
	}
	if a.ImpersonationTTL > 4*time.Hour {
		errs = append(errs, problem("STOCKADE_AUTH_IMPERSONATION_TTL", "must be at most 4h (an impersonation is restarted, not stretched), got %s", a.ImpersonationTTL))
	}
	if a.PasswordMinLength != 0 && a.PasswordMinLength < 8 {
		errs = append(errs, problem("STOCKADE_AUTH_PASSWORD_MIN_LENGTH", "must be at least 8 (NIST SP 800-63B), got %d", a.PasswordMinLength))
	}
	for _, n := range []struct {
		env string
		v   int
	}{
		{"STOCKADE_AUTH_ARGON2_MEMORY_KIB", a.Argon2MemoryKiB},
		{"STOCKADE_AUTH_ARGON2_ITERATIONS", a.Argon2Iterations},
		{"STOCKADE_AUTH_ARGON2_PARALLELISM", a.Argon2Parallelism},
		{"STOCKADE_AUTH_MAX_CONCURRENT_HASHES", a.MaxConcurrentHashes},
	} {
		if n.v < 0 {
			errs = append(errs, problem(n.env, "must not be negative, got %d", n.v))
		}
	}
	if a.GoogleClientID != "" && a.GoogleClientSecret == "" {
		errs = append(errs, problem("STOCKADE_AUTH_GOOGLE_CLIENT_SECRET", "must be set with STOCKADE_AUTH_GOOGLE_CLIENT_ID"))
	}
	if a.OIDCIssuer != "" {
		if a.OIDCName == "" || a.OIDCClientID == "" || a.OIDCClientSecret == "" {
			errs = append(errs, problem("STOCKADE_AUTH_OIDC_ISSUER", "needs STOCKADE_AUTH_OIDC_NAME, _CLIENT_ID and _CLIENT_SECRET too"))
		}
		if a.OIDCName == "google" && a.GoogleClientID != "" {
			errs = append(errs, problem("STOCKADE_AUTH_OIDC_NAME", "google is taken by the Google settings"))
		}
	}
	return errs
}

// validatePublicURL checks HTTP.PublicURL: an absolute http(s) URL with a
// host and no path, query or user information.
func validatePublicURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return problem("STOCKADE_HTTP_PUBLIC_URL", "want an absolute http(s) URL without path, e.g. https://example.com, got %q", raw)
	}
	return nil
}
