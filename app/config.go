package app

import (
	"net/url"
	"path/filepath"
	"time"
)

// Environments a Config can run in (Config.Env).
const (
	EnvDevelopment = "development"
	EnvProduction  = "production"
)

// Log formats (LogConfig.Format).
const (
	LogFormatConsole = "console"
	LogFormatJSON    = "json"
)

// EnvConfigFile names the environment variable that holds the path of the
// optional TOML configuration file. The CLI reads it (the --config flag
// wins); LoadConfig takes the path as an argument.
const EnvConfigFile = "STOCKADE_CONFIG"

// Config is everything the server needs to start. It is a plain struct: fill
// it by hand, start from Default, or use LoadConfig to read a TOML file and
// STOCKADE_* environment variables. Every field names the environment
// variable that sets it; the TOML key is the koanf tag (nested tables for
// the sub-structs, e.g. [database] url = "…").
//
// Call Validate before use: constructors in this package assume a valid
// Config.
type Config struct {
	// DataDir is where the embedded defaults keep their files: the SQLite
	// database (DataDir/stockade.db) and local objects (DataDir/objects).
	// STOCKADE_DATA_DIR, default "./stockade-data". Relative paths are
	// resolved against the working directory.
	DataDir string `koanf:"data_dir"`

	Database DatabaseConfig `koanf:"database"`
	Objects  ObjectsConfig  `koanf:"objects"`
	HTTP     HTTPConfig     `koanf:"http"`
	Auth     AuthConfig     `koanf:"auth"`
	Storage  StorageConfig  `koanf:"storage"`
	Tenancy  TenancyConfig  `koanf:"tenancy"`
	Links    LinksConfig    `koanf:"links"`
	// Housekeeping schedules the deletion of expired rows and the audit
	// checkpoints.
	Housekeeping HousekeepingConfig `koanf:"housekeeping"`
	// Messaging configures the outbox, consent and webhooks.
	Messaging MessagingConfig `koanf:"messaging"`
	Stripe    StripeConfig    `koanf:"stripe"`
	// SMS and Email select the message providers (console by default).
	SMS   SMSConfig   `koanf:"sms"`
	Email EmailConfig `koanf:"email"`
	Log   LogConfig   `koanf:"log"`
	// Metrics serves Prometheus metrics on a listener of its own (off by
	// default); see metricsconfig.go.
	Metrics MetricsConfig `koanf:"metrics"`
	// Tracing exports OpenTelemetry traces over OTLP (off by default);
	// see tracingconfig.go.
	Tracing TracingConfig `koanf:"tracing"`

	// Env is "development" (default) or "production". STOCKADE_ENV.
	// LoadConfig derives the default log format from it.
	Env string `koanf:"env"`
}

// TenancyConfig tunes orgs, shops and invitations.
type TenancyConfig struct {
	// InvitationTTL is how long an invitation can be accepted.
	// STOCKADE_TENANCY_INVITATION_TTL, default 0 meaning 7 days.
	InvitationTTL time.Duration `koanf:"invitation_ttl"`
	// ReservedSlugs are the host labels no shop may take, comma-separated;
	// the list replaces the default (tenancy.DefaultReservedSlugs: www,
	// api, app, admin, operator, login, mail, static, assets, hq, status,
	// …). STOCKADE_TENANCY_RESERVED_SLUGS, default "" meaning the default
	// list.
	ReservedSlugs string `koanf:"reserved_slugs"`
}

// DatabaseConfig selects and reaches the store.
type DatabaseConfig struct {
	// URL selects the store adapter by scheme: sqlite:///path/to.db or
	// postgres://user:password@host:port/db (the application role, which
	// owns no table). STOCKADE_DATABASE_URL, default "" meaning
	// sqlite://<DataDir>/stockade.db.
	URL string `koanf:"url"`
	// MigrateURL is the Postgres URL of the schema owner role, used to run
	// migrations (`stockade migrate`, and `serve` at start when set).
	// SQLite needs none: serve always migrates the embedded database at
	// start. STOCKADE_DATABASE_MIGRATE_URL, default "".
	MigrateURL string `koanf:"migrate_url"`
}

