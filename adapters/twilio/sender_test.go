package twilio_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/stockadehq/stockade/adapters/twilio"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

const (
	accountSID     = "AC0123456789abcdef0123456789abcdef"
	authToken      = "f00dfeedf00dfeedf00dfeedf00dfeed"
	apiKeySID      = "SKfedcba9876543210fedcba9876543210"
	apiKeySecret   = "k3ySecretValue0123456789abcdefAB"
	defaultService = "MGffffffffffffffffffffffffffffffff"
	shopService    = "MG0123456789abcdef0123456789abcdef"
)

// request is one call the fake Twilio received, as it arrived.
type request struct {
	Method, Host, Path, ContentType, UserAgent string
	User, Pass                                 string
	Form                                       url.Values
}

// fakeTwilio answers the Messages API like Twilio does, records every
// request, and can be told to fail.
type fakeTwilio struct {
	srv *httptest.Server

	mu       sync.Mutex
	requests []request
	accepted []request
	status   int    // answer with this status instead of 201 when set
	body     string // and this body
	block    bool   // hold the request until the client gives up
}

func newFakeTwilio(t *testing.T) *fakeTwilio {
	f := &fakeTwilio{}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTwilio) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(b))
	user, pass, _ := r.BasicAuth()
	req := request{
		Method: r.Method, Host: r.Header.Get("X-Original-Host"), Path: r.URL.Path, ContentType: r.Header.Get("Content-Type"),
		UserAgent: r.UserAgent(), User: user, Pass: pass, Form: form,
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	status, body, block := f.status, f.body, f.block
	f.mu.Unlock()
	if block {
		<-r.Context().Done()
		return
	}
	if status != 0 {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasPrefix(body, "<") {
			w.Header().Set("Content-Type", "text/html")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
		return
	}
	sid := make([]byte, 16)
	rand.Read(sid)
	f.mu.Lock()
	f.accepted = append(f.accepted, req)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"sid": "SM" + hex.EncodeToString(sid), "status": "accepted", "account_sid": accountSID,
		"messaging_service_sid": form.Get("MessagingServiceSid"), "to": form.Get("To"), "body": form.Get("Body"),
	})
}

func (f *fakeTwilio) fail(status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.body = status, body
}

func (f *fakeTwilio) all() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.requests...)
}

func (f *fakeTwilio) received() []ports.SMS {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []ports.SMS
	for _, r := range f.accepted {
		out = append(out, ports.SMS{
			MessagingServiceSID: r.Form.Get("MessagingServiceSid"), To: r.Form.Get("To"), Body: r.Form.Get("Body"),
			StatusCallback: r.Form.Get("StatusCallback"),
		})
	}
	return out
}

// redirect sends every request to the fake, keeping the host the SDK
// meant in X-Original-Host.
type redirect struct {
	target *url.URL
	base   http.RoundTripper
}

func (r redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("X-Original-Host", req.URL.Host)
	req.URL.Scheme, req.URL.Host = r.target.Scheme, r.target.Host
	return r.base.RoundTrip(req)
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

func newSender(t *testing.T, f *fakeTwilio, edit ...func(*twilio.Config)) (*twilio.Sender, *logBuffer) {
	t.Helper()
	target, err := url.Parse(f.srv.URL)
	require.NoError(t, err)
	logs := &logBuffer{}
	cfg := twilio.Config{
		AccountSID: accountSID, AuthToken: authToken, DefaultMessagingServiceSID: defaultService,
		HTTPClient: &http.Client{Transport: redirect{target: target, base: f.srv.Client().Transport}, Timeout: 5 * time.Second},
		Logger:     zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewDevelopmentEncoderConfig()), zapcore.AddSync(logs), zapcore.DebugLevel)),
	}
	for _, e := range edit {
		e(&cfg)
	}
	s, err := twilio.New(cfg)
	require.NoError(t, err)
	return s, logs
}

