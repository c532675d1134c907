package ports

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// ContactID identifies a messaging contact of a shop (MSG-4).
type ContactID struct{ uuid.UUID }

// IsZero reports whether id is the nil UUID.
func (id ContactID) IsZero() bool { return id.UUID == uuid.Nil }

// NewContactID returns a fresh UUIDv7 contact ID.
func NewContactID() ContactID { return ContactID{newUUID()} }

// ParseContactID parses the canonical text form of a contact ID (see
// ParseShopID).
func ParseContactID(s string) (ContactID, error) {
	u, err := parseUUID("contact id", s)
	return ContactID{u}, err
}

// Contact is someone a shop sends messages to: a phone number in E.164,
// an e-mail address, or both. It is a tenant row; within a shop one phone
// number and one address belong to at most one contact, so that consent
// given or withdrawn on one channel reaches the other (MSG-4).
type Contact struct {
	ID    ContactID
	Phone string // E.164 ("+15551234567") or empty
	Email string // normalised (NormalizeEmail) or empty
	// TimeZone is the contact's IANA zone ("America/Chicago"), or empty
	// when unknown (the shop's zone applies).
	TimeZone  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks a contact before it is stored: an ID, at least one of
// phone and e-mail, each well-formed (the e-mail already normalised), and
// a plausible zone name.
func (c Contact) Validate() error {
	if c.ID.IsZero() {
		return Invalid("id", "must be set")
	}
	if c.Phone == "" && c.Email == "" {
		return Invalid("contact", "needs a phone number or an e-mail address")
	}
	if c.Phone != "" {
		if err := ValidatePhone(c.Phone); err != nil {
			return err
		}
	}
	if c.Email != "" {
		if err := ValidateEmail(c.Email); err != nil {
			return err
		}
		if NormalizeEmail(c.Email) != c.Email {
			return Invalid("email", "must be normalised")
		}
	}
	return ValidateTimeZoneName(c.TimeZone)
}

// ValidatePhone checks that phone is in E.164 form: '+', a non-zero first
// digit, 7 to 15 digits in all, nothing else. Callers normalise user input
// first (core/messaging does).
func ValidatePhone(phone string) error {
	if len(phone) < 8 || len(phone) > 16 || phone[0] != '+' || phone[1] == '0' {
		return Invalid("phone", "must be an E.164 number such as +15551234567")
	}
	for i := 1; i < len(phone); i++ {
		if phone[i] < '0' || phone[i] > '9' {
			return Invalid("phone", "must be an E.164 number such as +15551234567")
		}
	}
	return nil
}

// ValidateTimeZoneName checks the shape of an IANA zone name ("" is
// allowed and means unset): at most 64 bytes of letters, digits, '/', '_',
// '-' and '+'. Whether the zone exists is the core's question.
func ValidateTimeZoneName(name string) error {
	if len(name) > 64 {
		return Invalid("time_zone", "must be an IANA zone name")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '/', c == '_', c == '-', c == '+':
		default:
			return Invalid("time_zone", "must be an IANA zone name")
		}
	}
	return nil
}

// ConsentTopic is what a consent record is about. Marketing is one topic
// across channels: withdrawing it by SMS (STOP) also stops marketing
// e-mail, and an e-mail unsubscribe also stops marketing SMS (MSG-4).
type ConsentTopic string

// The consent topics.
const (
	// TopicSMS is every text message to the contact's phone, of any
	// category. STOP withdraws it (and marketing); START restores it.
	TopicSMS ConsentTopic = "sms"
	// TopicEmail is every e-mail to the contact's address, of any
	// category (a contact who asked never to be e-mailed at all).
	TopicEmail ConsentTopic = "email"
	// TopicMarketing is marketing on every channel.
	TopicMarketing ConsentTopic = "marketing"
)

// ValidateConsentTopic checks t is one of the topics.
func ValidateConsentTopic(t ConsentTopic) error {
	switch t {
	case TopicSMS, TopicEmail, TopicMarketing:
		return nil
	}
	return Invalid("topic", "must be sms, email or marketing")
}

// ConsentSource says where a consent change came from; every change is
// audited with it (MSG-4).
type ConsentSource string

