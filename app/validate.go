package app

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"go.uber.org/zap/zapcore"

	"github.com/stockadehq/stockade/adapters/s3"
	"github.com/stockadehq/stockade/adapters/sqlite"
	"github.com/stockadehq/stockade/ports"
)

// SettingError is one configuration problem. Setting is the environment
// variable that names the setting (the TOML key is its lower-case,
// dotted twin); Problem says what is wrong and never contains a secret.
// It matches ports.ErrInvalid.
type SettingError struct {
	Setting string
	Problem string
}

func (e *SettingError) Error() string { return e.Setting + ": " + e.Problem }

// Is reports whether target is ports.ErrInvalid.
func (e *SettingError) Is(target error) bool { return target == ports.ErrInvalid }

func problem(setting, format string, args ...any) error {
	return &SettingError{Setting: setting, Problem: fmt.Sprintf(format, args...)}
}

// Database URL schemes.
const (
	schemeSQLite     = "sqlite"
	schemePostgres   = "postgres"
	schemePostgreSQL = "postgresql"
	schemeFile       = "file"
	schemeS3         = "s3"
)

// Validate checks every setting and returns nil or one *SettingError per
// problem, joined with errors.Join. No message contains a URL's password.
func (c Config) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if strings.TrimSpace(c.DataDir) == "" {
		add(problem("STOCKADE_DATA_DIR", "must not be empty"))
	} else if strings.ContainsRune(c.DataDir, 0) {
		add(problem("STOCKADE_DATA_DIR", "contains a NUL byte"))
	}
	dbScheme, err := validateDatabaseURL(c.DatabaseURL())
	add(err)
	add(validateMigrateURL(c.Database.MigrateURL, dbScheme))
	add(validateObjectsURL(c.ObjectsURL()))
	add(validateAddr(c.HTTP.Addr))
	add(validatePublicURL(c.HTTP.PublicURL))
	if c.Tenancy.InvitationTTL < 0 {
		add(problem("STOCKADE_TENANCY_INVITATION_TTL", "must not be negative, got %s", c.Tenancy.InvitationTTL))
	}
	for _, err := range c.HTTP.validate() {
		add(err)
	}
	for _, err := range c.Metrics.validate(c.HTTP.Addr) {
		add(err)
	}
	for _, err := range c.Tracing.validate() {
		add(err)
	}
	for _, err := range c.Links.validate() {
		add(err)
	}
	for _, err := range c.Housekeeping.validate() {
		add(err)
	}
	for _, err := range c.Auth.validate() {
		add(err)
	}
	for _, err := range c.Storage.validate() {
		add(err)
	}
	for _, err := range c.Messaging.validate() {
		add(err)
	}
	for _, err := range c.Stripe.validate() {
		add(err)
	}
	for _, err := range c.validateSenders() {
		add(err)
	}
	if schemeOf(c.ObjectsURL()) == schemeS3 && (c.Objects.AccessKey == "" || c.Objects.SecretKey == "") {
		add(problem("STOCKADE_OBJECTS_ACCESS_KEY", "an s3:// store needs STOCKADE_OBJECTS_ACCESS_KEY and STOCKADE_OBJECTS_SECRET_KEY"))
	}
	if c.HTTP.ShutdownTimeout <= 0 {
		add(problem("STOCKADE_HTTP_SHUTDOWN_TIMEOUT", "must be positive, got %s", c.HTTP.ShutdownTimeout))
	}
	switch c.Log.Format {
	case LogFormatConsole, LogFormatJSON:
	default:
		add(problem("STOCKADE_LOG_FORMAT", "unknown format %q (want console or json)", c.Log.Format))
	}
	if _, err := parseLevel(c.Log.Level); err != nil {
		add(err)
	}
	switch c.Env {
	case EnvDevelopment, EnvProduction:
	default:
		add(problem("STOCKADE_ENV", "unknown environment %q (want development or production)", c.Env))
	}
	return errors.Join(errs...)
}

// parseLevel parses a log level name; only the levels an operator should
// set are accepted.
func parseLevel(s string) (zapcore.Level, error) {
	switch strings.ToLower(s) {
	case "debug", "info", "warn", "error":
		return zapcore.ParseLevel(strings.ToLower(s))
	}
	return 0, problem("STOCKADE_LOG_LEVEL", "unknown level %q (want debug, info, warn or error)", s)
}

// schemeOf returns the lower-cased scheme of raw ("" when it has none)
// without parsing the rest, so it is safe to report.
func schemeOf(raw string) string {
	s, _, ok := strings.Cut(raw, ":")
	if !ok || s == "" {
		return ""
	}
	for i, r := range s {
		alpha := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		other := r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'
		if !alpha && (i == 0 || !other) {
			return ""
		}
	}
	return strings.ToLower(s)
}

// parseURL parses raw for setting and reports a malformed URL without
// echoing any part of it: the parser's message quotes the offending
// characters, which may belong to the password.
func parseURL(setting, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err == nil {
		return u, nil
	}
	var esc url.EscapeError
	var host url.InvalidHostError
	switch {
	case errors.As(err, &esc):
		return nil, problem(setting, "malformed URL: invalid percent-escape (a literal %% in a password must be written %%25)")
	case errors.As(err, &host):
		return nil, problem(setting, "malformed URL: invalid character in host")
	}
	return nil, problem(setting, "malformed URL (characters such as @ : / ? # %% in the user name or password must be percent-encoded)")
}

