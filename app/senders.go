package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/stockadehq/stockade/adapters/console"
	"github.com/stockadehq/stockade/adapters/resend"
	"github.com/stockadehq/stockade/adapters/smtp"
	"github.com/stockadehq/stockade/adapters/twilio"
	"github.com/stockadehq/stockade/ports"
)

// Senders are the message providers NewSenders wires (MSG-1, MSG-2): the
// SMS and e-mail senders the outbox delivers through, what they promise,
// and the verifiers of the providers' inbound webhooks.
type Senders struct {
	SMS   ports.SMSSender
	Email ports.EmailSender
	// SMSDeduplicates and EmailDeduplicates say the provider honours
	// the messages' idempotency keys (Resend does; SMTP and Twilio's
	// Messages API do not), so the outbox may resend a message whose
	// previous attempt was interrupted during the provider call.
	SMSDeduplicates, EmailDeduplicates bool
	// TwilioWebhooks verifies X-Twilio-Signature with the auth token(s);
	// without the twilio provider it refuses every request.
	TwilioWebhooks ports.WebhookVerifier
	// ResendWebhooks verifies Resend's Svix signatures; without
	// STOCKADE_EMAIL_RESEND_WEBHOOK_SECRETS it refuses every request.
	ResendWebhooks ports.WebhookVerifier
	close          func() error
}

// Close releases the senders (the SMTP connections kept open).
func (s *Senders) Close() error {
	if s.close == nil {
		return nil
	}
	return s.close()
}

// SendersParts are what NewSenders builds on; zero fields are defaults.
type SendersParts struct {
	// Logger receives the console providers' messages and the other
	// providers' debug lines and warnings (never a body or a secret);
	// nil logs nothing.
	Logger *zap.Logger
	Clock  ports.Clock
}

// NewSenders builds the SMS and e-mail senders and the webhook verifiers
// cfg selects, without fx. Nothing is contacted: a provider that is down
// does not stop the start. Errors name the setting and never hold a
// secret.
func NewSenders(cfg Config, p SendersParts) (*Senders, error) {
	log := p.Logger
	if log == nil {
		log = zap.NewNop()
	}
	out := &Senders{
		TwilioWebhooks: unconfiguredWebhooks{"twilio", "STOCKADE_SMS_PROVIDER=twilio and STOCKADE_SMS_TWILIO_AUTH_TOKEN"},
		ResendWebhooks: unconfiguredWebhooks{"resend", "STOCKADE_EMAIL_RESEND_WEBHOOK_SECRETS"},
	}
	s := cfg.SMS
	switch s.provider() {
	case ProviderConsole:
		c, err := console.NewSender(log.Named("sms"), console.Redaction(s.ConsoleRedact))
		if err != nil {
			return nil, problem("STOCKADE_SMS_CONSOLE_REDACT", "%v", err)
		}
		out.SMS = c
	case ProviderTwilio:
		tw, err := twilio.New(twilio.Config{
			AccountSID: s.TwilioAccountSID, AuthToken: twilio.Secret(s.TwilioAuthToken),
			APIKeySID: s.TwilioAPIKeySID, APIKeySecret: twilio.Secret(s.TwilioAPIKeySecret),
			DefaultMessagingServiceSID: cfg.Messaging.DefaultMessagingServiceSID, Logger: log.Named("twilio"),
		})
		if err != nil {
			return nil, settingError("STOCKADE_SMS_TWILIO_ACCOUNT_SID", err)
		}
		tokens := []twilio.Secret{twilio.Secret(s.TwilioAuthToken)}
		if s.TwilioSecondaryAuthToken != "" {
			tokens = append(tokens, twilio.Secret(s.TwilioSecondaryAuthToken))
		}
		v, err := twilio.NewWebhookVerifier(tokens...)
		if err != nil {
			return nil, settingError("STOCKADE_SMS_TWILIO_AUTH_TOKEN", err)
		}
		out.SMS, out.TwilioWebhooks = tw, v
	default:
		return nil, problem("STOCKADE_SMS_PROVIDER", "unknown provider %q (want console or twilio)", s.Provider)
	}

	e := cfg.Email
	switch e.provider() {
	case ProviderConsole:
		c, err := console.NewSender(log.Named("email"), console.Redaction(e.consoleRedaction(cfg.Env)))
		if err != nil {
			return nil, problem("STOCKADE_EMAIL_CONSOLE_REDACT", "%v", err)
		}
		out.Email = c
	case ProviderSMTP:
		sc := smtp.Config{
			Host: e.SMTPHost, Port: e.SMTPPort, Username: e.SMTPUsername, Password: smtp.Secret(e.SMTPPassword),
			Timeout: e.SMTPTimeout, Clock: p.Clock, Logger: log.Named("smtp"),
		}
		switch strings.ToLower(e.SMTPTLS) {
		case SMTPTLSImplicit:
			sc.ImplicitTLS = true
		case SMTPTLSNone:
			sc.InsecurePlaintextLoopback = true
		}
		m, err := smtp.New(sc)
		if err != nil {
			return nil, settingError("STOCKADE_EMAIL_SMTP_HOST", err)
		}
		out.Email, out.close = m, m.Close
	case ProviderResend:
		r, err := resend.New(resend.Config{APIKey: resend.Secret(e.ResendAPIKey), Logger: log.Named("resend")})
		if err != nil {
			return nil, settingError("STOCKADE_EMAIL_RESEND_API_KEY", err)
		}
		out.Email, out.EmailDeduplicates = r, true
	default:
		return nil, problem("STOCKADE_EMAIL_PROVIDER", "unknown provider %q (want console, smtp or resend)", e.Provider)
	}
	if secrets := splitList(e.ResendWebhookSecrets); len(secrets) > 0 {
		wc := resend.WebhookConfig{Tolerance: e.ResendWebhookTolerance, Clock: p.Clock}
		for _, sec := range secrets {
			wc.Secrets = append(wc.Secrets, resend.Secret(sec))
		}
		v, err := resend.NewWebhookVerifier(wc)
		if err != nil {
			return nil, settingError("STOCKADE_EMAIL_RESEND_WEBHOOK_SECRETS", err)
		}
		out.ResendWebhooks = v
	}
	return out, nil
}

