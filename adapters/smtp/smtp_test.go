package smtp_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/stockadehq/stockade/adapters/smtp"
	"github.com/stockadehq/stockade/internal/smtptest"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

// logBuffer is a debug-level zap logger over a buffer.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *zap.Logger {
	enc := zapcore.NewJSONEncoder(zap.NewDevelopmentEncoderConfig())
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(b), zapcore.DebugLevel))
}

// secureServer is a server that requires STARTTLS and AUTH, and a sender
// configured for it.
func secureServer(t *testing.T, edit ...func(*smtp.Config)) (*smtptest.Server, *smtp.Sender, *logBuffer) {
	t.Helper()
	srv := smtptest.Start(t, smtptest.Options{TLS: true, RequireTLS: true, Username: "mailer", Password: "pw-5ecret"})
	logs := &logBuffer{}
	cfg := smtp.Config{
		Host: srv.Host(), Port: srv.Port(), Username: "mailer", Password: "pw-5ecret",
		RootCAs: srv.RootCAs(), Timeout: 5 * time.Second, Logger: logs.logger(),
	}
	for _, e := range edit {
		e(&cfg)
	}
	s, err := smtp.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return srv, s, logs
}

// received turns what the server recorded into ports.Email as a mail
// client would read it; IdempotencyKey holds the Message-ID.
func received(t *testing.T, srv *smtptest.Server) []ports.Email {
	t.Helper()
	var out []ports.Email
	for _, m := range srv.Messages() {
		p, err := m.Parse()
		require.NoError(t, err)
		h := map[string]string{}
		for k, v := range p.Header {
			h[k] = v[0]
		}
		out = append(out, ports.Email{
			From: p.Header.Get("From"), To: p.Header.Get("To"), ReplyTo: p.Header.Get("Reply-To"),
			Subject: p.Subject, Text: p.Text, HTML: p.HTML, Headers: h,
			IdempotencyKey: p.Header.Get("Message-Id"),
		})
	}
	return out
}

func TestConformance(t *testing.T) {
	porttest.TestEmailSender(t, func(t *testing.T) porttest.EmailSenderFixture {
		srv, s, logs := secureServer(t)
		return porttest.EmailSenderFixture{
			Sender:   s,
			Received: func() []ports.Email { return received(t, srv) },
			SenderProvider: porttest.SenderProvider{
				Fail: func(f porttest.ProviderFault) {
					switch f {
					case porttest.ProviderDown:
						srv.Close()
					case porttest.ProviderError:
						srv.FailAll(smtptest.FaultTempFail)
					case porttest.ProviderRateLimited:
						srv.FailAll(smtptest.FaultRateLimit)
					}
				},
				Logs:       logs.String,
				Idempotent: true,
			},
		}
	})
}

func msg(key string) ports.Email {
	return ports.Email{
		From: "Bob <hello@bobs.example.test>", To: "ada@example.test", Subject: "Hi", Text: "Hello Ada",
		Headers: map[string]string{
			"List-Unsubscribe":      "<https://bobs.example.test/u/" + strings.Repeat("t", 120) + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		},
		IdempotencyKey: key,
	}
}

func TestTLSAndAuthAreUsed(t *testing.T) {
	srv, s, _ := secureServer(t)
	_, err := s.SendEmail(context.Background(), msg("k1"))
	require.NoError(t, err)
	got := srv.Messages()
	require.Len(t, got, 1)
	assert.True(t, got[0].TLS)
	assert.Equal(t, "mailer", got[0].User)
	assert.Equal(t, "hello@bobs.example.test", got[0].From)
	assert.Equal(t, []string{"ada@example.test"}, got[0].To)
}

func TestHeadersPassThroughExactly(t *testing.T) {
	srv, s, _ := secureServer(t)
	m := msg("k1")
	_, err := s.SendEmail(context.Background(), m)
	require.NoError(t, err)
	raw := string(srv.Messages()[0].Raw)
	assert.Contains(t, raw, "\r\nList-Unsubscribe: "+m.Headers["List-Unsubscribe"]+"\r\n", "one unfolded line, byte for byte")
	assert.Contains(t, raw, "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
	assert.NotContains(t, raw, "go-mail", "no library advertisement")
}

func TestMessageIDComesFromTheIdempotencyKey(t *testing.T) {
	srv, s, _ := secureServer(t)
	ctx := context.Background()
	a, err := s.SendEmail(ctx, msg("outbox-7"))
	require.NoError(t, err)
	b, err := s.SendEmail(ctx, msg("outbox-7"))
	require.NoError(t, err)
	c, err := s.SendEmail(ctx, msg("outbox-8"))
	require.NoError(t, err)
	d, err := s.SendEmail(ctx, msg(""))
	require.NoError(t, err)
	e, err := s.SendEmail(ctx, msg(""))
	require.NoError(t, err)
	assert.Equal(t, a.ProviderID, b.ProviderID)
	assert.NotEqual(t, a.ProviderID, c.ProviderID)
	assert.NotEqual(t, d.ProviderID, e.ProviderID, "without a key every message has its own ID")
	assert.True(t, strings.HasSuffix(a.ProviderID, "@bobs.example.test"), a.ProviderID)
	assert.NotContains(t, a.ProviderID, "outbox-7", "the key itself is not disclosed")
	h, err := srv.Messages()[0].Header()
	require.NoError(t, err)
	assert.Equal(t, "<"+a.ProviderID+">", h.Get("Message-Id"))
}

func TestMessageIDDomain(t *testing.T) {
	_, s, _ := secureServer(t, func(c *smtp.Config) { c.MessageIDDomain = "mail.stockade.test" })
	sent, err := s.SendEmail(context.Background(), msg("k"))
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(sent.ProviderID, "@mail.stockade.test"), sent.ProviderID)
}

