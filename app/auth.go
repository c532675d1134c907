package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/stockadehq/stockade/core/access"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/stockadehq/stockade/adapters/oidc"
	"github.com/stockadehq/stockade/adapters/passhash"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/core/auth/passwordpolicy"
	"github.com/stockadehq/stockade/core/authmail"
	"github.com/stockadehq/stockade/core/publish"
	"github.com/stockadehq/stockade/ports"
)

// sessionKeysFile is where the embedded default keeps its generated
// session key, under DataDir.
const sessionKeysFile = "session.keys"

// AuthParts are the pieces NewAuth wires together; zero fields are built
// from the configuration.
type AuthParts struct {
	Store ports.Store // required
	// Mail is the auth mail outbox sign-in links are enqueued to; nil
	// builds one from cfg (see NewAuthMailOutbox).
	Mail   *authmail.Outbox
	Logger *slog.Logger
	// NoProviders skips the OpenID Connect providers (and their network
	// discovery): for callers that never sign anyone in through them, such
	// as the CLI.
	NoProviders bool
	// Access is the permission matrix; nil is the default.
	Access *access.Policy
	// Hasher hashes and verifies passwords; nil builds one from cfg (see
	// NewPasswordHasher).
	Hasher ports.PasswordHasher
	// FactorKeys seals TOTP secrets (auth.Deps.FactorKeys); nil builds
	// the storage's key manager from cfg (NewKeyManager), as NewStorage
	// does.
	FactorKeys ports.KeyManager
	// DNS looks up the TXT records that prove an org's e-mail domains
	// (auth.Deps.DNS); nil is the system resolver.
	DNS ports.DNSResolver
	// Events publishes the service's events to hooks and webhooks; nil
	// is a publisher of its own without hooks (see NewEvents).
	Events *publish.Publisher
}

// NewPasswordHasher returns the Argon2id password hasher cfg.Auth
// configures (memory, iterations, parallelism and the bound on hashes
// computing at once).
func NewPasswordHasher(cfg Config) (*passhash.Hasher, error) {
	a := cfg.Auth
	hasher, err := passhash.New(passhash.Config{
		Params: passhash.Params{
			Memory: uint32(a.Argon2MemoryKiB), Time: uint32(a.Argon2Iterations), Threads: uint32(a.Argon2Parallelism),
		},
		MaxConcurrent: a.MaxConcurrentHashes,
	})
	if err != nil {
		return nil, fmt.Errorf("password hasher: %w", err)
	}
	return hasher, nil
}

// NewAuth builds the authentication service for cfg without fx: the
// Argon2id hasher (unless p has one), the password policy, the session keyring (from
// Auth.SessionKeys, or the key file in DataDir, created on first use), the
// configured OpenID Connect providers (discovered now, within ctx) and,
// unless given, the auth mail outbox.
func NewAuth(ctx context.Context, cfg Config, p AuthParts) (*auth.Service, error) {
	a := cfg.Auth
	hasher := p.Hasher
	if hasher == nil {
		h, err := NewPasswordHasher(cfg)
		if err != nil {
			return nil, err
		}
		hasher = h
	}
	policy, err := passwordpolicy.New(passwordpolicy.Policy{MinLength: a.PasswordMinLength})
	if err != nil {
		return nil, fmt.Errorf("password policy: %w", err)
	}
	keys, err := sessionKeyring(cfg)
	if err != nil {
		return nil, err
	}
	var providers []ports.IdentityProvider
	if a.GoogleClientID != "" && !p.NoProviders {
		g, err := oidc.Google(ctx, a.GoogleClientID, a.GoogleClientSecret)
		if err != nil {
			return nil, fmt.Errorf("google sign-in: %w", err)
		}
		providers = append(providers, g)
	}
	if a.OIDCIssuer != "" && !p.NoProviders {
		o, err := oidc.New(ctx, oidc.Config{Name: a.OIDCName, Issuer: a.OIDCIssuer, ClientID: a.OIDCClientID, ClientSecret: a.OIDCClientSecret})
		if err != nil {
			return nil, fmt.Errorf("%s sign-in: %w", a.OIDCName, err)
		}
		providers = append(providers, o)
	}
	mail := p.Mail
	if mail == nil {
		if mail, err = NewAuthMailOutbox(cfg); err != nil {
			return nil, err
		}
	}
	factorKeys := p.FactorKeys
	if factorKeys == nil {
		if factorKeys, err = NewKeyManager(ctx, cfg, p.Store); err != nil {
			return nil, err
		}
	}
	return auth.New(auth.Deps{
		Store: p.Store, Hasher: hasher, Policy: policy, Keys: keys, Mail: mail,
		Providers: providers, Logger: p.Logger, Access: p.Access, FactorKeys: factorKeys, Events: p.Events,
		SSOProviders: SSOProviders(nil), DNS: p.DNS,
	}, authConfig(cfg))
}