// settingError names the setting for an adapter's configuration error;
// the adapters' messages never hold a secret.
func settingError(setting string, err error) error {
	var inv *ports.InvalidError
	if errors.As(err, &inv) {
		return problem(setting, "%s: %s", inv.Field, inv.Reason)
	}
	return problem(setting, "%v", err)
}

// unconfiguredWebhooks refuses every webhook of a provider that is not
// configured, so its routes can be mounted and fail closed.
type unconfiguredWebhooks struct{ provider, needs string }

func (u unconfiguredWebhooks) Verify(context.Context, ports.WebhookRequest) error {
	return fmt.Errorf("%s webhooks are not configured (set %s): %w", u.provider, u.needs, ports.ErrUnauthenticated)
}

// loopbackHost reports whether host is localhost or a loopback IP.
func loopbackHost(host string) bool {
	host = strings.TrimSpace(host)
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// SendersModule provides the *Senders (see NewSenders) and, from it, the
// ports.SMSSender and ports.EmailSender — the console providers when
// nothing is configured, so `stockade serve` runs on a fresh machine.
// Swap a sender with fx.Decorate. The SMTP connections kept open are
// closed in OnStop.
func SendersModule() fx.Option {
	type params struct {
		fx.In
		Config    Config
		Logger    *zap.Logger
		Lifecycle fx.Lifecycle
		Clock     ports.Clock `optional:"true"`
	}
	return fx.Module("stockade.senders",
		fx.Provide(func(p params) (*Senders, error) {
			s, err := NewSenders(p.Config, SendersParts{Logger: p.Logger.Named("messaging"), Clock: p.Clock})
			if err != nil {
				return nil, err
			}
			p.Lifecycle.Append(fx.StopHook(s.Close))
			return s, nil
		}),
		fx.Provide(
			func(s *Senders) ports.SMSSender { return s.SMS },
			func(s *Senders) ports.EmailSender { return s.Email },
		),
	)
}
