package app

import (
	"strings"
	"time"

	"github.com/stockadehq/stockade/adapters/console"
	"github.com/stockadehq/stockade/adapters/twilio"
)

// Message providers (SMSConfig.Provider, EmailConfig.Provider).
const (
	ProviderConsole = "console"
	ProviderTwilio  = "twilio"
	ProviderSMTP    = "smtp"
	ProviderResend  = "resend"
)

// SMTP TLS modes (EmailConfig.SMTPTLS).
const (
	SMTPTLSStartTLS = "starttls"
	SMTPTLSImplicit = "implicit"
	SMTPTLSNone     = "none"
)

// SMSConfig selects and authenticates the SMS provider (MSG-1, MSG-2).
// Secrets here never reach a log or an error message.
type SMSConfig struct {
	// Provider is "console" (messages go to the log, the embedded
	// default) or "twilio". STOCKADE_SMS_PROVIDER, default "console".
	Provider string `koanf:"provider"`
	// TwilioAccountSID (AC…) and TwilioAuthToken authenticate to Twilio;
	// the auth token also verifies inbound webhooks and is needed even
	// with an API key. STOCKADE_SMS_TWILIO_ACCOUNT_SID,
	// STOCKADE_SMS_TWILIO_AUTH_TOKEN.
	TwilioAccountSID string `koanf:"twilio_account_sid"`
	TwilioAuthToken  string `koanf:"twilio_auth_token"`
	// TwilioSecondaryAuthToken is the previous auth token while Twilio
	// rotates it: webhooks signed with either verify.
	// STOCKADE_SMS_TWILIO_SECONDARY_AUTH_TOKEN.
	TwilioSecondaryAuthToken string `koanf:"twilio_secondary_auth_token"`
	// TwilioAPIKeySID (SK…) and TwilioAPIKeySecret, when set, authenticate
	// API calls instead of the auth token. STOCKADE_SMS_TWILIO_API_KEY_SID,
	// STOCKADE_SMS_TWILIO_API_KEY_SECRET.
	TwilioAPIKeySID    string `koanf:"twilio_api_key_sid"`
	TwilioAPIKeySecret string `koanf:"twilio_api_key_secret"`
	// The platform's default Messaging Service for transactional SMS is
	// Messaging.DefaultMessagingServiceSID
	// (STOCKADE_MESSAGING_DEFAULT_SERVICE_SID).
	// ConsoleRedact is what the console provider hides: "bodies"
	// (default), "links" or "none" (refused in production).
	// STOCKADE_SMS_CONSOLE_REDACT.
	ConsoleRedact string `koanf:"console_redact"`
}