// ObjectsConfig selects the object store.
type ObjectsConfig struct {
	// URL selects the object store by scheme: file:///path/to/dir or
	// s3://bucket?endpoint=host:port&region=name. STOCKADE_OBJECTS_URL,
	// default "" meaning file://<DataDir>/objects.
	URL string `koanf:"url"`
	// AccessKey and SecretKey authenticate to an s3:// store; they never
	// go in the URL. STOCKADE_OBJECTS_ACCESS_KEY,
	// STOCKADE_OBJECTS_SECRET_KEY.
	AccessKey string `koanf:"access_key"`
	SecretKey string `koanf:"secret_key"`
}

// HTTPConfig configures the HTTP server.
type HTTPConfig struct {
	// Addr is the host:port to listen on; port 0 picks a free port (the
	// bound address is logged as "listening"). STOCKADE_HTTP_ADDR, default
	// "127.0.0.1:8080".
	Addr string `koanf:"addr"`
	// ShutdownTimeout bounds the graceful shutdown: in-flight requests get
	// this long to finish before connections are closed.
	// STOCKADE_HTTP_SHUTDOWN_TIMEOUT (a Go duration such as "10s"),
	// default 10s.
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
	// PublicURL is the scheme and host browsers reach the server by, with
	// no path; a shop lives at {slug}.{host} (TEN-7). Links in e-mails and
	// OpenID Connect redirects are built from it, never from a request's
	// Host header. STOCKADE_HTTP_PUBLIC_URL, default
	// "http://localhost:8080" (shops at http://acme.localhost:8080).
	PublicURL string `koanf:"public_url"`
	// TrustForwardedFor takes the client address from the last
	// X-Forwarded-For entry; set it only behind exactly one trusted
	// proxy. STOCKADE_HTTP_TRUST_FORWARDED_FOR, default false.
	TrustForwardedFor bool `koanf:"trust_forwarded_for"`
	// Limits on slow and greedy clients; see httpconfig.go.
	HTTPLimits `koanf:",squash"`
}

// LogConfig configures logging.
type LogConfig struct {
	// Format is "console" (human-readable) or "json". STOCKADE_LOG_FORMAT,
	// default "console" in development and "json" in production (LoadConfig
	// picks it from Env when no file or variable sets it; Default returns
	// "console").
	Format string `koanf:"format"`
	// Level is the minimum level logged: debug, info, warn or error.
	// STOCKADE_LOG_LEVEL, default "info".
	Level string `koanf:"level"`
}

// Default returns the configuration used when nothing is set: SQLite and
// local files under ./stockade-data, HTTP on 127.0.0.1:8080, console logs
// at info, development environment, metrics off.
func Default() Config {
	return Config{
		DataDir: "./stockade-data",
		HTTP: HTTPConfig{
			Addr:            "127.0.0.1:8080",
			ShutdownTimeout: 10 * time.Second,
			PublicURL:       "http://localhost:8080",
		},
		Log: LogConfig{
			Format: LogFormatConsole,
			Level:  "info",
		},
		Env: EnvDevelopment,
	}
}

// DatabaseURL returns Database.URL, or the embedded default
// sqlite://<DataDir>/stockade.db (DataDir made absolute when possible) when
// it is empty.
func (c Config) DatabaseURL() string {
	if c.Database.URL != "" {
		return c.Database.URL
	}
	return "sqlite://" + escapePath(filepath.Join(absDir(c.DataDir), "stockade.db"))
}

// ObjectsURL returns Objects.URL, or the embedded default
// file://<DataDir>/objects (DataDir made absolute when possible) when it is
// empty.
func (c Config) ObjectsURL() string {
	if c.Objects.URL != "" {
		return c.Objects.URL
	}
	return "file://" + escapePath(c.defaultObjectsDir())
}

func (c Config) defaultObjectsDir() string {
	return filepath.Join(absDir(c.DataDir), "objects")
}

// absDir returns dir made absolute, or dir itself if the working directory
// cannot be read.
func absDir(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// escapePath percent-encodes a file path for the path part of a URL, so a
// directory holding '%', '?', '#' or spaces round-trips.
func escapePath(p string) string {
	return (&url.URL{Path: filepath.ToSlash(p)}).EscapedPath()
}