func TestSTARTTLSIsRequired(t *testing.T) {
	t.Run("server without STARTTLS", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Options{Username: "mailer", Password: "pw-5ecret"})
		s, err := smtp.New(smtp.Config{Host: srv.Host(), Port: srv.Port(), Username: "mailer", Password: "pw-5ecret", Timeout: 5 * time.Second})
		require.NoError(t, err)
		_, err = s.SendEmail(context.Background(), msg("k"))
		assert.ErrorIs(t, err, ports.ErrUnavailable)
		assert.Contains(t, err.Error(), "STARTTLS")
		assert.Empty(t, srv.Messages())
	})
	t.Run("certificate not trusted", func(t *testing.T) {
		srv, s, _ := secureServer(t, func(c *smtp.Config) { c.RootCAs = nil })
		_, err := s.SendEmail(context.Background(), msg("k"))
		assert.ErrorIs(t, err, ports.ErrUnavailable)
		assert.Empty(t, srv.Messages())
	})
	t.Run("certificate for another name", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Options{TLS: true, CertHosts: []string{"mail.example.test"}})
		s, err := smtp.New(smtp.Config{Host: srv.Host(), Port: srv.Port(), RootCAs: srv.RootCAs(), Timeout: 5 * time.Second})
		require.NoError(t, err)
		_, err = s.SendEmail(context.Background(), msg("k"))
		assert.ErrorIs(t, err, ports.ErrUnavailable)
		assert.Contains(t, err.Error(), "certificate")
		assert.Empty(t, srv.Messages())
	})
}

func TestPlaintextOnlyToLoopback(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Username: "mailer", Password: "pw-5ecret"})
	s, err := smtp.New(smtp.Config{Host: srv.Host(), Port: srv.Port(), InsecurePlaintextLoopback: true, Username: "mailer", Password: "pw-5ecret"})
	require.NoError(t, err)
	_, err = s.SendEmail(context.Background(), msg("k"))
	require.NoError(t, err)
	assert.False(t, srv.Messages()[0].TLS)
	assert.Equal(t, "mailer", srv.Messages()[0].User)

	for _, host := range []string{"smtp.example.com", "10.0.0.5", "127.0.0.1.example.com"} {
		_, err := smtp.New(smtp.Config{Host: host, InsecurePlaintextLoopback: true})
		assert.ErrorIs(t, err, ports.ErrInvalid, host)
	}
	for _, host := range []string{"localhost", "127.0.0.2", "::1"} {
		_, err := smtp.New(smtp.Config{Host: host, InsecurePlaintextLoopback: true})
		assert.NoError(t, err, host)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		give smtp.Config
	}{
		{"no host", smtp.Config{}},
		{"bad port", smtp.Config{Host: "smtp.example.com", Port: 70000}},
		{"user without password", smtp.Config{Host: "smtp.example.com", Username: "u"}},
		{"password without user", smtp.Config{Host: "smtp.example.com", Password: "p"}},
		{"implicit TLS and plain text", smtp.Config{Host: "localhost", ImplicitTLS: true, InsecurePlaintextLoopback: true}},
		{"negative timeout", smtp.Config{Host: "smtp.example.com", Timeout: -time.Second}},
		{"message id domain with @", smtp.Config{Host: "smtp.example.com", MessageIDDomain: "a@b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := smtp.New(tt.give)
			assert.ErrorIs(t, err, ports.ErrInvalid)
		})
	}
	_, err := smtp.New(smtp.Config{Host: "smtp.example.com", Username: "u", Password: "hunter2-secret", Port: -1})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
}

func TestWrongPasswordIsUnavailable(t *testing.T) {
	srv, s, logs := secureServer(t, func(c *smtp.Config) { c.Password = "wrong-pw-9z" })
	_, err := s.SendEmail(context.Background(), msg("k"))
	assert.ErrorIs(t, err, ports.ErrUnavailable, "fix the configuration, then the outbox retries")
	assert.NotContains(t, err.Error(), "wrong-pw-9z")
	assert.NotContains(t, logs.String(), "wrong-pw-9z")
	assert.Empty(t, srv.Messages())
}

