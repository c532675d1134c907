package app

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	toml "github.com/knadh/koanf/parsers/toml/v2"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

// setting ties one Config field's koanf key to its environment variable.
type setting struct {
	key      string // koanf key, also the dotted TOML key
	env      string // environment variable
	duration bool   // value is a Go duration string
	integer  bool   // value is a whole number (a TOML integer)
	boolean  bool   // value is true or false (a TOML boolean)
}

// settings lists every configurable field. It is the one place that knows
// the environment variable names.
func settings() []setting {
	return []setting{
		{key: "data_dir", env: "STOCKADE_DATA_DIR"},
		{key: "database.url", env: "STOCKADE_DATABASE_URL"},
		{key: "database.migrate_url", env: "STOCKADE_DATABASE_MIGRATE_URL"},
		{key: "objects.url", env: "STOCKADE_OBJECTS_URL"},
		{key: "objects.access_key", env: "STOCKADE_OBJECTS_ACCESS_KEY"},
		{key: "objects.secret_key", env: "STOCKADE_OBJECTS_SECRET_KEY"},
		{key: "storage.signing_key", env: "STOCKADE_STORAGE_SIGNING_KEY"},
		{key: "storage.master_key", env: "STOCKADE_STORAGE_MASTER_KEY"},
		{key: "storage.encrypt", env: "STOCKADE_STORAGE_ENCRYPT"},
		{key: "storage.keys", env: "STOCKADE_STORAGE_KEYS"},
		{key: "storage.kms_region", env: "STOCKADE_STORAGE_KMS_REGION"},
		{key: "storage.kms_endpoint", env: "STOCKADE_STORAGE_KMS_ENDPOINT"},
		{key: "storage.kms_deletion_window_days", env: "STOCKADE_STORAGE_KMS_DELETION_WINDOW_DAYS", integer: true},
		{key: "http.addr", env: "STOCKADE_HTTP_ADDR"},
		{key: "http.shutdown_timeout", env: "STOCKADE_HTTP_SHUTDOWN_TIMEOUT", duration: true},
		{key: "http.public_url", env: "STOCKADE_HTTP_PUBLIC_URL"},
		{key: "http.trust_forwarded_for", env: "STOCKADE_HTTP_TRUST_FORWARDED_FOR", boolean: true},
		{key: "http.read_header_timeout", env: "STOCKADE_HTTP_READ_HEADER_TIMEOUT", duration: true},
		{key: "http.read_timeout", env: "STOCKADE_HTTP_READ_TIMEOUT", duration: true},
		{key: "http.write_timeout", env: "STOCKADE_HTTP_WRITE_TIMEOUT", duration: true},
		{key: "http.idle_timeout", env: "STOCKADE_HTTP_IDLE_TIMEOUT", duration: true},
		{key: "http.max_header_bytes", env: "STOCKADE_HTTP_MAX_HEADER_BYTES", integer: true},
		{key: "http.max_connections", env: "STOCKADE_HTTP_MAX_CONNECTIONS", integer: true},
		{key: "http.stream_window", env: "STOCKADE_HTTP_STREAM_WINDOW", duration: true},
		{key: "http.stream_min_rate", env: "STOCKADE_HTTP_STREAM_MIN_RATE", integer: true},
		{key: "auth.session_keys", env: "STOCKADE_AUTH_SESSION_KEYS"},
		{key: "auth.session_idle_timeout", env: "STOCKADE_AUTH_SESSION_IDLE_TIMEOUT", duration: true},
		{key: "auth.session_lifetime", env: "STOCKADE_AUTH_SESSION_LIFETIME", duration: true},
		{key: "auth.magic_link_ttl", env: "STOCKADE_AUTH_MAGIC_LINK_TTL", duration: true},
		{key: "auth.operator_session_lifetime", env: "STOCKADE_AUTH_OPERATOR_SESSION_LIFETIME", duration: true},
		{key: "auth.operator_idle_timeout", env: "STOCKADE_AUTH_OPERATOR_IDLE_TIMEOUT", duration: true},
		{key: "auth.impersonation_ttl", env: "STOCKADE_AUTH_IMPERSONATION_TTL", duration: true},
		{key: "auth.password_min_length", env: "STOCKADE_AUTH_PASSWORD_MIN_LENGTH", integer: true},
		{key: "auth.argon2_memory_kib", env: "STOCKADE_AUTH_ARGON2_MEMORY_KIB", integer: true},
		{key: "auth.argon2_iterations", env: "STOCKADE_AUTH_ARGON2_ITERATIONS", integer: true},
		{key: "auth.argon2_parallelism", env: "STOCKADE_AUTH_ARGON2_PARALLELISM", integer: true},
		{key: "auth.max_concurrent_hashes", env: "STOCKADE_AUTH_MAX_CONCURRENT_HASHES", integer: true},
		{key: "auth.google_client_id", env: "STOCKADE_AUTH_GOOGLE_CLIENT_ID"},
		{key: "auth.google_client_secret", env: "STOCKADE_AUTH_GOOGLE_CLIENT_SECRET"},
		{key: "auth.oidc_name", env: "STOCKADE_AUTH_OIDC_NAME"},
		{key: "auth.oidc_issuer", env: "STOCKADE_AUTH_OIDC_ISSUER"},
		{key: "auth.oidc_client_id", env: "STOCKADE_AUTH_OIDC_CLIENT_ID"},
		{key: "auth.oidc_client_secret", env: "STOCKADE_AUTH_OIDC_CLIENT_SECRET"},
		{key: "tenancy.invitation_ttl", env: "STOCKADE_TENANCY_INVITATION_TTL", duration: true},
		{key: "tenancy.reserved_slugs", env: "STOCKADE_TENANCY_RESERVED_SLUGS"},
		{key: "links.default_ttl", env: "STOCKADE_LINKS_DEFAULT_TTL", duration: true},
		{key: "links.max_ttl", env: "STOCKADE_LINKS_MAX_TTL", duration: true},
		{key: "links.export_ttl", env: "STOCKADE_LINKS_EXPORT_TTL", duration: true},
		{key: "housekeeping.interval", env: "STOCKADE_HOUSEKEEPING_INTERVAL", duration: true},
		{key: "housekeeping.grace", env: "STOCKADE_HOUSEKEEPING_GRACE", duration: true},
		{key: "housekeeping.message_retention", env: "STOCKADE_HOUSEKEEPING_MESSAGE_RETENTION", duration: true},
		{key: "housekeeping.upload_grace", env: "STOCKADE_HOUSEKEEPING_UPLOAD_GRACE", duration: true},
		{key: "housekeeping.off", env: "STOCKADE_HOUSEKEEPING_OFF", boolean: true},
		{key: "housekeeping.no_checkpoints", env: "STOCKADE_HOUSEKEEPING_NO_CHECKPOINTS", boolean: true},
		{key: "housekeeping.no_retention", env: "STOCKADE_HOUSEKEEPING_NO_RETENTION", boolean: true},
		{key: "housekeeping.retention_warnings", env: "STOCKADE_HOUSEKEEPING_RETENTION_WARNINGS"},
		{key: "housekeeping.checkpoint_every", env: "STOCKADE_HOUSEKEEPING_CHECKPOINT_EVERY", duration: true},
		{key: "messaging.webhook_url", env: "STOCKADE_MESSAGING_WEBHOOK_URL"},
		{key: "messaging.unsubscribe_keys", env: "STOCKADE_MESSAGING_UNSUBSCRIBE_KEYS"},
		{key: "messaging.default_service_sid", env: "STOCKADE_MESSAGING_DEFAULT_SERVICE_SID"},
		{key: "messaging.email_from", env: "STOCKADE_MESSAGING_EMAIL_FROM"},
		{key: "messaging.default_country_code", env: "STOCKADE_MESSAGING_DEFAULT_COUNTRY_CODE"},
		{key: "messaging.outbox_concurrency", env: "STOCKADE_MESSAGING_OUTBOX_CONCURRENCY", integer: true},
		{key: "stripe.api_key", env: "STOCKADE_STRIPE_API_KEY"},
		{key: "stripe.webhook_secrets", env: "STOCKADE_STRIPE_WEBHOOK_SECRETS"},
		{key: "stripe.connect_webhook_secrets", env: "STOCKADE_STRIPE_CONNECT_WEBHOOK_SECRETS"},
		{key: "stripe.webhook_tolerance", env: "STOCKADE_STRIPE_WEBHOOK_TOLERANCE", duration: true},
		{key: "stripe.plans", env: "STOCKADE_STRIPE_PLANS"},
		{key: "stripe.retention_days", env: "STOCKADE_STRIPE_RETENTION_DAYS", integer: true},
		{key: "stripe.connect_country", env: "STOCKADE_STRIPE_CONNECT_COUNTRY"},
		{key: "stripe.api_url", env: "STOCKADE_STRIPE_API_URL"},
		{key: "sms.provider", env: "STOCKADE_SMS_PROVIDER"},
		{key: "sms.twilio_account_sid", env: "STOCKADE_SMS_TWILIO_ACCOUNT_SID"},
		{key: "sms.twilio_auth_token", env: "STOCKADE_SMS_TWILIO_AUTH_TOKEN"},
		{key: "sms.twilio_secondary_auth_token", env: "STOCKADE_SMS_TWILIO_SECONDARY_AUTH_TOKEN"},
		{key: "sms.twilio_api_key_sid", env: "STOCKADE_SMS_TWILIO_API_KEY_SID"},
		{key: "sms.twilio_api_key_secret", env: "STOCKADE_SMS_TWILIO_API_KEY_SECRET"},
		{key: "sms.console_redact", env: "STOCKADE_SMS_CONSOLE_REDACT"},
		{key: "email.provider", env: "STOCKADE_EMAIL_PROVIDER"},
		{key: "email.smtp_host", env: "STOCKADE_EMAIL_SMTP_HOST"},
		{key: "email.smtp_port", env: "STOCKADE_EMAIL_SMTP_PORT", integer: true},
		{key: "email.smtp_username", env: "STOCKADE_EMAIL_SMTP_USERNAME"},
		{key: "email.smtp_password", env: "STOCKADE_EMAIL_SMTP_PASSWORD"},
		{key: "email.smtp_tls", env: "STOCKADE_EMAIL_SMTP_TLS"},
		{key: "email.smtp_timeout", env: "STOCKADE_EMAIL_SMTP_TIMEOUT", duration: true},
		{key: "email.resend_api_key", env: "STOCKADE_EMAIL_RESEND_API_KEY"},
		{key: "email.resend_webhook_secrets", env: "STOCKADE_EMAIL_RESEND_WEBHOOK_SECRETS"},
		{key: "email.resend_webhook_tolerance", env: "STOCKADE_EMAIL_RESEND_WEBHOOK_TOLERANCE", duration: true},
		{key: "email.console_redact", env: "STOCKADE_EMAIL_CONSOLE_REDACT"},
		{key: "email.allow_console", env: "STOCKADE_EMAIL_ALLOW_CONSOLE", boolean: true},
		{key: "log.format", env: "STOCKADE_LOG_FORMAT"},
		{key: "log.level", env: "STOCKADE_LOG_LEVEL"},
		{key: "metrics.enabled", env: "STOCKADE_METRICS_ENABLED", boolean: true},
		{key: "metrics.listen", env: "STOCKADE_METRICS_LISTEN"},
		{key: "tracing.enabled", env: "STOCKADE_TRACING_ENABLED", boolean: true},
		{key: "tracing.endpoint", env: "STOCKADE_TRACING_ENDPOINT"},
		{key: "env", env: "STOCKADE_ENV"},
	}
}

