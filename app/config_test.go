package app_test

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stockadehq/stockade/adapters/sqlite"
	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/ports"
)

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := app.LoadConfig(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	want := app.Config{
		DataDir: "./stockade-data",
		HTTP:    app.HTTPConfig{Addr: "127.0.0.1:8080", ShutdownTimeout: 10 * time.Second, PublicURL: "http://localhost:8080"},
		Log:     app.LogConfig{Format: "console", Level: "info"},
		Env:     "development",
	}
	if cfg != want {
		t.Errorf("LoadConfig defaults = %+v, want %+v", cfg, want)
	}
	if cfg != app.Default() {
		t.Errorf("LoadConfig defaults differ from Default()")
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestDefaultURLs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my data %?#")
	cfg := app.Default()
	cfg.DataDir = dir

	path, err := sqlite.ParseURL(cfg.DatabaseURL())
	if err != nil || path != filepath.Join(dir, "stockade.db") {
		t.Errorf("DatabaseURL %q parses to %q, %v; want %q", cfg.DatabaseURL(), path, err, filepath.Join(dir, "stockade.db"))
	}
	u, err := url.Parse(cfg.ObjectsURL())
	if err != nil || u.Scheme != "file" || u.Path != filepath.Join(dir, "objects") {
		t.Errorf("ObjectsURL %q parses to %+v, %v; want file://%s", cfg.ObjectsURL(), u, err, filepath.Join(dir, "objects"))
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("a data dir with URL metacharacters does not validate: %v", err)
	}

	cfg.DataDir = "relative/data"
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if path, _ := sqlite.ParseURL(cfg.DatabaseURL()); path != filepath.Join(wd, "relative/data/stockade.db") {
		t.Errorf("relative DataDir: DatabaseURL = %q, want it made absolute", cfg.DatabaseURL())
	}

	cfg.Database.URL = "postgres://db/x"
	cfg.Objects.URL = "s3://bucket"
	if cfg.DatabaseURL() != "postgres://db/x" || cfg.ObjectsURL() != "s3://bucket" {
		t.Errorf("set URLs not returned as is: %q %q", cfg.DatabaseURL(), cfg.ObjectsURL())
	}
}

func allEnv() []string {
	return []string{
		"HOME=/root",
		"STOCKADE_DATA_DIR=/srv/stockade",
		"STOCKADE_DATABASE_URL=postgres://app:pw@db:5432/stockade",
		"STOCKADE_DATABASE_MIGRATE_URL=postgres://owner:pw@db:5432/stockade",
		"STOCKADE_OBJECTS_URL=s3://objects?endpoint=minio:9000&region=eu-1",
		"STOCKADE_OBJECTS_ACCESS_KEY=stockade",
		"STOCKADE_OBJECTS_SECRET_KEY=minio-s3cret",
		"STOCKADE_STORAGE_SIGNING_KEY=" + strings.Repeat("A", 43),
		"STOCKADE_STORAGE_MASTER_KEY=" + strings.Repeat("B", 43),
		"STOCKADE_STORAGE_ENCRYPT=all",
		"STOCKADE_HTTP_ADDR=:9090",
		"STOCKADE_HTTP_SHUTDOWN_TIMEOUT=3s",
		"STOCKADE_LOG_FORMAT=json",
		"STOCKADE_LOG_LEVEL=debug",
		"STOCKADE_ENV=production",
		"STOCKADE_EMAIL_ALLOW_CONSOLE=true",
		"STOCKADE_HTTP_PUBLIC_URL=https://example.com",
		"STOCKADE_HTTP_TRUST_FORWARDED_FOR=true",
		"STOCKADE_AUTH_SESSION_IDLE_TIMEOUT=2h",
		"STOCKADE_AUTH_PASSWORD_MIN_LENGTH=12",
		"STOCKADE_AUTH_OIDC_NAME=corp",
		"STOCKADE_AUTH_OIDC_ISSUER=https://login.example.com",
		"STOCKADE_AUTH_OIDC_CLIENT_ID=stockade",
		"STOCKADE_AUTH_OIDC_CLIENT_SECRET=s3cret",
		"STOCKADE_TEST_POSTGRES_URL=ignored://",
	}
}

func TestLoadConfigEnv(t *testing.T) {
	cfg, err := app.LoadConfig(allEnv(), "")
	if err != nil {
		t.Fatal(err)
	}
	want := app.Config{
		DataDir: "/srv/stockade",
		Database: app.DatabaseConfig{
			URL:        "postgres://app:pw@db:5432/stockade",
			MigrateURL: "postgres://owner:pw@db:5432/stockade",
		},
		Objects: app.ObjectsConfig{URL: "s3://objects?endpoint=minio:9000&region=eu-1", AccessKey: "stockade", SecretKey: "minio-s3cret"},
		Storage: app.StorageConfig{SigningKey: strings.Repeat("A", 43), MasterKey: strings.Repeat("B", 43), Encrypt: "all"},
		HTTP:    app.HTTPConfig{Addr: ":9090", ShutdownTimeout: 3 * time.Second, PublicURL: "https://example.com", TrustForwardedFor: true},
		Auth: app.AuthConfig{
			SessionIdleTimeout: 2 * time.Hour, PasswordMinLength: 12,
			OIDCName: "corp", OIDCIssuer: "https://login.example.com", OIDCClientID: "stockade", OIDCClientSecret: "s3cret",
		},
		Log:   app.LogConfig{Format: "json", Level: "debug"},
		Env:   "production",
		Email: app.EmailConfig{AllowConsole: true},
	}
	if cfg != want {
		t.Errorf("LoadConfig = %+v\nwant %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestLoadConfigEmptyVariableIsUnset(t *testing.T) {
	cfg, err := app.LoadConfig([]string{"STOCKADE_HTTP_ADDR=", "STOCKADE_DATA_DIR= "}, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Addr != "127.0.0.1:8080" || cfg.DataDir != "./stockade-data" {
		t.Errorf("empty variables overrode defaults: %+v", cfg)
	}
}

func TestLoadConfigProductionLogFormat(t *testing.T) {
	cfg, err := app.LoadConfig([]string{"STOCKADE_ENV=production"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log.Format != "json" {
		t.Errorf("production default log format = %q, want json", cfg.Log.Format)
	}
	cfg, err = app.LoadConfig([]string{"STOCKADE_ENV=production", "STOCKADE_LOG_FORMAT=console"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log.Format != "console" {
		t.Errorf("explicit console in production became %q", cfg.Log.Format)
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stockade.toml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfigFileThenEnv(t *testing.T) {
	file := writeFile(t, `
data_dir = "/from/file"
env = "production"

[http]
addr = "127.0.0.1:7000"
shutdown_timeout = "30s"

[auth]
password_min_length = 10
magic_link_ttl = "5m"

[log]
level = "warn"
`)
	cfg, err := app.LoadConfig([]string{"STOCKADE_HTTP_ADDR=127.0.0.1:7001", "STOCKADE_LOG_FORMAT=console"}, file)
	if err != nil {
		t.Fatal(err)
	}
	want := app.Config{
		DataDir: "/from/file",
		HTTP:    app.HTTPConfig{Addr: "127.0.0.1:7001", ShutdownTimeout: 30 * time.Second, PublicURL: "http://localhost:8080"},
		Auth:    app.AuthConfig{PasswordMinLength: 10, MagicLinkTTL: 5 * time.Minute},
		Log:     app.LogConfig{Format: "console", Level: "warn"},
		Env:     "production",
	}
	if cfg != want {
		t.Errorf("LoadConfig = %+v\nwant %+v", cfg, want)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		file    string // TOML content; "" for no file
		environ []string
		want    []string // substrings of the error
	}{
		{
			name: "unknown file key",
			file: "[http]\nadress = \"x\"\n",
			want: []string{"stockade.toml", `unknown setting "http.adress"`},
		},
		{
			name: "duration not a string",
			file: "[http]\nshutdown_timeout = 10\n",
			want: []string{"http.shutdown_timeout", "duration string"},
		},
		{
			name: "bad duration in file",
			file: "[http]\nshutdown_timeout = \"soon\"\n",
			want: []string{"http.shutdown_timeout", `"soon"`},
		},
		{
			name: "number for a string",
			file: "data_dir = 5\n",
			want: []string{"data_dir", "want a string"},
		},
		{
			name: "not TOML",
			file: "data_dir = = =\n",
			want: []string{"stockade.toml"},
		},
		{
			name:    "bad duration in env",
			environ: []string{"STOCKADE_HTTP_SHUTDOWN_TIMEOUT=10"},
			want:    []string{"STOCKADE_HTTP_SHUTDOWN_TIMEOUT", `"10"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := ""
			if tt.file != "" {
				file = writeFile(t, tt.file)
			}
			_, err := app.LoadConfig(tt.environ, file)
			if err == nil {
				t.Fatal("LoadConfig succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.toml")
	_, err := app.LoadConfig(nil, missing)
	if err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadConfig(missing file) = %v, want a not-exist error naming the file", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		give    func(*app.Config)
		setting string
		want    string
	}{
		{"bad scheme", func(c *app.Config) { c.Database.URL = "mysql://u:p@h/db" }, "STOCKADE_DATABASE_URL", `unknown scheme "mysql" (want sqlite:// or postgres://)`},
		{"malformed postgres", func(c *app.Config) { c.Database.URL = "postgres://%zz" }, "STOCKADE_DATABASE_URL", "malformed URL"},
		{"bad postgres port", func(c *app.Config) { c.Database.URL = "postgres://h:99999/db" }, "STOCKADE_DATABASE_URL", "port"},
		{"not a URL", func(c *app.Config) { c.Database.URL = "/var/lib/stockade.db" }, "STOCKADE_DATABASE_URL", "not a URL"},
		{"sqlite with query", func(c *app.Config) { c.Database.URL = "sqlite:///x.db?mode=rwc" }, "STOCKADE_DATABASE_URL", "no query"},
		{"migrate url for sqlite", func(c *app.Config) { c.Database.MigrateURL = "postgres://o:p@h/db" }, "STOCKADE_DATABASE_MIGRATE_URL", "not a Postgres URL"},
		{"migrate url scheme", func(c *app.Config) {
			c.Database.URL = "postgres://h/db"
			c.Database.MigrateURL = "mysql://h/db"
		}, "STOCKADE_DATABASE_MIGRATE_URL", `unknown scheme "mysql"`},
		{"objects scheme", func(c *app.Config) { c.Objects.URL = "gs://bucket" }, "STOCKADE_OBJECTS_URL", `unknown scheme "gs"`},
		{"objects file host", func(c *app.Config) { c.Objects.URL = "file://server/share" }, "STOCKADE_OBJECTS_URL", `host "server"`},
		{"s3 bucket", func(c *app.Config) { c.Objects.URL = "s3://Bad_Bucket" }, "STOCKADE_OBJECTS_URL", "bucket"},
		{"s3 param", func(c *app.Config) { c.Objects.URL = "s3://bucket?endpoint=h:9000&regoin=x" }, "STOCKADE_OBJECTS_URL", `unknown parameter "regoin"`},
		{"s3 endpoint", func(c *app.Config) { c.Objects.URL = "s3://bucket?endpoint=h:port" }, "STOCKADE_OBJECTS_URL", "endpoint port"},
		{"addr", func(c *app.Config) { c.HTTP.Addr = "8080" }, "STOCKADE_HTTP_ADDR", "host:port"},
		{"addr port", func(c *app.Config) { c.HTTP.Addr = "127.0.0.1:http-ish" }, "STOCKADE_HTTP_ADDR", "port"},
		{"shutdown", func(c *app.Config) { c.HTTP.ShutdownTimeout = 0 }, "STOCKADE_HTTP_SHUTDOWN_TIMEOUT", "positive"},
		{"level", func(c *app.Config) { c.Log.Level = "verbose" }, "STOCKADE_LOG_LEVEL", `unknown level "verbose"`},
		{"format", func(c *app.Config) { c.Log.Format = "logfmt" }, "STOCKADE_LOG_FORMAT", `unknown format "logfmt"`},
		{"env", func(c *app.Config) { c.Env = "staging" }, "STOCKADE_ENV", `unknown environment "staging"`},
		{"data dir", func(c *app.Config) { c.DataDir = "" }, "STOCKADE_DATA_DIR", "empty"},
		{"public url path", func(c *app.Config) { c.HTTP.PublicURL = "https://example.com/app" }, "STOCKADE_HTTP_PUBLIC_URL", "without path"},
		{"public url scheme", func(c *app.Config) { c.HTTP.PublicURL = "ftp://example.com" }, "STOCKADE_HTTP_PUBLIC_URL", "http(s)"},
		{"session key shape", func(c *app.Config) { c.Auth.SessionKeys = "nocolon" }, "STOCKADE_AUTH_SESSION_KEYS", "id:secret"},
		{"session key short", func(c *app.Config) { c.Auth.SessionKeys = "k1:c2hvcnQ" }, "STOCKADE_AUTH_SESSION_KEYS", "at least 32 bytes"},
		{"password min", func(c *app.Config) { c.Auth.PasswordMinLength = 6 }, "STOCKADE_AUTH_PASSWORD_MIN_LENGTH", "at least 8"},
		{"negative ttl", func(c *app.Config) { c.Auth.MagicLinkTTL = -time.Minute }, "STOCKADE_AUTH_MAGIC_LINK_TTL", "negative"},
		{"impersonation ttl", func(c *app.Config) { c.Auth.ImpersonationTTL = 5 * time.Hour }, "STOCKADE_AUTH_IMPERSONATION_TTL", "at most 4h"},
		{"google secret", func(c *app.Config) { c.Auth.GoogleClientID = "id" }, "STOCKADE_AUTH_GOOGLE_CLIENT_SECRET", "must be set"},
		{"oidc incomplete", func(c *app.Config) { c.Auth.OIDCIssuer = "https://login.example.com" }, "STOCKADE_AUTH_OIDC_ISSUER", "needs"},
		{"s3 credentials", func(c *app.Config) { c.Objects.URL = "s3://bucket?endpoint=h:9000&path_style=true" }, "STOCKADE_OBJECTS_ACCESS_KEY", "needs"},
		{"s3 flag", func(c *app.Config) { c.Objects.URL = "s3://bucket?insecure=maybe" }, "STOCKADE_OBJECTS_URL", "insecure must be true or false"},
		{"signing key short", func(c *app.Config) { c.Storage.SigningKey = "c2hvcnQ" }, "STOCKADE_STORAGE_SIGNING_KEY", "at least 32 bytes"},
		{"master key shape", func(c *app.Config) { c.Storage.MasterKey = "not base64!" }, "STOCKADE_STORAGE_MASTER_KEY", "base64url"},
		{"encrypt list", func(c *app.Config) { c.Storage.Encrypt = "all,some" }, "STOCKADE_STORAGE_ENCRYPT", "shop IDs"},
		{"metrics listen", func(c *app.Config) { c.Metrics.Enabled, c.Metrics.Listen = true, "9464" }, "STOCKADE_METRICS_LISTEN", "host:port"},
		{"metrics on the api address", func(c *app.Config) { c.Metrics.Enabled, c.Metrics.Listen = true, c.HTTP.Addr }, "STOCKADE_METRICS_LISTEN", "must differ from STOCKADE_HTTP_ADDR"},
		{"metrics default on the api address", func(c *app.Config) { c.Metrics.Enabled, c.HTTP.Addr = true, app.DefaultMetricsListen }, "STOCKADE_METRICS_LISTEN", "must differ from STOCKADE_HTTP_ADDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := app.Default()
			tt.give(&cfg)
			err := cfg.Validate()
			if err == nil {
				t.Fatal("Validate succeeded, want an error")
			}
			if !strings.HasPrefix(err.Error(), tt.setting+": ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %q, want %q naming %s", err, tt.want, tt.setting)
			}
			var se *app.SettingError
			if !errors.As(err, &se) || se.Setting != tt.setting {
				t.Errorf("Validate = %#v, want a *SettingError for %s", err, tt.setting)
			}
			if !errors.Is(err, ports.ErrInvalid) {
				t.Error("a setting error does not match ports.ErrInvalid")
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := app.Default()
	cfg.Log.Level = "loud"
	cfg.HTTP.Addr = "nope"
	err := cfg.Validate()
	for _, s := range []string{"STOCKADE_LOG_LEVEL", "STOCKADE_HTTP_ADDR"} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("Validate = %v, want it to name %s", err, s)
		}
	}
}

func TestValidateNeverShowsPassword(t *testing.T) {
	const secret = "Zq9xKw"
	urls := []string{
		"postgres://app:" + secret + "%zz@db/stockade",       // bad escape inside the password
		"postgres://app:" + secret + "/x@db/stockade",        // unescaped slash in the password
		"postgres://app:" + secret + "@db:notaport/stockade", // bad port
		"mysql://app:" + secret + "@db/stockade",             // unknown scheme
		"postgres://app:" + secret + "@db\x7f/stockade",      // control character
	}
	for _, u := range urls {
		for _, field := range []string{"url", "migrate"} {
			cfg := app.Default()
			cfg.Database.URL = u
			if field == "migrate" {
				cfg.Database.URL = "postgres://app@db/stockade"
				cfg.Database.MigrateURL = u
			}
			err := cfg.Validate()
			if err == nil {
				t.Errorf("%s %q validated, want an error", field, u)
				continue
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "%zz") {
				t.Errorf("Validate(%s) leaks the password: %v", field, err)
			}
		}
	}
}
