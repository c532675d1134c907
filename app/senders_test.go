package app_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"hash"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/internal/smtptest"
	"github.com/stockadehq/stockade/ports"
)

const (
	twAccount = "AC0123456789abcdef0123456789abcdef"
	twToken   = "f00dfeedf00dfeedf00dfeedf00dfeed"
	twToken2  = "0123abcd0123abcd0123abcd0123abcd"
	whSecret  = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
)

func sendersEnv() []string {
	return []string{
		"STOCKADE_SMS_PROVIDER=twilio",
		"STOCKADE_SMS_TWILIO_ACCOUNT_SID=" + twAccount,
		"STOCKADE_SMS_TWILIO_AUTH_TOKEN=" + twToken,
		"STOCKADE_SMS_TWILIO_SECONDARY_AUTH_TOKEN=" + twToken2,
		"STOCKADE_SMS_TWILIO_API_KEY_SID=SKfedcba9876543210fedcba9876543210",
		"STOCKADE_SMS_TWILIO_API_KEY_SECRET=k3ySecret",
		"STOCKADE_MESSAGING_DEFAULT_SERVICE_SID=MGffffffffffffffffffffffffffffffff",
		"STOCKADE_SMS_CONSOLE_REDACT=links",
		"STOCKADE_EMAIL_PROVIDER=smtp",
		"STOCKADE_EMAIL_SMTP_HOST=smtp.example.com",
		"STOCKADE_EMAIL_SMTP_PORT=2525",
		"STOCKADE_EMAIL_SMTP_USERNAME=mailer",
		"STOCKADE_EMAIL_SMTP_PASSWORD=smtp-pw-77",
		"STOCKADE_EMAIL_SMTP_TLS=implicit",
		"STOCKADE_EMAIL_SMTP_TIMEOUT=20s",
		"STOCKADE_EMAIL_RESEND_API_KEY=re_key_88",
		"STOCKADE_EMAIL_RESEND_WEBHOOK_SECRETS=" + whSecret,
		"STOCKADE_EMAIL_RESEND_WEBHOOK_TOLERANCE=2m",
		"STOCKADE_EMAIL_CONSOLE_REDACT=none",
	}
}

func TestLoadConfigSenders(t *testing.T) {
	cfg, err := app.LoadConfig(sendersEnv(), "")
	require.NoError(t, err)
	assert.Equal(t, app.SMSConfig{
		Provider: "twilio", TwilioAccountSID: twAccount, TwilioAuthToken: twToken, TwilioSecondaryAuthToken: twToken2,
		TwilioAPIKeySID: "SKfedcba9876543210fedcba9876543210", TwilioAPIKeySecret: "k3ySecret",
		ConsoleRedact: "links",
	}, cfg.SMS)
	assert.Equal(t, app.EmailConfig{
		Provider: "smtp", SMTPHost: "smtp.example.com", SMTPPort: 2525, SMTPUsername: "mailer", SMTPPassword: "smtp-pw-77",
		SMTPTLS: "implicit", SMTPTimeout: 20 * time.Second, ResendAPIKey: "re_key_88", ResendWebhookSecrets: whSecret,
		ResendWebhookTolerance: 2 * time.Minute, ConsoleRedact: "none",
	}, cfg.Email)
	assert.Equal(t, "MGffffffffffffffffffffffffffffffff", cfg.Messaging.DefaultMessagingServiceSID)
	require.NoError(t, cfg.Validate())
}