func TestConformance(t *testing.T) {
	porttest.TestSMSSender(t, func(t *testing.T) porttest.SMSSenderFixture {
		f := newFakeTwilio(t)
		s, logs := newSender(t, f)
		return porttest.SMSSenderFixture{
			Sender: s, Received: f.received, DefaultService: defaultService,
			SenderProvider: porttest.SenderProvider{
				Fail: func(fault porttest.ProviderFault) {
					switch fault {
					case porttest.ProviderDown:
						f.srv.Close()
					case porttest.ProviderError:
						f.fail(500, `{"code":20500,"message":"Internal Server Error","status":500}`)
					case porttest.ProviderRateLimited:
						f.fail(429, `{"code":20429,"message":"Too Many Requests","status":429}`)
					}
				},
				Logs: logs.String,
			},
		}
	})
}

func TestTheExactRequest(t *testing.T) {
	f := newFakeTwilio(t)
	s, _ := newSender(t, f)
	sent, err := s.SendSMS(context.Background(), ports.SMS{
		MessagingServiceSID: shopService, To: "+15551234567", Body: "Hi & bye = 100% ✓",
		StatusCallback: "https://hooks.example.test/twilio/status?shop=abc", IdempotencyKey: "outbox-1",
	})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(sent.ProviderID, "SM"), sent.ProviderID)
	reqs := f.all()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "api.twilio.com", r.Host)
	assert.Equal(t, "/2010-04-01/Accounts/"+accountSID+"/Messages.json", r.Path)
	assert.Equal(t, "application/x-www-form-urlencoded", r.ContentType)
	assert.True(t, strings.HasPrefix(r.UserAgent, "twilio-go/"), r.UserAgent)
	assert.Equal(t, accountSID, r.User)
	assert.Equal(t, authToken, r.Pass)
	assert.Equal(t, url.Values{
		"To":                  {"+15551234567"},
		"MessagingServiceSid": {shopService},
		"Body":                {"Hi & bye = 100% ✓"},
		"StatusCallback":      {"https://hooks.example.test/twilio/status?shop=abc"},
	}, r.Form, "exactly these fields: no From number, no idempotency key Twilio does not take")
}

func TestAPIKeyAuthenticates(t *testing.T) {
	f := newFakeTwilio(t)
	s, _ := newSender(t, f, func(c *twilio.Config) { c.APIKeySID, c.APIKeySecret = apiKeySID, apiKeySecret })
	_, err := s.SendSMS(context.Background(), ports.SMS{MessagingServiceSID: shopService, To: "+15551234567", Body: "x"})
	require.NoError(t, err)
	r := f.all()[0]
	assert.Equal(t, apiKeySID, r.User)
	assert.Equal(t, apiKeySecret, r.Pass)
	assert.Equal(t, "/2010-04-01/Accounts/"+accountSID+"/Messages.json", r.Path, "the account is still the path's")
}

func TestEdgeAndRegionComeFromConfigNotTheEnvironment(t *testing.T) {
	t.Setenv("TWILIO_EDGE", "sydney")
	t.Setenv("TWILIO_REGION", "au1")
	f := newFakeTwilio(t)
	s, _ := newSender(t, f)
	_, err := s.SendSMS(context.Background(), ports.SMS{MessagingServiceSID: shopService, To: "+15551234567", Body: "x"})
	require.NoError(t, err)
	s2, _ := newSender(t, f, func(c *twilio.Config) { c.Edge, c.Region = "dublin", "ie1" })
	_, err = s2.SendSMS(context.Background(), ports.SMS{MessagingServiceSID: shopService, To: "+15551234567", Body: "x"})
	require.NoError(t, err)
	reqs := f.all()
	assert.Equal(t, "api.twilio.com", reqs[0].Host)
	assert.Equal(t, "api.dublin.ie1.twilio.com", reqs[1].Host)
}