// EmailConfig selects and authenticates the e-mail provider (MSG-1,
// MSG-2). Secrets here never reach a log or an error message.
type EmailConfig struct {
	// Provider is "console" (messages go to the log, the embedded
	// default), "smtp" or "resend". STOCKADE_EMAIL_PROVIDER, default
	// "console".
	Provider string `koanf:"provider"`
	// SMTPHost and SMTPPort reach the SMTP server (port default 587, or
	// 465 with implicit TLS). STOCKADE_EMAIL_SMTP_HOST,
	// STOCKADE_EMAIL_SMTP_PORT.
	SMTPHost string `koanf:"smtp_host"`
	SMTPPort int    `koanf:"smtp_port"`
	// SMTPUsername and SMTPPassword authenticate (SMTP AUTH).
	// STOCKADE_EMAIL_SMTP_USERNAME, STOCKADE_EMAIL_SMTP_PASSWORD.
	SMTPUsername string `koanf:"smtp_username"`
	SMTPPassword string `koanf:"smtp_password"`
	// SMTPTLS is "starttls" (default: required, verified), "implicit"
	// (TLS from the first byte, port 465) or "none" (plain text, allowed
	// only to a loopback host). STOCKADE_EMAIL_SMTP_TLS.
	SMTPTLS string `koanf:"smtp_tls"`
	// SMTPTimeout bounds connecting and each SMTP command.
	// STOCKADE_EMAIL_SMTP_TIMEOUT, default 15s.
	SMTPTimeout time.Duration `koanf:"smtp_timeout"`
	// ResendAPIKey (re_…) authenticates to Resend.
	// STOCKADE_EMAIL_RESEND_API_KEY.
	ResendAPIKey string `koanf:"resend_api_key"`
	// ResendWebhookSecrets are the signing secrets (whsec_…) of the
	// Resend webhook endpoint, comma-separated: the current one and,
	// while rotating, the previous. Unset, Resend webhooks are refused.
	// STOCKADE_EMAIL_RESEND_WEBHOOK_SECRETS.
	ResendWebhookSecrets string `koanf:"resend_webhook_secrets"`
	// ResendWebhookTolerance is how far a webhook's timestamp may be from
	// now. STOCKADE_EMAIL_RESEND_WEBHOOK_TOLERANCE, default 5m.
	ResendWebhookTolerance time.Duration `koanf:"resend_webhook_tolerance"`
	// ConsoleRedact is what the console provider hides: "bodies", "links"
	// or "none". Unset, it is "none" in development (the console prints
	// each mail, sign-in links included: reading them is its purpose on a
	// developer's machine) and "bodies" (envelope only) in every other
	// environment, where "links" and "none" are refused (see
	// consoleRedaction). STOCKADE_EMAIL_CONSOLE_REDACT.
	ConsoleRedact string `koanf:"console_redact"`
	// AllowConsole lets a production server run with the console
	// provider, which writes each mail to the log (envelope only: to,
	// subject, ID) instead of sending it, so sign-in links and invitations
	// never reach anyone. Without it production refuses the console
	// provider. STOCKADE_EMAIL_ALLOW_CONSOLE, default false.
	AllowConsole bool `koanf:"allow_console"`
}

// smsProvider and emailProvider return the provider, "" meaning console.
func (s SMSConfig) provider() string {
	if p := strings.ToLower(strings.TrimSpace(s.Provider)); p != "" {
		return p
	}
	return ProviderConsole
}

// consoleRedaction returns the console e-mail provider's redaction in env:
// the setting when set, else "none" in development and "bodies" in every
// other environment.
func (e EmailConfig) consoleRedaction(env string) string {
	if strings.TrimSpace(e.ConsoleRedact) != "" {
		return e.ConsoleRedact
	}
	if env == EnvDevelopment {
		return string(console.RedactNone)
	}
	return string(console.RedactBodies)
}

func (e EmailConfig) provider() string {
	if p := strings.ToLower(strings.TrimSpace(e.Provider)); p != "" {
		return p
	}
	return ProviderConsole
}

