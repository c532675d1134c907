package ports

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// MessageID identifies an outbox message (MSG-6). Its text form is the
// message's idempotency key at the provider.
type MessageID struct{ uuid.UUID }

// IsZero reports whether id is the nil UUID.
func (id MessageID) IsZero() bool { return id.UUID == uuid.Nil }

// NewMessageID returns a fresh UUIDv7 message ID.
func NewMessageID() MessageID { return MessageID{newUUID()} }

// ParseMessageID parses the canonical text form of a message ID (see
// ParseShopID).
func ParseMessageID(s string) (MessageID, error) {
	u, err := parseUUID("message id", s)
	return MessageID{u}, err
}

// Channel is how a message travels.
type Channel string

// The channels.
const (
	ChannelSMS   Channel = "sms"
	ChannelEmail Channel = "email"
)

// ValidateChannel checks c is one of the channels.
func ValidateChannel(c Channel) error {
	switch c {
	case ChannelSMS, ChannelEmail:
		return nil
	}
	return Invalid("channel", "must be sms or email")
}

// ValidateCategory checks c is one of the message categories.
func ValidateCategory(c MessageCategory) error {
	switch c {
	case CategoryTransactional, CategoryMarketing:
		return nil
	}
	return Invalid("category", "must be transactional or marketing")
}

// MessageState is where an outbox message is in its life.
type MessageState string

// Message states. A message is queued until a worker claims it (sending);
// the provider's acceptance makes it sent, and the provider's later
// reports delivered or failed. It ends dead when its attempts are used up
// or the provider refused it for good, cancelled when it was not sent
// because consent was withdrawn first, and unknown when a worker stopped
// during the provider call of its last attempt, or of any attempt on a
// provider that cannot deduplicate (it may or may not have gone out; it
// is never sent again by itself).
const (
	MessageQueued    MessageState = "queued"
	MessageSending   MessageState = "sending"
	MessageSent      MessageState = "sent"
	MessageDelivered MessageState = "delivered"
	MessageFailed    MessageState = "failed"
	MessageDead      MessageState = "dead"
	MessageCancelled MessageState = "cancelled"
	MessageUnknown   MessageState = "unknown"
)

// ValidateMessageState checks s is one of the states.
func ValidateMessageState(s MessageState) error {
	switch s {
	case MessageQueued, MessageSending, MessageSent, MessageDelivered, MessageFailed, MessageDead, MessageCancelled, MessageUnknown:
		return nil
	}
	return Invalid("state", "not a message state")
}

// MaxMessageBody bounds a message's content (bodies, subject, headers).
const MaxMessageBody = 256 << 10