// The consent sources.
const (
	SourceKeyword  ConsentSource = "keyword"  // an SMS keyword (STOP, START, …) from the contact
	SourceLink     ConsentSource = "link"     // a one-click unsubscribe link (RFC 8058)
	SourceAdmin    ConsentSource = "admin"    // a member of the shop
	SourceAPI      ConsentSource = "api"      // the embedding application
	SourceProvider ConsentSource = "provider" // the provider reported it (spam complaint, carrier opt-out)
)

// ValidateConsentSource checks s is one of the sources.
func ValidateConsentSource(s ConsentSource) error {
	switch s {
	case SourceKeyword, SourceLink, SourceAdmin, SourceAPI, SourceProvider:
		return nil
	}
	return Invalid("source", "must be keyword, link, admin, api or provider")
}

// Consent is the latest recorded state of one topic for one contact. A
// topic with no record has never been withdrawn.
type Consent struct {
	Contact   ContactID
	Topic     ConsentTopic
	OptedOut  bool
	Source    ConsentSource
	ChangedAt time.Time // stamped by the store
}

// Validate checks a consent record before it is stored.
func (c Consent) Validate() error {
	if c.Contact.IsZero() {
		return Invalid("contact", "must be set")
	}
	if err := ValidateConsentTopic(c.Topic); err != nil {
		return err
	}
	return ValidateConsentSource(c.Source)
}

// ConsentRepo is the unit of work's shop's consent registry: its contacts
// and what each has withdrawn (MSG-4). No method takes a shop ID: the shop
// is the transaction's.
type ConsentRepo interface {
	// CreateContact stores c (CreatedAt and UpdatedAt stamped) and returns
	// it as stored. ErrInvalid for a malformed contact (see Validate),
	// ErrConflict for a taken ID, or a phone or address another contact of
	// the shop holds.
	CreateContact(ctx context.Context, c Contact) (Contact, error)
	// UpdateContact replaces the phone, e-mail and time zone of the
	// contact with c.ID (UpdatedAt stamped). ErrNotFound for an unknown
	// contact, otherwise as CreateContact.
	UpdateContact(ctx context.Context, c Contact) (Contact, error)
	// GetContact returns the contact or ErrNotFound.
	GetContact(ctx context.Context, id ContactID) (Contact, error)
	// ContactByPhone returns the contact holding an E.164 number, or
	// ErrNotFound.
	ContactByPhone(ctx context.Context, phone string) (Contact, error)
	// ContactByEmail returns the contact holding a normalised address, or
	// ErrNotFound.
	ContactByEmail(ctx context.Context, email string) (Contact, error)
	// ListContacts returns the shop's contacts in ID order (oldest first),
	// those after the cursor after (zero: from the start), at most limit
	// (0 means 100, capped at 1000).
	ListContacts(ctx context.Context, after ContactID, limit int) ([]Contact, error)
	// MergeContacts folds contact drop into keep, atomically: keep takes
	// drop's phone or e-mail where it has none, drop's outbox messages
	// move to keep, and for each topic the merged record is the opt-out if
	// either contact opted out (the later one when both did), else the
	// later record; drop is then deleted. Returns the merged contact.
	// ErrNotFound when either is unknown, ErrInvalid when they are the same
	// or both hold a (different) phone or both a (different) e-mail.
	MergeContacts(ctx context.Context, keep, drop ContactID) (Contact, error)
	// Consent returns the contact's consent records, one per recorded
	// topic, sorted by topic. ErrNotFound for an unknown contact.
	Consent(ctx context.Context, id ContactID) ([]Consent, error)
	// ConsentOf is Consent for several contacts in one read: each known
	// contact's records, sorted by topic (empty when it has none), by the
	// contact's ID. An unknown contact (where Consent returns ErrNotFound)
	// is missing from the map; a contact named twice is read once.
	// ErrInvalid for more than MaxBatch contacts.
	ConsentOf(ctx context.Context, ids []ContactID) (map[ContactID][]Consent, error)
	// SetConsent records c as the topic's state for the contact
	// (ChangedAt stamped) and returns the record it replaced (the zero
	// Consent, with an empty Source, when there was none) and the record
	// as stored. ErrInvalid for a malformed record, ErrNotFound for an
	// unknown contact.
	SetConsent(ctx context.Context, c Consent) (previous, stored Consent, err error)
}
