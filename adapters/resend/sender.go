package resend

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	resendsdk "github.com/resend/resend-go/v3"
	"go.uber.org/zap"

	"github.com/stockadehq/stockade/internal/scrub"
	"github.com/stockadehq/stockade/ports"
)

// Sender sends e-mail through Resend's API. Safe for concurrent use.
type Sender struct {
	cfg    Config
	client *resendsdk.Client
}

var _ ports.EmailSender = (*Sender)(nil)

// New checks cfg and returns a Sender. It makes no call. Errors match
// ports.ErrInvalid and never contain the key.
func New(cfg Config) (*Sender, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	base := cfg.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: cfg.Timeout}
	}
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	hc := &http.Client{
		Transport: statusTransport{base: rt},
		Timeout:   base.Timeout,
		// The API never redirects; following one would resend the key
		// elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c := resendsdk.NewCustomClient(hc, cfg.APIKey.Reveal())
	c.BaseURL, _ = url.Parse(cfg.BaseURL) // withDefaults parsed it
	return &Sender{cfg: cfg, client: c}, nil
}

// SendEmail validates m (ports.Email.Validate) and posts it to /emails
// with from, to, reply_to, subject, text, html and the extra headers, and
// m.IdempotencyKey in the Idempotency-Key header. It returns once Resend
// accepted it; Sent's ProviderID is Resend's e-mail ID. A retry with the
// same key within 24 hours returns the first send's ID and sends nothing.
//
// Errors: ErrInvalid for a malformed message or when Resend refuses it
// (400, 422 and other 4xx: a bad address, an unverified sending domain);
// ErrUnavailable when Resend cannot be reached, times out, answers 5xx or
// 429, refuses the key (401/403: fix the configuration, then retries
// succeed), or is still working on the same key (409).
func (s *Sender) SendEmail(ctx context.Context, m ports.Email) (ports.Sent, error) {
	if err := m.Validate(); err != nil {
		return ports.Sent{}, err
	}
	if err := ctx.Err(); err != nil {
		return ports.Sent{}, err
	}
	req := &resendsdk.SendEmailRequest{
		From: m.From, To: []string{m.To}, ReplyTo: m.ReplyTo, Subject: m.Subject,
		Text: m.Text, Html: m.HTML, Headers: m.Headers,
	}
	status := new(int)
	resp, err := s.client.Emails.SendWithOptions(context.WithValue(ctx, statusKey{}, status), req,
		&resendsdk.SendEmailOptions{IdempotencyKey: m.IdempotencyKey})
	if err != nil {
		mapped := classify(ctx, errors.New(scrub.ProviderText(err.Error(), s.cfg.APIKey.Reveal())), *status)
		s.cfg.Logger.Warn("email not sent", zap.Int("http_status", *status), zap.Error(mapped))
		return ports.Sent{}, mapped
	}
	if resp == nil || resp.Id == "" {
		return ports.Sent{}, fmt.Errorf("resend: the answer names no e-mail ID: %w", ports.ErrUnavailable)
	}
	s.cfg.Logger.Debug("email sent", zap.String("id", resp.Id))
	return ports.Sent{ProviderID: resp.Id}, nil
}

// classify maps a failed call by the answer's status. The SDK's error
// text is Resend's message, which names the problem; the caller passes it
// through scrub.ProviderText, so a message echoing the key or a link of
// the mail leaks neither.
func classify(ctx context.Context, err error, status int) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("resend: %w (%w)", ctx.Err(), ports.ErrUnavailable)
	case status == 0:
		return fmt.Errorf("resend: unreachable: %v: %w", err, ports.ErrUnavailable)
	case status == http.StatusTooManyRequests || status >= 500:
		return fmt.Errorf("resend: HTTP %d: %v: %w", status, err, ports.ErrUnavailable)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("resend: HTTP %d: key refused: %v: %w", status, err, ports.ErrUnavailable)
	case status == http.StatusConflict:
		return fmt.Errorf("resend: HTTP 409: %v: %w", err, ports.ErrUnavailable)
	case status >= 400:
		return fmt.Errorf("resend: HTTP %d: %v: %w", status, err, ports.ErrInvalid)
	}
	return fmt.Errorf("resend: HTTP %d: %v: %w", status, err, ports.ErrUnavailable)
}

// statusKey carries, in a call's context, where statusTransport records
// the answer's HTTP status (the SDK's errors do not say it).
type statusKey struct{}

type statusTransport struct{ base http.RoundTripper }

func (t statusTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if resp != nil {
		if p, ok := req.Context().Value(statusKey{}).(*int); ok {
			*p = resp.StatusCode
		}
	}
	return resp, err
}
