package resend_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/stockadehq/stockade/adapters/resend"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

const apiKey = "re_Test_5ecretKey_0123456789"

// call is one request the fake Resend received.
type call struct {
	Method, Path, Auth, ContentType, Accept, UserAgent, IdempotencyKey string
	JSON                                                               map[string]any
}

// fakeResend answers POST /emails like Resend, records every request and
// can be told to fail.
type fakeResend struct {
	srv *httptest.Server

	mu       sync.Mutex
	calls    []call
	accepted []call
	status   int
	body     string
	block    bool
	next     int
}

func newFakeResend(t *testing.T) *fakeResend {
	f := &fakeResend{}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeResend) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c := call{
		Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type"),
		Accept: r.Header.Get("Accept"), UserAgent: r.UserAgent(), IdempotencyKey: r.Header.Get("Idempotency-Key"),
	}
	_ = json.Unmarshal(b, &c.JSON)
	f.mu.Lock()
	f.calls = append(f.calls, c)
	status, body, block := f.status, f.body, f.block
	f.next++
	id := fmt.Sprintf("4ef9a417-02e9-4d39-ad75-9611e0fc%04d", f.next)
	if status == 0 && !block {
		f.accepted = append(f.accepted, c)
	}
	f.mu.Unlock()
	if block {
		<-r.Context().Done()
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if status != 0 {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"id": id})
}

func (f *fakeResend) fail(status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.body = status, body
}

func (f *fakeResend) all() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *fakeResend) received() []ports.Email {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []ports.Email
	for _, c := range f.accepted {
		str := func(k string) string { s, _ := c.JSON[k].(string); return s }
		var to string
		if l, ok := c.JSON["to"].([]any); ok && len(l) == 1 {
			to, _ = l[0].(string)
		}
		h := map[string]string{}
		if m, ok := c.JSON["headers"].(map[string]any); ok {
			for k, v := range m {
				h[k], _ = v.(string)
			}
		}
		out = append(out, ports.Email{
			From: str("from"), To: to, ReplyTo: str("reply_to"), Subject: str("subject"),
			Text: str("text"), HTML: str("html"), Headers: h, IdempotencyKey: c.IdempotencyKey,
		})
	}
	return out
}

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

func newSender(t *testing.T, f *fakeResend) (*resend.Sender, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	s, err := resend.New(resend.Config{
		APIKey: apiKey, BaseURL: f.srv.URL, HTTPClient: f.srv.Client(), Timeout: 5 * time.Second,
		Logger: zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewDevelopmentEncoderConfig()), zapcore.AddSync(logs), zapcore.DebugLevel)),
	})
	require.NoError(t, err)
	return s, logs
}

func TestConformance(t *testing.T) {
	porttest.TestEmailSender(t, func(t *testing.T) porttest.EmailSenderFixture {
		f := newFakeResend(t)
		s, logs := newSender(t, f)
		return porttest.EmailSenderFixture{
			Sender: s, Received: f.received,
			SenderProvider: porttest.SenderProvider{
				Fail: func(fault porttest.ProviderFault) {
					switch fault {
					case porttest.ProviderDown:
						f.srv.Close()
					case porttest.ProviderError:
						f.fail(500, `{"statusCode":500,"name":"internal_server_error","message":"Internal server error"}`)
					case porttest.ProviderRateLimited:
						f.fail(429, `{"statusCode":429,"name":"rate_limit_exceeded","message":"Too many requests"}`)
					}
				},
				Logs: logs.String, Idempotent: true,
			},
		}
	})
}

func TestTheExactRequest(t *testing.T) {
	f := newFakeResend(t)
	s, _ := newSender(t, f)
	sent, err := s.SendEmail(context.Background(), ports.Email{
		From: "Bob's Plumbing <hello@bobs.example.test>", To: "ada@example.test", ReplyTo: "bob@bobs.example.test",
		Subject: "Your quote", Text: "Hi Ada", HTML: "<p>Hi Ada</p>",
		Headers: map[string]string{
			"List-Unsubscribe":      "<https://bobs.example.test/u/tok>",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		},
		IdempotencyKey: "outbox-0192a",
	})
	require.NoError(t, err)
	assert.Equal(t, "4ef9a417-02e9-4d39-ad75-9611e0fc0001", sent.ProviderID)
	calls := f.all()
	require.Len(t, calls, 1)
	c := calls[0]
	assert.Equal(t, http.MethodPost, c.Method)
	assert.Equal(t, "/emails", c.Path)
	assert.Equal(t, "Bearer "+apiKey, c.Auth)
	assert.Equal(t, "application/json", c.ContentType)
	assert.Equal(t, "application/json", c.Accept)
	assert.Equal(t, "outbox-0192a", c.IdempotencyKey)
	assert.True(t, strings.HasPrefix(c.UserAgent, "resend-go/3."), c.UserAgent)
	assert.Equal(t, map[string]any{
		"from":     "Bob's Plumbing <hello@bobs.example.test>",
		"to":       []any{"ada@example.test"},
		"reply_to": "bob@bobs.example.test",
		"subject":  "Your quote",
		"text":     "Hi Ada",
		"html":     "<p>Hi Ada</p>",
		"headers": map[string]any{
			"List-Unsubscribe":      "<https://bobs.example.test/u/tok>",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		},
	}, c.JSON, "exactly these fields")
}