func TestValidateSenders(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*app.Config)
		setting string
	}{
		{"unknown SMS provider", func(c *app.Config) { c.SMS.Provider = "pigeon" }, "STOCKADE_SMS_PROVIDER"},
		{"unknown e-mail provider", func(c *app.Config) { c.Email.Provider = "sendmail" }, "STOCKADE_EMAIL_PROVIDER"},
		{"twilio without account", func(c *app.Config) { c.SMS.Provider, c.SMS.TwilioAuthToken = "twilio", twToken }, "STOCKADE_SMS_TWILIO_ACCOUNT_SID"},
		{"twilio without token", func(c *app.Config) { c.SMS.Provider, c.SMS.TwilioAccountSID = "twilio", twAccount }, "STOCKADE_SMS_TWILIO_AUTH_TOKEN"},
		{"twilio key without secret", func(c *app.Config) {
			c.SMS = app.SMSConfig{Provider: "twilio", TwilioAccountSID: twAccount, TwilioAuthToken: twToken, TwilioAPIKeySID: "SKfedcba9876543210fedcba9876543210"}
		}, "STOCKADE_SMS_TWILIO_API_KEY_SECRET"},
		{"twilio default service malformed", func(c *app.Config) {
			c.SMS = app.SMSConfig{Provider: "twilio", TwilioAccountSID: twAccount, TwilioAuthToken: twToken}
			c.Messaging.DefaultMessagingServiceSID = "PN1"
		}, "STOCKADE_MESSAGING_DEFAULT_SERVICE_SID"},
		{"smtp without host", func(c *app.Config) { c.Email.Provider = "smtp" }, "STOCKADE_EMAIL_SMTP_HOST"},
		{"smtp user without password", func(c *app.Config) {
			c.Email = app.EmailConfig{Provider: "smtp", SMTPHost: "smtp.example.com", SMTPUsername: "u"}
		}, "STOCKADE_EMAIL_SMTP_USERNAME"},
		{"smtp plain text to a remote host", func(c *app.Config) {
			c.Email = app.EmailConfig{Provider: "smtp", SMTPHost: "smtp.example.com", SMTPTLS: "none"}
		}, "STOCKADE_EMAIL_SMTP_TLS"},
		{"smtp unknown TLS mode", func(c *app.Config) {
			c.Email = app.EmailConfig{Provider: "smtp", SMTPHost: "smtp.example.com", SMTPTLS: "maybe"}
		}, "STOCKADE_EMAIL_SMTP_TLS"},
		{"resend without key", func(c *app.Config) { c.Email.Provider = "resend" }, "STOCKADE_EMAIL_RESEND_API_KEY"},
		{"resend webhook secret malformed", func(c *app.Config) { c.Email.ResendWebhookSecrets = "hunter2-Zq81xy" }, "STOCKADE_EMAIL_RESEND_WEBHOOK_SECRETS"},
		{"negative tolerance", func(c *app.Config) { c.Email.ResendWebhookTolerance = -time.Second }, "STOCKADE_EMAIL_RESEND_WEBHOOK_TOLERANCE"},
		{"unknown redaction", func(c *app.Config) { c.SMS.ConsoleRedact = "some" }, "STOCKADE_SMS_CONSOLE_REDACT"},
		{"bodies in production logs", func(c *app.Config) { c.Env, c.Email.ConsoleRedact = app.EnvProduction, "none" }, "STOCKADE_EMAIL_CONSOLE_REDACT"},
		{"body text in production logs", func(c *app.Config) {
			c.Env, c.Email.AllowConsole, c.Email.ConsoleRedact = app.EnvProduction, true, "links"
		}, "STOCKADE_EMAIL_CONSOLE_REDACT"},
		{"console e-mail in production", func(c *app.Config) { c.Env = app.EnvProduction }, "STOCKADE_EMAIL_ALLOW_CONSOLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := app.Default()
			tt.edit(&cfg)
			err := cfg.Validate()
			require.ErrorIs(t, err, ports.ErrInvalid)
			assert.Contains(t, err.Error(), tt.setting)
			assert.NotContains(t, err.Error(), "Zq81xy")
			assert.NotContains(t, err.Error(), twToken)
		})
	}
	cfg := app.Default()
	cfg.Email = app.EmailConfig{Provider: "smtp", SMTPHost: "127.0.0.1", SMTPTLS: "none"}
	assert.NoError(t, cfg.Validate(), "plain text to loopback is allowed when asked for")
	cfg = app.Default()
	cfg.Env, cfg.Email.AllowConsole = app.EnvProduction, true
	assert.NoError(t, cfg.Validate(), "the console in production when explicitly allowed")
}

func TestDefaultSendersAreTheConsole(t *testing.T) {
	logs := &syncBuffer{}
	log := zap.New(zapcoreJSON(logs))
	s, err := app.NewSenders(app.Default(), app.SendersParts{Logger: log})
	require.NoError(t, err)
	ctx := context.Background()
	_, err = s.SMS.SendSMS(ctx, ports.SMS{To: "+15551234567", Body: "code 482913", Category: ports.CategoryTransactional})
	require.NoError(t, err)
	_, err = s.Email.SendEmail(ctx, ports.Email{From: "a@example.test", To: "b@example.test", Subject: "Hi", Text: "sign in: https://x.test/m?t=tok-1"})
	require.NoError(t, err)
	out := logs.String()
	assert.Contains(t, out, "sms (console adapter, not sent)")
	assert.Contains(t, out, "email (console adapter, not sent)")
	assert.NotContains(t, out, "482913", "SMS bodies are redacted by default")
	assert.Contains(t, out, "https://x.test/m?t=tok-1", "in development the console prints the mail, links included (TestConsoleMailDefaultDependsOnTheEnvironment)")
	assert.False(t, s.SMSDeduplicates || s.EmailDeduplicates)
	for _, v := range []ports.WebhookVerifier{s.TwilioWebhooks, s.ResendWebhooks} {
		assert.ErrorIs(t, v.Verify(ctx, ports.WebhookRequest{URL: "https://x.test/h", Body: []byte("a=b")}), ports.ErrUnauthenticated,
			"an unconfigured provider's webhooks are refused")
	}
}