// validateSenders returns one *SettingError per problem with the SMS and
// e-mail settings. Messages name settings, never values of secrets.
func (c Config) validateSenders() []error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	s, e := c.SMS, c.Email
	for _, r := range []struct{ env, v string }{
		{"STOCKADE_SMS_CONSOLE_REDACT", s.ConsoleRedact},
		{"STOCKADE_EMAIL_CONSOLE_REDACT", e.ConsoleRedact},
	} {
		red, err := console.ParseRedaction(r.v)
		switch {
		case err != nil:
			add(problem(r.env, "want bodies, links or none, got %q", r.v))
		case red != console.RedactBodies && c.Env != EnvDevelopment:
			add(problem(r.env, "%s shows message bodies in the log; only bodies (the default) is allowed outside development", red))
		}
	}
	switch s.provider() {
	case ProviderConsole:
	case ProviderTwilio:
		if !twilio.ValidSID("AC", s.TwilioAccountSID) {
			add(problem("STOCKADE_SMS_TWILIO_ACCOUNT_SID", "want AC followed by 32 hex digits"))
		}
		if !alnumSecret(s.TwilioAuthToken) {
			add(problem("STOCKADE_SMS_TWILIO_AUTH_TOKEN", "must be set with the twilio provider (letters and digits)"))
		}
		if s.TwilioSecondaryAuthToken != "" && !alnumSecret(s.TwilioSecondaryAuthToken) {
			add(problem("STOCKADE_SMS_TWILIO_SECONDARY_AUTH_TOKEN", "letters and digits only"))
		}
		if s.TwilioAPIKeySID != "" || s.TwilioAPIKeySecret != "" {
			if !twilio.ValidSID("SK", s.TwilioAPIKeySID) {
				add(problem("STOCKADE_SMS_TWILIO_API_KEY_SID", "want SK followed by 32 hex digits, with STOCKADE_SMS_TWILIO_API_KEY_SECRET"))
			}
			if !alnumSecret(s.TwilioAPIKeySecret) {
				add(problem("STOCKADE_SMS_TWILIO_API_KEY_SECRET", "must be set with STOCKADE_SMS_TWILIO_API_KEY_SID (letters and digits)"))
			}
		}
		if d := c.Messaging.DefaultMessagingServiceSID; d != "" && !twilio.ValidSID("MG", d) {
			add(problem("STOCKADE_MESSAGING_DEFAULT_SERVICE_SID", "want MG followed by 32 hex digits"))
		}
	default:
		add(problem("STOCKADE_SMS_PROVIDER", "unknown provider %q (want console or twilio)", s.Provider))
	}
	switch e.provider() {
	case ProviderConsole:
		if c.Env == EnvProduction && !e.AllowConsole {
			add(problem("STOCKADE_EMAIL_ALLOW_CONSOLE", "the console e-mail provider writes mail to the log instead of sending it, so sign-in links and invitations reach no one; set STOCKADE_EMAIL_PROVIDER to smtp or resend, or STOCKADE_EMAIL_ALLOW_CONSOLE=true"))
		}
	case ProviderSMTP:
		if strings.TrimSpace(e.SMTPHost) == "" {
			add(problem("STOCKADE_EMAIL_SMTP_HOST", "must be set with the smtp provider"))
		}
		if e.SMTPPort < 0 || e.SMTPPort > 65535 {
			add(problem("STOCKADE_EMAIL_SMTP_PORT", "want 1 to 65535, got %d", e.SMTPPort))
		}
		if (e.SMTPUsername == "") != (e.SMTPPassword == "") {
			add(problem("STOCKADE_EMAIL_SMTP_USERNAME", "set it with STOCKADE_EMAIL_SMTP_PASSWORD, or neither"))
		}
		switch strings.ToLower(e.SMTPTLS) {
		case "", SMTPTLSStartTLS, SMTPTLSImplicit:
		case SMTPTLSNone:
			if !loopbackHost(e.SMTPHost) {
				add(problem("STOCKADE_EMAIL_SMTP_TLS", "none (plain text) is allowed only to a loopback host (localhost, 127.0.0.1, ::1)"))
			}
		default:
			add(problem("STOCKADE_EMAIL_SMTP_TLS", "want starttls, implicit or none, got %q", e.SMTPTLS))
		}
		if e.SMTPTimeout < 0 {
			add(problem("STOCKADE_EMAIL_SMTP_TIMEOUT", "must not be negative, got %s", e.SMTPTimeout))
		}
	case ProviderResend:
		if strings.TrimSpace(e.ResendAPIKey) == "" {
			add(problem("STOCKADE_EMAIL_RESEND_API_KEY", "must be set with the resend provider"))
		}
	default:
		add(problem("STOCKADE_EMAIL_PROVIDER", "unknown provider %q (want console, smtp or resend)", e.Provider))
	}
	if e.ResendWebhookSecrets != "" {
		for i, sec := range splitList(e.ResendWebhookSecrets) {
			if !strings.HasPrefix(sec, "whsec_") || len(sec) < len("whsec_")+16 {
				add(problem("STOCKADE_EMAIL_RESEND_WEBHOOK_SECRETS", "secret %d: want whsec_ followed by base64", i+1))
			}
		}
	}
	if e.ResendWebhookTolerance < 0 {
		add(problem("STOCKADE_EMAIL_RESEND_WEBHOOK_TOLERANCE", "must not be negative, got %s", e.ResendWebhookTolerance))
	}
	return errs
}

// splitList splits a comma-separated setting, dropping blanks.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func alnumSecret(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}