// validateDatabaseURL checks the store URL and returns its scheme.
func validateDatabaseURL(raw string) (string, error) {
	const setting = "STOCKADE_DATABASE_URL"
	switch s := schemeOf(raw); s {
	case schemeSQLite:
		if _, err := sqlite.ParseURL(raw); err != nil {
			var inv *ports.InvalidError
			if errors.As(err, &inv) {
				return s, problem(setting, "%s", inv.Reason)
			}
			return s, problem(setting, "malformed sqlite URL")
		}
		return s, nil
	case schemePostgres, schemePostgreSQL:
		return schemePostgres, validatePostgresURL(setting, raw)
	case "":
		return "", problem(setting, "not a URL (want sqlite:///path/to/stockade.db or postgres://user:password@host:5432/db)")
	default:
		return s, problem(setting, "unknown scheme %q (want sqlite:// or postgres://)", s)
	}
}

// validatePostgresURL checks the URL shape only; whether the server answers
// is the adapter's business.
func validatePostgresURL(setting, raw string) error {
	u, err := parseURL(setting, raw)
	if err != nil {
		return err
	}
	if u.Opaque != "" {
		return problem(setting, "malformed URL: want postgres://user:password@host:port/database")
	}
	if u.Port() != "" {
		if _, err := strconv.ParseUint(u.Port(), 10, 16); err != nil {
			return problem(setting, "malformed URL: port must be a number between 0 and 65535")
		}
	}
	return nil
}

func validateMigrateURL(raw, dbScheme string) error {
	const setting = "STOCKADE_DATABASE_MIGRATE_URL"
	if raw == "" {
		return nil
	}
	switch s := schemeOf(raw); s {
	case schemePostgres, schemePostgreSQL:
	case "":
		return problem(setting, "not a URL (want postgres://owner:password@host:5432/db)")
	default:
		return problem(setting, "unknown scheme %q (want postgres://, the schema owner role)", s)
	}
	if dbScheme != schemePostgres {
		return problem(setting, "is set but STOCKADE_DATABASE_URL is not a Postgres URL (SQLite migrates through STOCKADE_DATABASE_URL)")
	}
	return validatePostgresURL(setting, raw)
}

func validateObjectsURL(raw string) error {
	const setting = "STOCKADE_OBJECTS_URL"
	switch s := schemeOf(raw); s {
	case schemeFile:
		_, err := objectsDir(raw)
		return err
	case schemeS3:
		return validateS3URL(setting, raw)
	case "":
		return problem(setting, "not a URL (want file:///path/to/dir or s3://bucket?endpoint=host:port&region=name)")
	default:
		return problem(setting, "unknown scheme %q (want file:// or s3://)", s)
	}
}

// objectsDir returns the directory of a file:// objects URL:
// file:///abs/dir, file://localhost/abs/dir or file:relative/dir.
func objectsDir(raw string) (string, error) {
	const setting = "STOCKADE_OBJECTS_URL"
	u, err := parseURL(setting, raw)
	if err != nil {
		return "", err
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", problem(setting, "file URLs take no query or fragment")
	}
	if u.Opaque != "" {
		p, err := url.PathUnescape(u.Opaque)
		if err != nil {
			return "", problem(setting, "malformed URL: invalid percent-escape")
		}
		return p, nil
	}
	if u.Host != "" && u.Host != "localhost" {
		return "", problem(setting, "file URL names host %q; want file:///absolute/path", u.Host)
	}
	if u.Path == "" || u.Path == "/" {
		return "", problem(setting, "file URL needs a directory, e.g. file:///var/lib/stockade/objects")
	}
	return u.Path, nil
}

// validateS3URL checks the shape s3://bucket?endpoint=host:port&region=name.
// The S3 adapter does the rest.
func validateS3URL(setting, raw string) error {
	u, err := parseURL(setting, raw)
	if err != nil {
		return err
	}
	if !validBucket(u.Hostname()) || u.Port() != "" {
		return problem(setting, "needs a valid bucket name as host (3–63 of a-z 0-9 . -), e.g. s3://my-bucket?region=us-east-1")
	}
	if u.Path != "" && u.Path != "/" {
		return problem(setting, "takes no path after the bucket")
	}
	for name := range u.Query() {
		switch name {
		case "endpoint", "region", "path_style", "insecure", "sse", "create_bucket":
		default:
			return problem(setting, "unknown parameter %q (want endpoint, region, path_style, insecure, sse, create_bucket)", name)
		}
	}
	if ep := u.Query().Get("endpoint"); ep != "" {
		host, port, err := net.SplitHostPort(ep)
		if err != nil {
			host, port = ep, ""
		}
		if host == "" || strings.ContainsAny(host, "/@?#") {
			return problem(setting, "endpoint must be host or host:port, e.g. endpoint=127.0.0.1:9000")
		}
		if port != "" {
			if _, err := strconv.ParseUint(port, 10, 16); err != nil {
				return problem(setting, "endpoint port must be a number between 0 and 65535")
			}
		}
	}
	if _, err := s3.ParseURL(raw); err != nil {
		var inv *ports.InvalidError
		if errors.As(err, &inv) {
			return problem(setting, "%s: %s", inv.Field, inv.Reason)
		}
		return problem(setting, "malformed s3 URL")
	}
	return nil
}

// validBucket applies the S3 bucket naming rule: 3–63 lower-case letters,
// digits, dots and hyphens, starting and ending with a letter or digit.
func validBucket(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		edge := i == 0 || i == len(name)-1
		if !alnum && (edge || (c != '.' && c != '-')) {
			return false
		}
	}
	return true
}

func validateAddr(addr string) error {
	const setting = "STOCKADE_HTTP_ADDR"
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return problem(setting, "want host:port such as 127.0.0.1:8080 or :8080, got %q", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return problem(setting, "port must be a number between 0 and 65535, got %q", port)
	}
	return nil
}