func TestPermanentRejectionIsInvalid(t *testing.T) {
	srv, s, _ := secureServer(t)
	srv.FailNext(smtptest.FaultPermFail)
	_, err := s.SendEmail(context.Background(), msg("k"))
	assert.ErrorIs(t, err, ports.ErrInvalid, "a 5xx reply cannot succeed on retry")
	assert.NotContains(t, err.Error(), "ada@example.test", "errors name no recipient")
	_, err = s.SendEmail(context.Background(), msg("k"))
	require.NoError(t, err, "the connection is usable afterwards")
}

func TestTimeout(t *testing.T) {
	srv, s, _ := secureServer(t, func(c *smtp.Config) { c.Timeout = 300 * time.Millisecond })
	srv.FailNext(smtptest.FaultStall)
	start := time.Now()
	_, err := s.SendEmail(context.Background(), msg("k"))
	assert.ErrorIs(t, err, ports.ErrUnavailable)
	assert.Less(t, time.Since(start), 5*time.Second, "the timeout bounds a stalled server")
}

func TestContextCancelsAStalledSend(t *testing.T) {
	srv, s, _ := secureServer(t)
	srv.FailNext(smtptest.FaultStall)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := s.SendEmail(ctx, msg("k"))
	assert.ErrorIs(t, err, ports.ErrUnavailable)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestDuplicateWindow shows the window SMTP leaves open: the server keeps
// the message but the reply is lost, the caller retries, and the
// recipient gets two copies with one Message-ID.
func TestDuplicateWindow(t *testing.T) {
	srv, s, _ := secureServer(t)
	srv.FailNext(smtptest.FaultDropAfterAccept)
	_, err := s.SendEmail(context.Background(), msg("outbox-42"))
	assert.ErrorIs(t, err, ports.ErrUnavailable)
	_, err = s.SendEmail(context.Background(), msg("outbox-42"))
	require.NoError(t, err)
	got := srv.Messages()
	require.Len(t, got, 2)
	h0, err := got[0].Header()
	require.NoError(t, err)
	h1, err := got[1].Header()
	require.NoError(t, err)
	assert.Equal(t, h0.Get("Message-Id"), h1.Get("Message-Id"))
}

func TestConnectionsAreReused(t *testing.T) {
	srv, s, _ := secureServer(t)
	ctx := context.Background()
	for range 5 {
		_, err := s.SendEmail(ctx, msg(""))
		require.NoError(t, err)
	}
	assert.Equal(t, 1, srv.Connections())
	assert.Len(t, srv.Messages(), 5)

	srv.DropConnections() // the server dropped the idle client
	_, err := s.SendEmail(ctx, msg(""))
	require.NoError(t, err, "a dead kept connection is replaced before anything is sent")
	assert.Equal(t, 2, srv.Connections())
	assert.Len(t, srv.Messages(), 6)
}

func TestNoReuseWhenMaxIdleIsNegative(t *testing.T) {
	srv, s, _ := secureServer(t, func(c *smtp.Config) { c.MaxIdle = -1 })
	for range 3 {
		_, err := s.SendEmail(context.Background(), msg(""))
		require.NoError(t, err)
	}
	assert.Equal(t, 3, srv.Connections())
}

func TestSecretRedacts(t *testing.T) {
	p := smtp.Secret("hunter2")
	for _, s := range []string{p.String(), p.GoString()} {
		assert.NotContains(t, s, "hunter2")
	}
	b, err := p.MarshalText()
	require.NoError(t, err)
	assert.NotContains(t, string(b), "hunter2")
	assert.Equal(t, "hunter2", p.Reveal())
}

func TestImplicitTLS(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{ImplicitTLS: true, RequireTLS: true, Username: "mailer", Password: "pw-5ecret"})
	s, err := smtp.New(smtp.Config{
		Host: srv.Host(), Port: srv.Port(), ImplicitTLS: true, Username: "mailer", Password: "pw-5ecret",
		RootCAs: srv.RootCAs(), Timeout: 5 * time.Second,
	})
	require.NoError(t, err)
	_, err = s.SendEmail(context.Background(), msg("k"))
	require.NoError(t, err)
	got := srv.Messages()
	require.Len(t, got, 1)
	assert.True(t, got[0].TLS)
	assert.Equal(t, "mailer", got[0].User)

	untrusted, err := smtp.New(smtp.Config{Host: srv.Host(), Port: srv.Port(), ImplicitTLS: true, Timeout: 5 * time.Second})
	require.NoError(t, err)
	_, err = untrusted.SendEmail(context.Background(), msg("k"))
	assert.ErrorIs(t, err, ports.ErrUnavailable)
	assert.Len(t, srv.Messages(), 1)
}
