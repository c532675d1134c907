// Package console holds the development providers of the embedded
// default: SMS and e-mail are written to the log instead of being sent, so
// that `stockade serve` works on a fresh machine; configure a real
// provider in production (the server refuses the console e-mail provider
// there unless STOCKADE_EMAIL_ALLOW_CONSOLE allows it). Bodies and links
// are redacted unless told otherwise (see Redaction); outside development
// only the envelope is written.
package console

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/stockadehq/stockade/ports"
)

// Log messages of the console senders.
const (
	SMSLogMessage   = "sms (console adapter, not sent)"
	EmailLogMessage = "email (console adapter, not sent)"
)

// Sender is the development SMSSender and EmailSender: each message is
// written to a zap logger as one info entry (whatever the logger's level:
// the entry is the delivery), with bodies and links redacted as
// configured. Nothing leaves the machine. Safe for concurrent use.
type Sender struct {
	log    *zap.Logger
	redact Redaction
}

var (
	_ ports.SMSSender   = (*Sender)(nil)
	_ ports.EmailSender = (*Sender)(nil)
)

// NewSender returns a Sender writing to log (entries named "console") with the
// given redaction ("" is RedactBodies).
func NewSender(log *zap.Logger, r Redaction) (*Sender, error) {
	r, err := ParseRedaction(string(r))
	if err != nil {
		return nil, ports.Invalid("console redaction", err.Error())
	}
	if log == nil {
		return nil, ports.Invalid("console logger", "is required")
	}
	return &Sender{log: log, redact: r}, nil
}

// SendSMS validates m (ports.SMS.Validate: a marketing message without a
// Messaging Service is refused with ErrNoMessagingService, as the real
// provider would) and logs it. A transactional message may name no
// Messaging Service. ErrUnavailable if the log cannot be written.
func (s *Sender) SendSMS(ctx context.Context, m ports.SMS) (ports.Sent, error) {
	if err := m.Validate(); err != nil {
		return ports.Sent{}, err
	}
	if err := ctx.Err(); err != nil {
		return ports.Sent{}, err
	}
	id := providerID("SMconsole")
	category := m.Category
	if category == "" {
		category = ports.CategoryMarketing
	}
	return s.write(SMSLogMessage, id,
		zap.String("messaging_service_sid", m.MessagingServiceSID),
		zap.String("to", m.To),
		zap.String("category", string(category)),
		zap.String("idempotency_key", m.IdempotencyKey),
		zap.String("status_callback", m.StatusCallback), // the platform's own webhook URL
		zap.String("body", s.redact.body(m.Body)),
	)
}

// SendEmail validates m (ports.Email.Validate) and logs it.
// ErrUnavailable if the log cannot be written.
func (s *Sender) SendEmail(ctx context.Context, m ports.Email) (ports.Sent, error) {
	if err := m.Validate(); err != nil {
		return ports.Sent{}, err
	}
	if err := ctx.Err(); err != nil {
		return ports.Sent{}, err
	}
	return s.write(EmailLogMessage, providerID("console"),
		zap.String("from", m.From),
		zap.String("to", m.To),
		zap.String("reply_to", m.ReplyTo),
		zap.String("subject", m.Subject),
		zap.Object("headers", headers{m.Headers, s.redact}),
		zap.String("idempotency_key", m.IdempotencyKey),
		zap.String("text", s.redact.body(m.Text)),
		zap.String("html", s.redact.body(m.HTML)),
	)
}

// write writes one entry straight to the logger's core, so a failed
// write is seen and reported.
func (s *Sender) write(msg, id string, fields ...zap.Field) (ports.Sent, error) {
	entry := zapcore.Entry{Level: zapcore.InfoLevel, Time: time.Now(), LoggerName: "console", Message: msg}
	fields = append(fields, zap.String("provider_id", id))
	if err := s.log.Core().Write(entry, fields); err != nil {
		return ports.Sent{}, fmt.Errorf("console sender: write log: %w", ports.ErrUnavailable)
	}
	return ports.Sent{ProviderID: id}, nil
}

// providerID returns a fresh ID with prefix.
func providerID(prefix string) string {
	b := make([]byte, 16)
	rand.Read(b) // never fails since Go 1.24
	return prefix + hex.EncodeToString(b)
}

// headers logs extra headers in name order, their links redacted.
type headers struct {
	h map[string]string
	r Redaction
}

func (h headers) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	names := make([]string, 0, len(h.h))
	for n := range h.h {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		enc.AddString(n, h.r.header(h.h[n]))
	}
	return nil
}