// OutboxMessage is one outbound message in a shop's transactional outbox
// (MSG-6): enqueued in the unit of work of the change that causes it, then
// delivered by a worker. It is a tenant row.
type OutboxMessage struct {
	ID       MessageID
	ShopID   ShopID // set by the store from the unit of work
	Contact  ContactID
	Channel  Channel
	Category MessageCategory
	// SMS holds the content of an SMS message, Email that of an e-mail;
	// the other is the zero value. Their IdempotencyKey is the message ID.
	SMS   SMS
	Email Email
	State MessageState
	// Attempts counts claims so far, including the one running.
	Attempts    int
	MaxAttempts int // 0 at Enqueue means DefaultMaxAttempts
	// Dispatched is the attempt number that reached the provider call
	// and was not settled by a recorded failure since (0: none). A claimed
	// message whose previous attempt is still the dispatched one was
	// interrupted during the provider call: it is in doubt.
	Dispatched  int
	RunAt       time.Time // not claimed before; zero at Enqueue means now
	LockedUntil time.Time // lease of the running attempt; zero unless sending
	LastError   string    // the last failure, at most 1000 bytes
	// HeldFor says why RunAt is later than it would be ("quiet hours"),
	// empty otherwise.
	HeldFor        string
	ProviderID     string // the provider's message ID once sent
	ProviderStatus string // the provider's latest status report
	SentAt         time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// To returns the recipient: the SMS's number or the e-mail's address.
func (m OutboxMessage) To() string {
	if m.Channel == ChannelSMS {
		return m.SMS.To
	}
	return m.Email.To
}

// Validate checks a message before it is enqueued: IDs, channel and
// category, its SMS or Email valid as a sender would check it
// (SMS.Validate, Email.Validate) and the other empty, the content within
// MaxMessageBody, attempts within 0 to 1000.
func (m OutboxMessage) Validate() error {
	if m.ID.IsZero() {
		return Invalid("id", "must be set")
	}
	if m.Contact.IsZero() {
		return Invalid("contact", "must be set")
	}
	if err := ValidateChannel(m.Channel); err != nil {
		return err
	}
	if err := ValidateCategory(m.Category); err != nil {
		return err
	}
	if m.MaxAttempts < 0 || m.MaxAttempts > 1000 {
		return Invalid("max_attempts", "must be 0 to 1000")
	}
	if len(m.HeldFor) > 100 {
		return Invalid("held_for", "must be at most 100 bytes")
	}
	size := 0
	switch m.Channel {
	case ChannelSMS:
		if m.Email.To != "" || m.Email.Subject != "" || m.Email.Text != "" || m.Email.HTML != "" {
			return Invalid("email", "must be empty for an SMS")
		}
		if err := ValidatePhone(m.SMS.To); err != nil {
			return err
		}
		if err := m.SMS.Validate(); err != nil {
			return err
		}
		size = len(m.SMS.Body) + len(m.SMS.MessagingServiceSID) + len(m.SMS.StatusCallback) + len(m.SMS.IdempotencyKey)
	case ChannelEmail:
		if m.SMS.To != "" || m.SMS.Body != "" {
			return Invalid("sms", "must be empty for an e-mail")
		}
		if err := ValidateEmail(m.Email.To); err != nil {
			return err
		}
		if err := m.Email.Validate(); err != nil {
			return err
		}
		size = len(m.Email.From) + len(m.Email.ReplyTo) + len(m.Email.Subject) + len(m.Email.Text) + len(m.Email.HTML) + len(m.Email.IdempotencyKey)
		for k, v := range m.Email.Headers {
			size += len(k) + len(v)
		}
	}
	if size > MaxMessageBody {
		return Invalid("body", "message content must be at most 256 KiB")
	}
	for _, f := range m.textFields() {
		if !utf8.ValidString(f) || strings.ContainsRune(f, 0) {
			return Invalid("body", "message content must be valid UTF-8 without NUL")
		}
	}
	return nil
}

// textFields lists every string of the message's content.
func (m OutboxMessage) textFields() []string {
	out := []string{m.SMS.MessagingServiceSID, m.SMS.To, m.SMS.Body, m.SMS.IdempotencyKey, m.SMS.StatusCallback,
		m.Email.From, m.Email.To, m.Email.ReplyTo, m.Email.Subject, m.Email.Text, m.Email.HTML, m.Email.IdempotencyKey, m.HeldFor}
	for k, v := range m.Email.Headers {
		out = append(out, k, v)
	}
	return out
}

// OutboxQuery selects messages for OutboxRepo.List.
type OutboxQuery struct {
	State   MessageState // empty: every state
	Contact ContactID    // zero: every contact
	Limit   int          // 0 means 100, capped at 1000
}

// OutboxRepo is the unit of work's shop's outbox. Enqueue in the same unit
// of work as the change that causes the message: roll the change back and
// the message is gone too. The methods that end an attempt (MarkSent,
// Fail, Settle, Defer) are fenced by the attempt number: they return
// ErrNotFound unless the message is sending that attempt, so a worker
// whose lease ran out cannot overwrite a newer attempt's outcome.
type OutboxRepo interface {
	// Enqueue stores m as queued (State, Attempts, Dispatched,
	// LockedUntil, LastError, provider fields and SentAt are ignored;
	// MaxAttempts 0 becomes DefaultMaxAttempts; a zero RunAt becomes the
	// store's now) and returns it as stored. ErrInvalid for a malformed
	// message, ErrConflict for a taken ID, ErrNotFound for an unknown
	// contact.
	Enqueue(ctx context.Context, m OutboxMessage) (OutboxMessage, error)
	// Get returns the message or ErrNotFound.
	Get(ctx context.Context, id MessageID) (OutboxMessage, error)
	// ByProviderID returns the message the provider knows as providerID
	// on channel, or ErrNotFound.
	ByProviderID(ctx context.Context, channel Channel, providerID string) (OutboxMessage, error)
	// List returns the shop's messages matching q, oldest first.
	List(ctx context.Context, q OutboxQuery) ([]OutboxMessage, error)
	// Dispatch records that attempt is about to call the provider
	// (Dispatched = attempt), so that a worker that dies during the call
	// leaves the message recognisably in doubt.
	Dispatch(ctx context.Context, id MessageID, attempt int) error
	// DispatchAll is Dispatch for several attempts in one statement: it
	// records each attempt whose message is sending it, and returns the
	// IDs of those messages, in no particular order. An attempt that is
	// not its message's current one (where Dispatch returns ErrNotFound)
	// is left as it is and missing from the result. No attempts is
	// nothing to do. ErrInvalid for more than MaxBatch attempts or a
	// message named twice.
	DispatchAll(ctx context.Context, attempts []MessageAttempt) ([]MessageID, error)
	// MarkSent records the provider's acceptance: state sent, ProviderID,
	// SentAt = the store's now.
	MarkSent(ctx context.Context, id MessageID, attempt int, providerID string) (OutboxMessage, error)
	// MarkAllSent is MarkSent for several attempts in one statement: it
	// marks each message that is sending the attempt given for it sent,
	// with its own ProviderID, and returns the IDs of the messages it
	// marked, in no particular order. An attempt that is not its
	// message's current one (where MarkSent returns ErrNotFound) is left
	// as it is and missing from the result. No attempts is nothing to
	// do. ErrInvalid for more than MaxBatch attempts or a message named
	// twice.
	MarkAllSent(ctx context.Context, sent []SentAttempt) ([]MessageID, error)
	// Fail records a failed attempt: queued again to run at retryAt, or
	// dead when dead is true or the attempts are used up. The attempt is
	// settled: Dispatched goes back to 0.
	Fail(ctx context.Context, id MessageID, attempt int, reason string, retryAt time.Time, dead bool) (OutboxMessage, error)
	// Settle ends the attempt, and the message, without a provider
	// receipt: state is MessageCancelled or MessageUnknown (ErrInvalid
	// otherwise), reason goes to LastError.
	Settle(ctx context.Context, id MessageID, attempt int, state MessageState, reason string) (OutboxMessage, error)
	// Defer puts the message back in the queue to run at runAt without
	// spending the attempt (Attempts goes back down by one), with heldFor
	// as HeldFor: quiet hours, not a failure.
	Defer(ctx context.Context, id MessageID, attempt int, runAt time.Time, heldFor string) (OutboxMessage, error)
	// Retry puts a dead or unknown message back in the queue with a fresh
	// attempt budget, to run at runAt. ErrNotFound unless it is dead or
	// unknown.
	Retry(ctx context.Context, id MessageID, runAt time.Time) (OutboxMessage, error)
	// Cancel withdraws a queued message (state cancelled, reason in
	// LastError). ErrNotFound unless it is queued.
	Cancel(ctx context.Context, id MessageID, reason string) (OutboxMessage, error)
	// ReportStatus records a provider status report on a sent message:
	// ProviderStatus = status, and State = state, which must be sent,
	// delivered or failed (ErrInvalid otherwise). ErrNotFound unless the
	// message is sent, delivered or failed.
	ReportStatus(ctx context.Context, id MessageID, status string, state MessageState) (OutboxMessage, error)
	// RecordEvent remembers an inbound provider event by the provider's
	// event ID (Twilio's MessageSid, Svix's svix-id) and returns
	// ErrConflict when this shop has recorded it before: call it in the
	// unit of work that applies the event, and a replay changes nothing.
	// A replay does not spoil the unit of work: the caller may commit
	// after it. ErrInvalid for an empty or over-long (255 bytes) provider or ID.
	RecordEvent(ctx context.Context, provider, eventID string) error
	// DeleteFinished removes the shop's messages that ended sent,
	// delivered, failed or cancelled and were last updated before before,
	// body and all, and returns how many. Queued, sending, dead and
	// unknown messages are kept: the last two wait for someone to look.
	DeleteFinished(ctx context.Context, before time.Time) (int, error)
	// DeleteEventsBefore forgets inbound provider events recorded before
	// before (the providers stop redelivering within days) and returns
	// how many.
	DeleteEventsBefore(ctx context.Context, before time.Time) (int, error)
}

// MessageAttempt names one attempt of one outbox message, as the
// OutboxRepo methods that end an attempt fence it: the message's ID and
// the attempt's number.
type MessageAttempt struct {
	ID      MessageID
	Attempt int
}

// SentAttempt is one attempt the provider accepted, for
// OutboxRepo.MarkAllSent: the attempt and the provider's ID of the
// message (empty when the provider gave none).
type SentAttempt struct {
	ID         MessageID
	Attempt    int
	ProviderID string
}

// OutboxQueue is the one cross-shop path of the outbox, for the delivery
// worker; like JobQueue it is a maintenance path (TEN-1): the worker then
// does each message's work inside that message's shop's unit of work.
// Implementations must be safe for concurrent use by several workers and
// processes: a message is handed to at most one claimer per lease.
type OutboxQueue interface {
	// ClaimMessages marks up to limit due messages sending and returns
	// them with Attempts incremented and LockedUntil = now+lease. Due
	// means queued with RunAt at or before now, or sending with
	// LockedUntil at or before now (a dead worker's lease ran out). Oldest
	// RunAt first. A sending message whose lease ran out after its last
	// attempt is not handed out: it becomes unknown (LastError "lease
	// expired during the provider call") when that attempt was
	// dispatched, else dead ("lease expired"). limit is 1 to 1000 and
	// lease positive and at most MaxLease, or ErrInvalid.
	ClaimMessages(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]OutboxMessage, error)
}

