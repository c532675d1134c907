package ports

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Limits the message checks enforce.
const (
	// MaxSMSBody is the longest SMS body, in characters (Twilio's limit;
	// longer text is split into at most 10 segments by the carrier).
	MaxSMSBody = 1600
	// MaxIdempotencyKey is the longest idempotency key, in bytes
	// (Resend's limit).
	MaxIdempotencyKey = 256
	// maxHeaderLine is RFC 5322's limit on one header line, in bytes.
	maxHeaderLine = 998
)

// ValidateE164 checks that phone is an E.164 number as carriers route it:
// '+', a country code not starting with 0, 7 to 15 digits in all, nothing
// else (no spaces, dashes or brackets).
func ValidateE164(phone string) error {
	digits, ok := strings.CutPrefix(phone, "+")
	if !ok || len(digits) < 7 || len(digits) > 15 || digits[0] == '0' {
		return Invalid("phone", "must be an E.164 number such as +15551234567")
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return Invalid("phone", "must be an E.164 number such as +15551234567")
		}
	}
	return nil
}

// Validate checks an SMS before it is handed to a provider: To is E.164,
// the body is 1 to MaxSMSBody characters of valid UTF-8 without NUL, the
// status callback (if any) is an absolute http(s) URL, the idempotency key
// is well-formed (see validateIdempotencyKey), and a message that is not
// explicitly transactional names its shop's Messaging Service, else
// ErrNoMessagingService. Every SMSSender calls it first, so all adapters
// refuse the same messages.
func (m SMS) Validate() error {
	if err := ValidateE164(m.To); err != nil {
		return Invalid("to", "must be an E.164 number such as +15551234567")
	}
	if m.Body == "" || !utf8.ValidString(m.Body) || strings.ContainsRune(m.Body, 0) {
		return Invalid("body", "must be non-empty UTF-8 text")
	}
	if n := utf8.RuneCountInString(m.Body); n > MaxSMSBody {
		return Invalid("body", fmt.Sprintf("must be at most %d characters, got %d", MaxSMSBody, n))
	}
	if m.StatusCallback != "" {
		if u, err := url.Parse(m.StatusCallback); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return Invalid("status callback", "must be an absolute http(s) URL")
		}
	}
	if err := validateIdempotencyKey(m.IdempotencyKey); err != nil {
		return err
	}
	if strings.ContainsFunc(m.MessagingServiceSID, isCtlOrSpace) {
		return Invalid("messaging service", "must not contain spaces or control characters")
	}
	switch m.Category {
	case "", CategoryMarketing, CategoryTransactional:
	default:
		return Invalid("category", fmt.Sprintf("unknown category %q", m.Category))
	}
	if m.MessagingServiceSID == "" && m.Category != CategoryTransactional {
		return ErrNoMessagingService
	}
	return nil
}

// reservedHeaders are the headers Email.Headers may not set: the sender
// builds them from the message's own fields, and letting a caller add Bcc
// or a second To would add recipients behind the consent check.
var reservedHeaders = map[string]bool{
	"from": true, "sender": true, "to": true, "cc": true, "bcc": true, "reply-to": true,
	"subject": true, "date": true, "message-id": true, "mime-version": true,
	"content-type": true, "content-transfer-encoding": true, "content-disposition": true,
	"return-path": true, "received": true, "dkim-signature": true,
}

// Validate checks an e-mail before it is handed to a provider: From, To
// and (if set) ReplyTo are single RFC 5322 addresses; the subject is one
// non-empty line; there is a text or HTML body; every extra header has a
// valid field name that is not one the sender sets itself (From, To, Cc,
// Bcc, Subject, Message-ID, Content-*, …) and a printable-ASCII value on
// one line; the idempotency key is well-formed. Every EmailSender calls it
// first, so all adapters refuse the same messages; header injection
// through any field is refused here.
func (m Email) Validate() error {
	for _, f := range []struct{ name, v string }{{"from", m.From}, {"to", m.To}, {"reply to", m.ReplyTo}} {
		if f.v == "" && f.name == "reply to" {
			continue
		}
		if err := validateAddress(f.name, f.v); err != nil {
			return err
		}
	}
	if strings.TrimSpace(m.Subject) == "" || strings.ContainsAny(m.Subject, "\r\n\x00") || !utf8.ValidString(m.Subject) {
		return Invalid("subject", "must be one non-empty line of UTF-8 text")
	}
	if len(m.Subject) > maxHeaderLine {
		return Invalid("subject", fmt.Sprintf("must be at most %d bytes", maxHeaderLine))
	}
	if m.Text == "" && m.HTML == "" {
		return Invalid("body", "needs a text or an HTML part")
	}
	if !utf8.ValidString(m.Text) || !utf8.ValidString(m.HTML) {
		return Invalid("body", "must be UTF-8 text")
	}
	for name, v := range m.Headers {
		if err := validateHeader(name, v); err != nil {
			return err
		}
	}
	return validateIdempotencyKey(m.IdempotencyKey)
}

// validateAddress checks one address, "addr@example.com" or
// "Name <addr@example.com>".
func validateAddress(field, v string) error {
	if strings.ContainsAny(v, "\r\n\x00") {
		return Invalid(field, "must be one line")
	}
	a, err := mail.ParseAddress(v)
	if err != nil {
		return Invalid(field, "must be one address such as ada@example.com or \"Ada <ada@example.com>\"")
	}
	if err := ValidateEmail(strings.ToLower(a.Address)); err != nil {
		var inv *InvalidError
		if errors.As(err, &inv) {
			return Invalid(field, inv.Reason)
		}
		return err
	}
	return nil
}

// validateHeader checks one extra header.
func validateHeader(name, v string) error {
	if name == "" || len(name) > 76 {
		return Invalid("header", "name must be 1 to 76 characters")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 33 || c > 126 || c == ':' {
			return Invalid("header", fmt.Sprintf("name %q is not an RFC 5322 field name", name))
		}
	}
	if reservedHeaders[strings.ToLower(name)] {
		return Invalid("header", fmt.Sprintf("%s is set by the sender from the message itself", name))
	}
	if v == "" || len(name)+2+len(v) > maxHeaderLine {
		return Invalid("header", fmt.Sprintf("%s: value must be 1 to %d bytes", name, maxHeaderLine-len(name)-2))
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 32 && c != '\t') || c > 126 {
			return Invalid("header", fmt.Sprintf("%s: value must be printable ASCII on one line", name))
		}
	}
	return nil
}

// validateIdempotencyKey checks a key: empty, or 1 to MaxIdempotencyKey
// bytes of printable ASCII without spaces, so every provider can carry
// it in a header.
func validateIdempotencyKey(k string) error {
	if len(k) > MaxIdempotencyKey {
		return Invalid("idempotency key", fmt.Sprintf("must be at most %d bytes", MaxIdempotencyKey))
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 33 || c > 126 {
			return Invalid("idempotency key", "must be printable ASCII without spaces")
		}
	}
	return nil
}

func isCtlOrSpace(r rune) bool { return r <= ' ' || r == 0x7f }
