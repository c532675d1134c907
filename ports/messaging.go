package ports

import (
	"context"
	"fmt"
)

// ErrNoMessagingService: the shop has no Twilio Messaging Service (its A2P
// 10DLC campaign), so it cannot send marketing SMS. Wraps ErrInvalid.
var ErrNoMessagingService = fmt.Errorf("%w: the shop has no messaging service (A2P 10DLC campaign) for marketing SMS", ErrInvalid)

// MessageCategory says why a message is sent, which decides the consent it
// needs (MSG-4). Transactional messages answer something the contact did
// (a sign-in link, a receipt, a quote they asked for); marketing messages
// are everything else.
type MessageCategory string

// The message categories.
const (
	CategoryTransactional MessageCategory = "transactional"
	CategoryMarketing     MessageCategory = "marketing"
)

// SMS is one outbound text message.
type SMS struct {
	// MessagingServiceSID is the sending shop's Twilio Messaging Service
	// (its A2P 10DLC unit). Empty only for transactional messages when the
	// adapter is configured with a platform default.
	MessagingServiceSID string
	To                  string // E.164, e.g. +15551234567
	Body                string
	// IdempotencyKey is stable across retries of one message; adapters
	// send it to providers that honour one.
	IdempotencyKey string
	// StatusCallback, when set, is the URL the provider reports delivery
	// status to.
	StatusCallback string
	// Category is why the message is sent. The zero value counts as
	// marketing: only an explicitly transactional message may go without
	// the shop's MessagingServiceSID (through the platform default, where
	// the adapter has one); a marketing message without one is refused
	// with ErrNoMessagingService (see SMS.Validate).
	Category MessageCategory
}

// Email is one outbound e-mail message.
type Email struct {
	From    string // "Name <addr@example.com>" or a bare address
	To      string
	ReplyTo string
	Subject string
	Text    string // plain-text body
	HTML    string // optional HTML body
	// Headers are extra headers, e.g. List-Unsubscribe and
	// List-Unsubscribe-Post for marketing mail (RFC 8058).
	Headers map[string]string
	// IdempotencyKey is stable across retries of one message; adapters
	// send it to providers that honour one (Resend's Idempotency-Key).
	IdempotencyKey string
}

// Sent is the provider's receipt for an accepted message.
type Sent struct {
	ProviderID string // the provider's message ID (Twilio SID, Resend ID, SMTP queue ID if any)
}

// SMSSender sends text messages. Send returns once the provider accepted
// the message: ErrInvalid for a malformed number or missing sender,
// ErrUnavailable when the provider cannot be reached or answers 5xx/429
// (retry later), ErrUnsupported for an operation the adapter lacks. Bodies
// never reach logs. Safe for concurrent use.
type SMSSender interface {
	SendSMS(ctx context.Context, m SMS) (Sent, error)
}

// EmailSender sends e-mail with the same error contract as SMSSender.
type EmailSender interface {
	SendEmail(ctx context.Context, m Email) (Sent, error)
}

// WebhookRequest is an inbound provider webhook as received, before
// anything in it is trusted.
type WebhookRequest struct {
	// URL is the public URL the provider called, as configured (behind a
	// proxy the request's own URL differs from the one that was signed).
	URL    string
	Header map[string][]string
	Body   []byte // the raw body, already size-capped by the caller
}

// WebhookVerifier authenticates an inbound webhook (Twilio's
// X-Twilio-Signature, Resend's Svix signature) before anything in it is
// parsed into state. Verify returns nil, or an error matching
// ErrUnauthenticated for a missing, malformed, forged or (where the scheme
// has a timestamp) stale signature. Replays of a validly signed request
// pass Verify; the caller refuses them by the provider's event ID.
type WebhookVerifier interface {
	Verify(ctx context.Context, req WebhookRequest) error
}