// authConfig is the auth service's configuration from cfg (zero fields
// take auth's defaults).
func authConfig(cfg Config) auth.Config {
	a := cfg.Auth
	return auth.Config{
		SessionIdleTimeout: a.SessionIdleTimeout,
		SessionLifetime:    a.SessionLifetime,
		MagicLinkTTL:       a.MagicLinkTTL,

		OperatorSessionLifetime: a.OperatorSessionLifetime,
		OperatorIdleTimeout:     a.OperatorIdleTimeout,
		ImpersonationTTL:        a.ImpersonationTTL,
	}
}

// sessionKeyring is the keyring over sessionKeys.
func sessionKeyring(cfg Config) (*auth.Keyring, error) {
	keys, err := sessionKeys(cfg)
	if err != nil {
		return nil, err
	}
	return auth.NewKeyring(keys...)
}

// sessionKeys parses Auth.SessionKeys or, when it is empty, reads the key
// file in DataDir, creating it with a fresh 256-bit key (mode 0600) the
// first time.
func sessionKeys(cfg Config) ([]auth.Key, error) {
	spec := cfg.Auth.SessionKeys
	if spec == "" {
		path := filepath.Join(cfg.DataDir, sessionKeysFile)
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			fresh := []byte("k1:" + base64.RawURLEncoding.EncodeToString(randomKey()) + "\n")
			if err := writeNew(path, fresh); err != nil && !errors.Is(err, fs.ErrExist) {
				return nil, fmt.Errorf("create session key file: %w", err)
			}
			b, err = os.ReadFile(path) // another instance may have won the race
		}
		if err != nil {
			return nil, fmt.Errorf("read session key file: %w", err)
		}
		spec = strings.TrimSpace(string(b))
	}
	return ParseSessionKeys(spec)
}

func randomKey() []byte {
	b := make([]byte, 32)
	rand.Read(b) // never fails since Go 1.24
	return b
}

// writeNew creates path with b, readable by the owner only, failing if it
// exists (two servers starting at once keep the first one's key).
func writeNew(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ParseSessionKeys parses "id:secret[,id:secret…]" (secrets in unpadded
// base64url) into keys, the first being the signing key. The error names
// the setting and never contains a secret.
func ParseSessionKeys(spec string) ([]auth.Key, error) {
	var keys []auth.Key
	for i, part := range strings.Split(spec, ",") {
		id, secret, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			return nil, problem("STOCKADE_AUTH_SESSION_KEYS", "key %d: want id:secret", i+1)
		}
		b, err := base64.RawURLEncoding.DecodeString(secret)
		if err != nil {
			return nil, problem("STOCKADE_AUTH_SESSION_KEYS", "key %q: secret is not unpadded base64url", id)
		}
		keys = append(keys, auth.Key{ID: id, Secret: b})
	}
	if _, err := auth.NewKeyring(keys...); err != nil {
		return nil, problem("STOCKADE_AUTH_SESSION_KEYS", "%v", err)
	}
	return keys, nil
}