// LoadConfig builds a Config from, in increasing precedence: Default, the
// TOML file at path file (skipped when file is ""), and the STOCKADE_*
// variables in environ (KEY=value strings, as os.Environ returns them).
// LoadConfig never reads the process environment itself.
//
// An empty variable counts as unset. Unknown STOCKADE_* variables are
// ignored (tests and tools use the prefix too), but an unknown key in the
// file is an error, so a typo cannot silently fall back to a default. The
// result is not validated; call Config.Validate.
func LoadConfig(environ []string, file string) (Config, error) {
	k := koanf.New(".")
	if file != "" {
		if err := loadFile(k, file); err != nil {
			return Config{}, err
		}
	}
	var envErrs []error
	if err := k.Load(env.Provider(".", env.Opt{
		Prefix:        "STOCKADE_",
		EnvironFunc:   func() []string { return environ },
		TransformFunc: envTransform(&envErrs),
	}), nil); err != nil {
		return Config{}, fmt.Errorf("read environment: %w", err)
	}
	if err := errors.Join(envErrs...); err != nil {
		return Config{}, err
	}

	cfg := Default()
	if err := k.Unmarshal("", &cfg); err != nil {
		return Config{}, fmt.Errorf("decode configuration: %w", err)
	}
	if !k.Exists("log.format") && cfg.Env == EnvProduction {
		cfg.Log.Format = LogFormatJSON
	}
	return cfg, nil
}