func TestNoKeyNoHeader(t *testing.T) {
	f := newFakeResend(t)
	s, _ := newSender(t, f)
	_, err := s.SendEmail(context.Background(), ports.Email{From: "a@example.test", To: "b@example.test", Subject: "s", Text: "t"})
	require.NoError(t, err)
	assert.Empty(t, f.all()[0].IdempotencyKey)
	assert.NotContains(t, f.all()[0].JSON, "reply_to", "empty fields are left out")
}

func TestBaseURLIsNotTakenFromTheEnvironment(t *testing.T) {
	other := newFakeResend(t)
	t.Setenv("RESEND_BASE_URL", other.srv.URL+"/")
	f := newFakeResend(t)
	s, _ := newSender(t, f)
	_, err := s.SendEmail(context.Background(), ports.Email{From: "a@example.test", To: "b@example.test", Subject: "s", Text: "t"})
	require.NoError(t, err)
	assert.Len(t, f.all(), 1)
	assert.Empty(t, other.all())
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   error
	}{
		{"validation", 422, `{"statusCode":422,"name":"validation_error","message":"Invalid ` + "`to`" + ` field."}`, ports.ErrInvalid},
		{"bad request", 400, `{"statusCode":400,"name":"invalid_idempotency_key","message":"bad key"}`, ports.ErrInvalid},
		{"unverified domain", 403, `{"statusCode":403,"name":"validation_error","message":"The domain is not verified"}`, ports.ErrUnavailable},
		{"key refused", 401, `{"statusCode":401,"name":"missing_api_key","message":"Missing API key"}`, ports.ErrUnavailable},
		{"same key in flight", 409, `{"statusCode":409,"name":"concurrent_idempotent_requests","message":"in progress"}`, ports.ErrUnavailable},
		{"rate limited", 429, `{"statusCode":429,"name":"rate_limit_exceeded","message":"Too many requests"}`, ports.ErrUnavailable},
		{"server error", 502, `<html>Bad Gateway</html>`, ports.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeResend(t)
			s, logs := newSender(t, f)
			f.fail(tt.status, tt.body)
			_, err := s.SendEmail(context.Background(), ports.Email{From: "a@example.test", To: "b@example.test", Subject: "s", Text: "body secret 55"})
			assert.ErrorIs(t, err, tt.want)
			assert.NotContains(t, err.Error(), apiKey)
			assert.NotContains(t, logs.String(), apiKey)
			assert.NotContains(t, logs.String(), "body secret 55")
		})
	}
}

func TestContextCancelsTheCall(t *testing.T) {
	f := newFakeResend(t)
	f.mu.Lock()
	f.block = true
	f.mu.Unlock()
	s, _ := newSender(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := s.SendEmail(ctx, ports.Email{From: "a@example.test", To: "b@example.test", Subject: "s", Text: "t"})
	assert.ErrorIs(t, err, ports.ErrUnavailable)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []resend.Config{
		{},
		{APIKey: "re_with space"},
		{APIKey: apiKey, BaseURL: "ftp://x"},
		{APIKey: apiKey, BaseURL: "https://user:pw@api.resend.com/"},
		{APIKey: apiKey, Timeout: -1},
	} {
		_, err := resend.New(c)
		assert.ErrorIs(t, err, ports.ErrInvalid, "%+v", c)
		if err != nil {
			assert.NotContains(t, err.Error(), "re_with")
		}
	}
	assert.NotContains(t, fmt.Sprintf("%v %#v", resend.Secret(apiKey), resend.Secret(apiKey)), apiKey)
}