func TestSendersOverSMTP(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Username: "mailer", Password: "pw-42"})
	cfg := app.Default()
	cfg.Email = app.EmailConfig{Provider: "smtp", SMTPHost: srv.Host(), SMTPPort: srv.Port(), SMTPTLS: "none", SMTPUsername: "mailer", SMTPPassword: "pw-42"}
	require.NoError(t, cfg.Validate())
	s, err := app.NewSenders(cfg, app.SendersParts{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	_, err = s.Email.SendEmail(context.Background(), ports.Email{From: "a@example.test", To: "b@example.test", Subject: "Hi", Text: "t", IdempotencyKey: "k"})
	require.NoError(t, err)
	require.Len(t, srv.Messages(), 1)
	assert.Equal(t, "mailer", srv.Messages()[0].User)
	assert.False(t, s.EmailDeduplicates, "SMTP takes no idempotency key")
}

func TestSendersTwilioAndResend(t *testing.T) {
	cfg := app.Default()
	cfg.SMS = app.SMSConfig{Provider: "twilio", TwilioAccountSID: twAccount, TwilioAuthToken: twToken, TwilioSecondaryAuthToken: twToken2}
	cfg.Email = app.EmailConfig{Provider: "resend", ResendAPIKey: "re_key_88", ResendWebhookSecrets: whSecret}
	require.NoError(t, cfg.Validate())
	s, err := app.NewSenders(cfg, app.SendersParts{})
	require.NoError(t, err)
	assert.True(t, s.EmailDeduplicates, "Resend honours Idempotency-Key")
	assert.False(t, s.SMSDeduplicates, "Twilio's Messages API takes no key")

	ctx := context.Background()
	const u = "https://hooks.example.test/webhooks/twilio/sms"
	body := "Body=STOP&From=%2B15557654321"
	for _, token := range []string{twToken, twToken2} {
		mac := hmac.New(sha1.New, []byte(token))
		mac.Write([]byte(u + "BodySTOPFrom+15557654321"))
		sig := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		assert.NoError(t, s.TwilioWebhooks.Verify(ctx, ports.WebhookRequest{URL: u, Header: map[string][]string{"X-Twilio-Signature": {sig}}, Body: []byte(body)}))
	}
	assert.ErrorIs(t, s.TwilioWebhooks.Verify(ctx, ports.WebhookRequest{URL: u, Header: map[string][]string{"X-Twilio-Signature": {"AAAA"}}, Body: []byte(body)}), ports.ErrUnauthenticated)

	ts := strconv.FormatInt(time.Now().Unix(), 10)
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(whSecret, "whsec_"))
	require.NoError(t, err)
	payload := `{"type":"email.delivered"}`
	mac := hmac.New(sha256New(), key)
	mac.Write([]byte("msg_1." + ts + "." + payload))
	sig := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	req := ports.WebhookRequest{Header: map[string][]string{"Svix-Id": {"msg_1"}, "Svix-Timestamp": {ts}, "Svix-Signature": {sig}}, Body: []byte(payload)}
	assert.NoError(t, s.ResendWebhooks.Verify(ctx, req))
	req.Body = []byte(`{"type":"email.bounced"}`)
	assert.ErrorIs(t, s.ResendWebhooks.Verify(ctx, req), ports.ErrUnauthenticated)
}

func TestSendersModuleProvidesTheConsoleByDefault(t *testing.T) {
	cfg := fxConfig(t)
	logs := &syncBuffer{}
	var sms ports.SMSSender
	var email ports.EmailSender
	a := app.New(cfg, app.WithLogOutput(logs), fx.Populate(&sms, &email))
	require.NoError(t, a.Err())
	_, err := sms.SendSMS(context.Background(), ports.SMS{To: "+15551234567", Body: "hello", Category: ports.CategoryTransactional})
	require.NoError(t, err)
	var found bool
	for _, line := range strings.Split(logs.String(), "\n") {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) == nil && e["msg"] == "sms (console adapter, not sent)" {
			found = true
			assert.Equal(t, "+15551234567", e["to"])
			assert.Equal(t, "[redacted: 5 bytes]", e["body"])
		}
	}
	assert.True(t, found, "the console entry is in the app's log: %s", logs.String())
}

func zapcoreJSON(w *syncBuffer) zapcore.Core {
	return zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(w), zapcore.InfoLevel)
}

func sha256New() func() hash.Hash { return sha256.New }