// loadFile merges the TOML file at path into k after checking that it sets
// only known keys, each to a value of the right type.
func loadFile(k *koanf.Koanf, path string) error {
	fk := koanf.New(".")
	if err := fk.Load(file.Provider(path), toml.Parser()); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	known := map[string]setting{}
	for _, s := range settings() {
		known[s.key] = s
	}
	var errs []error
	keys := fk.Keys()
	slices.Sort(keys)
	for _, key := range keys {
		s, ok := known[key]
		if !ok {
			errs = append(errs, fmt.Errorf("config file %s: unknown setting %q", path, key))
			continue
		}
		raw := fk.Get(key)
		v, isString := raw.(string)
		switch {
		case s.integer:
			if _, ok := raw.(int64); !ok {
				errs = append(errs, fmt.Errorf("config file %s: %s: want a whole number", path, key))
			}
		case s.boolean:
			if _, ok := raw.(bool); !ok {
				errs = append(errs, fmt.Errorf("config file %s: %s: want true or false", path, key))
			}
		case !isString && s.duration:
			errs = append(errs, fmt.Errorf("config file %s: %s: want a duration string such as \"10s\"", path, key))
		case !isString:
			errs = append(errs, fmt.Errorf("config file %s: %s: want a string", path, key))
		case s.duration:
			if _, err := time.ParseDuration(v); err != nil {
				errs = append(errs, fmt.Errorf("config file %s: %s: invalid duration %q (want e.g. \"10s\")", path, key, v))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return k.Merge(fk)
}

// envTransform maps a known STOCKADE_* variable to its koanf key, drops
// unknown and empty ones, and records malformed durations in errs (the env
// provider's transform cannot return an error).
func envTransform(errs *[]error) func(key, value string) (string, any) {
	byEnv := map[string]setting{}
	for _, s := range settings() {
		byEnv[s.env] = s
	}
	return func(key, value string) (string, any) {
		s, ok := byEnv[key]
		if !ok || strings.TrimSpace(value) == "" {
			return "", nil
		}
		switch {
		case s.duration:
			if _, err := time.ParseDuration(value); err != nil {
				*errs = append(*errs, fmt.Errorf("%s: invalid duration %q (want e.g. 10s)", s.env, value))
				return "", nil
			}
		case s.integer:
			n, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil {
				*errs = append(*errs, fmt.Errorf("%s: invalid whole number %q", s.env, value))
				return "", nil
			}
			return s.key, n
		case s.boolean:
			b, err := strconv.ParseBool(strings.TrimSpace(value))
			if err != nil {
				*errs = append(*errs, fmt.Errorf("%s: invalid boolean %q (want true or false)", s.env, value))
				return "", nil
			}
			return s.key, b
		}
		return s.key, value
	}
}
