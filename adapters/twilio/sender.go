package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	twclient "github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
	"go.uber.org/zap"

	"github.com/stockadehq/stockade/internal/scrub"
	"github.com/stockadehq/stockade/ports"
)

// Sender sends SMS through Twilio Messaging Services. Safe for concurrent
// use.
type Sender struct {
	cfg  Config
	http *http.Client
}

var _ ports.SMSSender = (*Sender)(nil)

// New checks cfg and returns a Sender. It makes no call: a Twilio outage
// does not stop the app from starting. Errors match ports.ErrInvalid and
// never contain a secret.
func New(cfg Config) (*Sender, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: cfg.Timeout}
	}
	return &Sender{cfg: cfg, http: hc}, nil
}

// Twilio error codes with a meaning of their own.
const (
	codeUnsubscribed = 21610 // the recipient replied STOP to this sender
)

// SendSMS validates m (ports.SMS.Validate), picks the Messaging Service
// (m's; for a transactional message without one, the configured default;
// else ErrNoMessagingService) and creates the message with To,
// MessagingServiceSid, Body and, if set, StatusCallback. It returns once
// Twilio accepted it; Sent's ProviderID is the message SID (SM…).
//
// Errors: ErrInvalid for a malformed message or SID, or when Twilio
// refuses the request (4xx other than 429: an invalid or unreachable
// number, an unknown Messaging Service); ErrOptedOut when Twilio reports
// the recipient has opted out of this sender (error 21610: a STOP Twilio
// saw before we did); ErrUnavailable when Twilio cannot be reached, times
// out, answers 5xx or 429, or refuses the credentials (401/403: fix the
// configuration, then retries succeed). m.IdempotencyKey is not sent:
// Twilio takes none.
func (s *Sender) SendSMS(ctx context.Context, m ports.SMS) (ports.Sent, error) {
	if err := m.Validate(); err != nil {
		return ports.Sent{}, err
	}
	service := m.MessagingServiceSID
	if service == "" {
		// Validate let this through only for a transactional message.
		if s.cfg.DefaultMessagingServiceSID == "" {
			return ports.Sent{}, fmt.Errorf("%w (and the platform has no default service for transactional SMS)", ports.ErrNoMessagingService)
		}
		service = s.cfg.DefaultMessagingServiceSID
	}
	if !ValidSID("MG", service) {
		return ports.Sent{}, ports.Invalid("messaging service", "must be MG followed by 32 hex digits")
	}
	if err := ctx.Err(); err != nil {
		return ports.Sent{}, err
	}
	svc, call := s.service(ctx)
	params := &api.CreateMessageParams{}
	params.SetTo(m.To).SetMessagingServiceSid(service).SetBody(m.Body)
	if m.StatusCallback != "" {
		params.SetStatusCallback(m.StatusCallback)
	}
	msg, err := svc.CreateMessage(params)
	if err != nil {
		mapped := classify(ctx, err, call.status, s.cfg.AuthToken.Reveal(), s.cfg.APIKeySecret.Reveal())
		s.cfg.Logger.Warn("sms not sent", zap.Int("http_status", call.status), zap.Error(mapped))
		return ports.Sent{}, mapped
	}
	if msg == nil || msg.Sid == nil || *msg.Sid == "" {
		return ports.Sent{}, fmt.Errorf("twilio: the answer names no message SID: %w", ports.ErrUnavailable)
	}
	status := ""
	if msg.Status != nil {
		status = *msg.Status
	}
	s.cfg.Logger.Debug("sms sent", zap.String("sid", *msg.Sid), zap.String("status", status), zap.String("messaging_service_sid", service))
	return ports.Sent{ProviderID: *msg.Sid}, nil
}

// service builds the SDK's API service for one call: its HTTP client
// carries ctx (the SDK itself makes requests without one) and records the
// answer's status.
func (s *Sender) service(ctx context.Context) (*api.ApiService, *callTransport) {
	hc, call := callClient(ctx, s.http)
	user, pass := s.cfg.AccountSID, s.cfg.AuthToken.Reveal()
	if s.cfg.APIKeySID != "" {
		user, pass = s.cfg.APIKeySID, s.cfg.APIKeySecret.Reveal()
	}
	c := &twclient.Client{Credentials: twclient.NewCredentials(user, pass), HTTPClient: hc}
	c.SetAccountSid(s.cfg.AccountSID)
	rh := twclient.NewRequestHandler(c)
	rh.Edge, rh.Region = s.cfg.Edge, s.cfg.Region // not TWILIO_EDGE/TWILIO_REGION from the environment
	return api.NewApiService(rh), call
}

// classify maps a failed call. The SDK's error text holds Twilio's
// message, which names the problem; it passes through scrub.ProviderText
// with the credentials in secrets, so a message (or a proxy's page)
// echoing them or a link of the SMS leaks neither.
func classify(ctx context.Context, err error, status int, secrets ...string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("twilio: %w (%w)", ctx.Err(), ports.ErrUnavailable)
	}
	var rest *twclient.TwilioRestError
	if errors.As(err, &rest) {
		if rest.Code == codeUnsubscribed {
			return fmt.Errorf("twilio: %d %s: %w", rest.Code, scrub.ProviderText(rest.Message, secrets...), ports.ErrOptedOut)
		}
		if status == 0 {
			status = rest.Status
		}
	}
	detail := scrub.ProviderText(err.Error(), secrets...)
	if rest != nil {
		detail = fmt.Sprintf("%d %s", rest.Code, scrub.ProviderText(rest.Message, secrets...))
	}
	switch {
	case status == 0:
		return fmt.Errorf("twilio: unreachable: %s: %w", detail, ports.ErrUnavailable)
	case status == http.StatusTooManyRequests || status >= 500:
		return fmt.Errorf("twilio: HTTP %d: %s: %w", status, detail, ports.ErrUnavailable)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("twilio: HTTP %d: credentials refused: %s: %w", status, detail, ports.ErrUnavailable)
	case status >= 400:
		return fmt.Errorf("twilio: HTTP %d: %s: %w", status, detail, ports.ErrInvalid)
	}
	return fmt.Errorf("twilio: HTTP %d: %s: %w", status, detail, ports.ErrUnavailable)
}