func TestMessagingServiceRules(t *testing.T) {
	ctx := context.Background()
	t.Run("marketing never falls back to the platform default", func(t *testing.T) {
		f := newFakeTwilio(t)
		s, _ := newSender(t, f)
		_, err := s.SendSMS(ctx, ports.SMS{To: "+15551234567", Body: "Sale!", Category: ports.CategoryMarketing})
		assert.ErrorIs(t, err, ports.ErrNoMessagingService)
		assert.Empty(t, f.all(), "nothing reached Twilio")
	})
	t.Run("transactional without a default is refused", func(t *testing.T) {
		f := newFakeTwilio(t)
		s, _ := newSender(t, f, func(c *twilio.Config) { c.DefaultMessagingServiceSID = "" })
		_, err := s.SendSMS(ctx, ports.SMS{To: "+15551234567", Body: "Code 1234", Category: ports.CategoryTransactional})
		assert.ErrorIs(t, err, ports.ErrNoMessagingService)
		assert.Empty(t, f.all())
	})
	t.Run("a malformed service SID", func(t *testing.T) {
		f := newFakeTwilio(t)
		s, _ := newSender(t, f)
		_, err := s.SendSMS(ctx, ports.SMS{MessagingServiceSID: "MG123", To: "+15551234567", Body: "x"})
		assert.ErrorIs(t, err, ports.ErrInvalid)
		assert.Empty(t, f.all())
	})
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   error
	}{
		{"invalid number", 400, `{"code":21211,"message":"Invalid 'To' Phone Number","status":400}`, ports.ErrInvalid},
		{"unknown service", 404, `{"code":20404,"message":"The requested resource was not found","status":404}`, ports.ErrInvalid},
		{"recipient opted out", 400, `{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}`, ports.ErrOptedOut},
		{"credentials refused", 401, `{"code":20003,"message":"Authenticate","status":401}`, ports.ErrUnavailable},
		{"rate limited", 429, `{"code":20429,"message":"Too Many Requests","status":429}`, ports.ErrUnavailable},
		{"server error", 503, `{"code":20503,"message":"Service Unavailable","status":503}`, ports.ErrUnavailable},
		{"proxy error page", 502, `<html><body>Bad Gateway</body></html>`, ports.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTwilio(t)
			s, logs := newSender(t, f)
			f.fail(tt.status, tt.body)
			_, err := s.SendSMS(context.Background(), ports.SMS{MessagingServiceSID: shopService, To: "+15551234567", Body: "secret body 77"})
			assert.ErrorIs(t, err, tt.want)
			assert.NotContains(t, err.Error(), authToken)
			assert.NotContains(t, logs.String(), "secret body 77")
			assert.NotContains(t, logs.String(), authToken)
		})
	}
}

func TestContextCancelsTheCall(t *testing.T) {
	f := newFakeTwilio(t)
	f.mu.Lock()
	f.block = true
	f.mu.Unlock()
	s, _ := newSender(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.SendSMS(ctx, ports.SMS{MessagingServiceSID: shopService, To: "+15551234567", Body: "x"})
	assert.ErrorIs(t, err, ports.ErrUnavailable)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 4*time.Second, "the context, not the 5s client timeout, ended the call")
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		give twilio.Config
	}{
		{"no account", twilio.Config{AuthToken: authToken}},
		{"malformed account", twilio.Config{AccountSID: "AC123", AuthToken: authToken}},
		{"no token", twilio.Config{AccountSID: accountSID}},
		{"token with symbols", twilio.Config{AccountSID: accountSID, AuthToken: "abc$def"}},
		{"key without secret", twilio.Config{AccountSID: accountSID, AuthToken: authToken, APIKeySID: apiKeySID}},
		{"malformed key", twilio.Config{AccountSID: accountSID, AuthToken: authToken, APIKeySID: "SK1", APIKeySecret: "x"}},
		{"malformed default service", twilio.Config{AccountSID: accountSID, AuthToken: authToken, DefaultMessagingServiceSID: "PN123"}},
		{"negative timeout", twilio.Config{AccountSID: accountSID, AuthToken: authToken, Timeout: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := twilio.New(tt.give)
			assert.ErrorIs(t, err, ports.ErrInvalid)
			if err != nil {
				assert.NotContains(t, err.Error(), authToken)
			}
		})
	}
	assert.NotContains(t, fmt.Sprintf("%v %#v", twilio.Secret(authToken), twilio.Secret(authToken)), authToken)
}
