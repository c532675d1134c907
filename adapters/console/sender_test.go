package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/stockadehq/stockade/adapters/console"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

// sink is a log destination that can be made to fail.
type sink struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	fail bool
}

func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return 0, errors.New("disk full")
	}
	return s.buf.Write(p)
}

func (s *sink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func (s *sink) breakIt(porttest.ProviderFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = true
}

// entries decodes the JSON lines with message msg.
func (s *sink) entries(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.String()), "\n") {
		if line == "" {
			continue
		}
		var e map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &e), line)
		if e["msg"] == msg {
			out = append(out, e)
		}
	}
	return out
}

// newSender returns a sender logging JSON at warn level: the console
// entries must appear even so.
func newSender(t *testing.T, r console.Redaction) (*console.Sender, *sink) {
	t.Helper()
	out := &sink{}
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(out), zapcore.WarnLevel))
	s, err := console.NewSender(log, r)
	require.NoError(t, err)
	return s, out
}

func str(e map[string]any, k string) string {
	v, _ := e[k].(string)
	return v
}

func TestSMSConformance(t *testing.T) {
	porttest.TestSMSSender(t, func(t *testing.T) porttest.SMSSenderFixture {
		s, out := newSender(t, "")
		return porttest.SMSSenderFixture{
			Sender: s,
			Received: func() []ports.SMS {
				var got []ports.SMS
				for _, e := range out.entries(t, console.SMSLogMessage) {
					got = append(got, ports.SMS{
						MessagingServiceSID: str(e, "messaging_service_sid"), To: str(e, "to"), Body: str(e, "body"),
						IdempotencyKey: str(e, "idempotency_key"), StatusCallback: str(e, "status_callback"),
						Category: ports.MessageCategory(str(e, "category")),
					})
				}
				return got
			},
			SenderProvider: porttest.SenderProvider{Fail: out.breakIt, Logs: out.String, Redacts: true, Idempotent: true},
		}
	})
}

func TestEmailConformance(t *testing.T) {
	porttest.TestEmailSender(t, func(t *testing.T) porttest.EmailSenderFixture {
		s, out := newSender(t, "")
		return porttest.EmailSenderFixture{
			Sender: s,
			Received: func() []ports.Email {
				var got []ports.Email
				for _, e := range out.entries(t, console.EmailLogMessage) {
					h := map[string]string{}
					for k, v := range e["headers"].(map[string]any) {
						h[k] = v.(string)
					}
					got = append(got, ports.Email{
						From: str(e, "from"), To: str(e, "to"), ReplyTo: str(e, "reply_to"), Subject: str(e, "subject"),
						Text: str(e, "text"), HTML: str(e, "html"), Headers: h, IdempotencyKey: str(e, "idempotency_key"),
					})
				}
				return got
			},
			SenderProvider: porttest.SenderProvider{Fail: out.breakIt, Logs: out.String, Redacts: true, Idempotent: true},
		}
	})
}

func TestRedaction(t *testing.T) {
	const text = "Sign in: https://acme.example.test/auth/magic?token=tok-123 (valid 15 min)"
	tests := []struct {
		give       console.Redaction
		wantText   string
		wantHeader string
	}{
		{"", "[redacted: 74 bytes]", "<https://acme.example.test/[redacted]>"},
		{console.RedactBodies, "[redacted: 74 bytes]", "<https://acme.example.test/[redacted]>"},
		{console.RedactLinks, "Sign in: https://acme.example.test/[redacted] (valid 15 min)", "<https://acme.example.test/[redacted]>"},
		{console.RedactNone, text, "<https://acme.example.test/u/unsub-tok>"},
	}
	for _, tt := range tests {
		t.Run(string(tt.give), func(t *testing.T) {
			s, out := newSender(t, tt.give)
			_, err := s.SendEmail(context.Background(), ports.Email{
				From: "a@example.test", To: "b@example.test", Subject: "Sign in", Text: text,
				Headers: map[string]string{"List-Unsubscribe": "<https://acme.example.test/u/unsub-tok>"},
			})
			require.NoError(t, err)
			_, err = s.SendSMS(context.Background(), ports.SMS{To: "+15551234567", Body: text, Category: ports.CategoryTransactional})
			require.NoError(t, err)
			e := out.entries(t, console.EmailLogMessage)
			require.Len(t, e, 1)
			assert.Equal(t, tt.wantText, str(e[0], "text"))
			assert.Equal(t, tt.wantHeader, e[0]["headers"].(map[string]any)["List-Unsubscribe"])
			sms := out.entries(t, console.SMSLogMessage)
			require.Len(t, sms, 1)
			assert.Equal(t, tt.wantText, str(sms[0], "body"))
			if tt.give != console.RedactNone {
				assert.NotContains(t, out.String(), "tok-123")
				assert.NotContains(t, out.String(), "unsub-tok")
			}
		})
	}
}

func TestUnknownRedaction(t *testing.T) {
	_, err := console.NewSender(zap.NewNop(), "some")
	assert.ErrorIs(t, err, ports.ErrInvalid)
	_, err = console.ParseRedaction("LINKS")
	assert.NoError(t, err)
}