// MessagingSettings are a shop's messaging settings.
type MessagingSettings struct {
	// MessagingServiceSID is the shop's Twilio Messaging Service, its A2P
	// 10DLC unit; without one the shop cannot send marketing SMS
	// (ErrNoMessagingService). One service belongs to at most one shop.
	MessagingServiceSID string
	// HelpText answers HELP and INFO (empty: a default naming the shop).
	HelpText string
	// SendFrom and SendUntil bound when marketing SMS may go out, in
	// minutes after midnight in the recipient's zone (quiet hours
	// outside). Both zero means the default, 08:00 to 21:00.
	SendFrom  int
	SendUntil int
	// TimeZone is the shop's IANA zone, used for contacts whose zone is
	// unknown (empty: UTC).
	TimeZone  string
	UpdatedAt time.Time
}

// Validate checks settings before they are saved.
func (s MessagingSettings) Validate() error {
	if len(s.MessagingServiceSID) > 64 {
		return Invalid("messaging_service_sid", "must be at most 64 bytes")
	}
	for i := 0; i < len(s.MessagingServiceSID); i++ {
		if c := s.MessagingServiceSID[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return Invalid("messaging_service_sid", "must be letters and digits (MG…)")
		}
	}
	if len(s.HelpText) > 1600 {
		return Invalid("help_text", "must be at most 1600 bytes")
	}
	if s.SendFrom < 0 || s.SendFrom >= 24*60 || s.SendUntil < 0 || s.SendUntil > 24*60 {
		return Invalid("send_window", "must be minutes within a day")
	}
	if (s.SendFrom != 0 || s.SendUntil != 0) && s.SendFrom >= s.SendUntil {
		return Invalid("send_window", "must start before it ends")
	}
	return ValidateTimeZoneName(s.TimeZone)
}

// MessagingSettingsRepo holds the unit of work's shop's messaging
// settings.
type MessagingSettingsRepo interface {
	// Get returns the settings; the zero MessagingSettings when never
	// saved.
	Get(ctx context.Context) (MessagingSettings, error)
	// Save replaces the settings (UpdatedAt stamped) and returns them as
	// stored. ErrInvalid for malformed settings, ErrConflict when another
	// shop holds the messaging service.
	Save(ctx context.Context, s MessagingSettings) (MessagingSettings, error)
}

// MessagingDirectoryRepo finds the shop an inbound provider request is
// about. It reads across shops and returns shop IDs only.
type MessagingDirectoryRepo interface {
	// ShopByMessagingService returns the shop whose settings name the
	// Twilio Messaging Service sid, or ErrNotFound.
	ShopByMessagingService(ctx context.Context, sid string) (ShopID, error)
	// ShopByProviderMessage returns the shop of the outbox message the
	// provider knows as providerID on channel, or ErrNotFound.
	ShopByProviderMessage(ctx context.Context, channel Channel, providerID string) (ShopID, error)
}
