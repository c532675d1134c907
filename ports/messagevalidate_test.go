package ports_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/stockadehq/stockade/ports"
)

func TestValidateE164(t *testing.T) {
	for _, ok := range []string{"+15551234567", "+447911123456", "+4930123456", "+1234567", "+123456789012345"} {
		assert.NoError(t, ports.ValidateE164(ok), ok)
	}
	for _, bad := range []string{"", "15551234567", "+0555123456", "+1 555 123 4567", "+1-555-1234567", "+123456", "+1234567890123456", "+1555123456a", "++15551234567", "+１５５５１２３４５６７"} {
		assert.ErrorIs(t, ports.ValidateE164(bad), ports.ErrInvalid, bad)
	}
}

func TestSMSValidate(t *testing.T) {
	good := ports.SMS{MessagingServiceSID: "MG0123456789abcdef0123456789abcdef", To: "+15551234567", Body: "Your quote is ready", IdempotencyKey: "msg-1"}
	assert.NoError(t, good.Validate())
	transactional := ports.SMS{To: "+15551234567", Body: "Code 123456", Category: ports.CategoryTransactional}
	assert.NoError(t, transactional.Validate(), "a transactional message may leave the service to the adapter's default")

	tests := []struct {
		name string
		edit func(*ports.SMS)
		want error
	}{
		{"malformed number", func(m *ports.SMS) { m.To = "555-1234" }, ports.ErrInvalid},
		{"empty body", func(m *ports.SMS) { m.Body = "" }, ports.ErrInvalid},
		{"body too long", func(m *ports.SMS) { m.Body = strings.Repeat("é", ports.MaxSMSBody+1) }, ports.ErrInvalid},
		{"invalid UTF-8", func(m *ports.SMS) { m.Body = "\xff" }, ports.ErrInvalid},
		{"relative status callback", func(m *ports.SMS) { m.StatusCallback = "/status" }, ports.ErrInvalid},
		{"key with a space", func(m *ports.SMS) { m.IdempotencyKey = "a b" }, ports.ErrInvalid},
		{"key too long", func(m *ports.SMS) { m.IdempotencyKey = strings.Repeat("k", ports.MaxIdempotencyKey+1) }, ports.ErrInvalid},
		{"unknown category", func(m *ports.SMS) { m.Category = "promo" }, ports.ErrInvalid},
		{"marketing without a service", func(m *ports.SMS) { m.MessagingServiceSID = "" }, ports.ErrNoMessagingService},
		{"explicit marketing without a service", func(m *ports.SMS) { m.MessagingServiceSID, m.Category = "", ports.CategoryMarketing }, ports.ErrNoMessagingService},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := good
			tt.edit(&m)
			assert.ErrorIs(t, m.Validate(), tt.want)
		})
	}
	assert.ErrorIs(t, ports.ErrNoMessagingService, ports.ErrInvalid, "the typed error is an ErrInvalid too")
}

func TestEmailValidate(t *testing.T) {
	good := ports.Email{
		From: "Bob's Plumbing <hello@bobs.example>", To: "ada@example.com", ReplyTo: "bob@bobs.example",
		Subject: "Your quote", Text: "Hi Ada", HTML: "<p>Hi Ada</p>",
		Headers: map[string]string{
			"List-Unsubscribe":      "<https://bobs.example.com/u/abc>",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		},
		IdempotencyKey: "outbox-0192",
	}
	assert.NoError(t, good.Validate())

	tests := []struct {
		name string
		edit func(*ports.Email)
	}{
		{"no recipient", func(m *ports.Email) { m.To = "" }},
		{"malformed recipient", func(m *ports.Email) { m.To = "not an address" }},
		{"two recipients", func(m *ports.Email) { m.To = "a@example.com, b@example.com" }},
		{"recipient with a line break", func(m *ports.Email) { m.To = "a@example.com\r\nBcc: eve@example.com" }},
		{"malformed sender", func(m *ports.Email) { m.From = "Bob" }},
		{"malformed reply-to", func(m *ports.Email) { m.ReplyTo = "@" }},
		{"subject injection", func(m *ports.Email) { m.Subject = "Hi\r\nBcc: eve@example.com" }},
		{"empty subject", func(m *ports.Email) { m.Subject = " " }},
		{"no body", func(m *ports.Email) { m.Text, m.HTML = "", "" }},
		{"header value injection", func(m *ports.Email) {
			m.Headers = map[string]string{"List-Unsubscribe": "<https://x>\r\nBcc: eve@example.com"}
		}},
		{"header name with a colon", func(m *ports.Email) { m.Headers = map[string]string{"X-A:b": "v"} }},
		{"reserved header Bcc", func(m *ports.Email) { m.Headers = map[string]string{"bcc": "eve@example.com"} }},
		{"reserved header Message-ID", func(m *ports.Email) { m.Headers = map[string]string{"Message-Id": "<x@y>"} }},
		{"non-ASCII header value", func(m *ports.Email) { m.Headers = map[string]string{"X-Note": "café"} }},
		{"empty header value", func(m *ports.Email) { m.Headers = map[string]string{"X-Note": ""} }},
		{"key with a line break", func(m *ports.Email) { m.IdempotencyKey = "a\nb" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := good
			tt.edit(&m)
			assert.ErrorIs(t, m.Validate(), ports.ErrInvalid)
		})
	}
}
