package porttest

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// ProviderFault is a way the provider behind a sender fails.
type ProviderFault int

// The faults a sender harness must be able to inject. Each must make the
// sender return ErrUnavailable and deliver nothing.
const (
	// ProviderDown: the provider cannot be reached (connection refused).
	ProviderDown ProviderFault = iota + 1
	// ProviderError: the provider fails transiently (HTTP 5xx; SMTP 4xx).
	ProviderError
	// ProviderRateLimited: the provider says slow down (HTTP 429; SMTP
	// 451 4.7.1).
	ProviderRateLimited
)

func (f ProviderFault) String() string {
	switch f {
	case ProviderDown:
		return "Down"
	case ProviderError:
		return "Error"
	case ProviderRateLimited:
		return "RateLimited"
	}
	return fmt.Sprintf("ProviderFault(%d)", int(f))
}

// SenderProvider is the harness's view of what a sender's provider did.
type SenderProvider struct {
	// Fail makes the provider fail every later send in the given way.
	Fail func(ProviderFault)
	// Logs returns everything the sender has logged so far (at debug
	// level and above).
	Logs func() string
	// Redacts says the provider is itself a log (the console adapters):
	// the suite then checks that bodies and links are absent from what it
	// received, instead of present.
	Redacts bool
	// Idempotent says the provider takes an idempotency key: Received
	// messages then carry in IdempotencyKey the provider's duplicate
	// marker for the message — the key itself, or a value derived from it
	// (SMTP's Message-ID) — equal for equal keys and different for
	// different ones. False for a provider without any (Twilio's
	// Messages API).
	Idempotent bool
}

// EmailSenderFixture is one e-mail sender under test and its provider.
type EmailSenderFixture struct {
	Sender ports.EmailSender
	// Received returns the messages the provider accepted so far, in
	// order, as it saw them: addresses, decoded subject, text and HTML,
	// the extra headers it received (at least those the suite sent) and
	// the duplicate marker (see SenderProvider.Idempotent).
	Received func() []ports.Email
	SenderProvider
}

// EmailSenderHarness builds a fresh fixture for each subtest.
type EmailSenderHarness func(t *testing.T) EmailSenderFixture

// The secret-ish parts of the suite's messages: none may reach a log.
const (
	suiteBody        = "Your quote Q-1042 is ready: https://bobs.example.test/q/1042?token=body-secret-7f3a"
	suiteHTML        = "<p>Your quote is <a href=\"https://bobs.example.test/q/1042?token=html-secret-91c2\">ready</a></p>"
	suiteUnsubscribe = "<https://bobs.example.test/u/unsub-secret-5d8e>"
	suiteSMSBody     = "Bob's Plumbing: your code is 482913 (sms-secret-66b1)"
)

func suiteEmail(key string) ports.Email {
	return ports.Email{
		From: "Bob's Plumbing <hello@bobs.example.test>", To: "ada@example.test", ReplyTo: "bob@bobs.example.test",
		Subject: "Your quote — Café Q-1042", Text: suiteBody, HTML: suiteHTML,
		Headers: map[string]string{
			"List-Unsubscribe":      suiteUnsubscribe,
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		},
		IdempotencyKey: key,
	}
}

// TestEmailSender is the conformance suite of ports.EmailSender: a message
// arrives with its addresses, subject, text and HTML, and the RFC 8058
// headers exactly as given; a provider ID comes back; the idempotency key
// reaches providers that take one; malformed messages (addresses, header
// injection, reserved headers) are refused with ErrInvalid and nothing is
// sent; an unreachable, failing or rate-limiting provider gives
// ErrUnavailable; bodies and links never reach the logs; a cancelled
// context sends nothing; concurrent sends all arrive.
func TestEmailSender(t *testing.T, newFixture EmailSenderHarness) {
	ctx := context.Background()
	t.Run("Delivers", func(t *testing.T) {
		f := newFixture(t)
		sent, err := f.Sender.SendEmail(ctx, suiteEmail("quote-1042-v1"))
		require.NoError(t, err)
		assert.NotEmpty(t, sent.ProviderID)
		got := f.Received()
		require.Len(t, got, 1)
		assert.Equal(t, "ada@example.test", address(t, got[0].To))
		assert.Equal(t, "hello@bobs.example.test", address(t, got[0].From))
		assert.Equal(t, "bob@bobs.example.test", address(t, got[0].ReplyTo))
		assert.Equal(t, "Your quote — Café Q-1042", got[0].Subject)
		assert.Equal(t, "List-Unsubscribe=One-Click", header(got[0].Headers, "List-Unsubscribe-Post"))
		if f.Redacts {
			assert.NotContains(t, got[0].Text+got[0].HTML, "body-secret", "the console shows no body")
			assert.NotContains(t, header(got[0].Headers, "List-Unsubscribe"), "unsub-secret")
		} else {
			assert.Equal(t, suiteBody, strings.TrimRight(got[0].Text, "\r\n"))
			assert.Equal(t, suiteHTML, strings.TrimRight(got[0].HTML, "\r\n"))
			assert.Equal(t, suiteUnsubscribe, header(got[0].Headers, "List-Unsubscribe"))
		}
	})
	t.Run("TextOnlyAndHTMLOnly", func(t *testing.T) {
		f := newFixture(t)
		text, html := suiteEmail("t"), suiteEmail("h")
		text.HTML, html.Text = "", ""
		_, err := f.Sender.SendEmail(ctx, text)
		require.NoError(t, err)
		_, err = f.Sender.SendEmail(ctx, html)
		require.NoError(t, err)
		got := f.Received()
		require.Len(t, got, 2)
		if !f.Redacts {
			assert.Equal(t, suiteBody, strings.TrimRight(got[0].Text, "\r\n"))
			assert.Empty(t, got[0].HTML)
			assert.Empty(t, got[1].Text)
			assert.Equal(t, suiteHTML, strings.TrimRight(got[1].HTML, "\r\n"))
		}
	})
	t.Run("IdempotencyKey", func(t *testing.T) {
		f := newFixture(t)
		if !f.Idempotent {
			t.Log("the provider takes no idempotency key; nothing to carry")
			return
		}
		for _, k := range []string{"outbox-1", "outbox-1", "outbox-2"} {
			_, err := f.Sender.SendEmail(ctx, suiteEmail(k))
			require.NoError(t, err)
		}
		got := f.Received()
		require.Len(t, got, 3, "the suite's provider records every request; de-duplication is the real provider's")
		assert.NotEmpty(t, got[0].IdempotencyKey)
		assert.Equal(t, got[0].IdempotencyKey, got[1].IdempotencyKey, "a retry carries the same marker")
		assert.NotEqual(t, got[0].IdempotencyKey, got[2].IdempotencyKey, "another message carries another marker")
	})
	t.Run("RefusesBadInput", func(t *testing.T) {
		tests := []struct {
			name string
			edit func(*ports.Email)
		}{
			{"no recipient", func(m *ports.Email) { m.To = "" }},
			{"malformed recipient", func(m *ports.Email) { m.To = "not an address" }},
			{"two recipients", func(m *ports.Email) { m.To = "ada@example.test, eve@example.test" }},
			{"malformed sender", func(m *ports.Email) { m.From = "Bob" }},
			{"header injection in subject", func(m *ports.Email) { m.Subject = "hi\r\nBcc: eve@example.test" }},
			{"header injection in a header value", func(m *ports.Email) {
				m.Headers = map[string]string{"List-Unsubscribe": "<https://x.test/u>\r\nBcc: eve@example.test"}
			}},
			{"a Bcc header", func(m *ports.Email) { m.Headers = map[string]string{"Bcc": "eve@example.test"} }},
			{"no body", func(m *ports.Email) { m.Text, m.HTML = "", "" }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t)
				m := suiteEmail("bad")
				tt.edit(&m)
				_, err := f.Sender.SendEmail(ctx, m)
				assert.ErrorIs(t, err, ports.ErrInvalid)
				assert.Empty(t, f.Received())
			})
		}
	})
	t.Run("ProviderFaults", func(t *testing.T) {
		for _, fault := range []ProviderFault{ProviderDown, ProviderError, ProviderRateLimited} {
			t.Run(fault.String(), func(t *testing.T) {
				f := newFixture(t)
				f.Fail(fault)
				_, err := f.Sender.SendEmail(ctx, suiteEmail("fault"))
				assert.ErrorIs(t, err, ports.ErrUnavailable)
				assert.Empty(t, f.Received())
				assert.NotContains(t, f.Logs(), "secret", "a failure logs no body or link")
			})
		}
	})
	t.Run("BodiesNeverLogged", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.Sender.SendEmail(ctx, suiteEmail("logged"))
		require.NoError(t, err)
		logs := f.Logs()
		for _, s := range []string{"body-secret", "html-secret", "unsub-secret", "Q-1042 is ready"} {
			assert.NotContains(t, logs, s)
		}
	})
	t.Run("CancelledContext", func(t *testing.T) {
		f := newFixture(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := f.Sender.SendEmail(cctx, suiteEmail("cancelled"))
		assert.Error(t, err)
		assert.Empty(t, f.Received())
	})
	t.Run("Concurrent", func(t *testing.T) {
		f := newFixture(t)
		const n = 8
		ids := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				sent, err := f.Sender.SendEmail(ctx, suiteEmail(fmt.Sprintf("concurrent-%d", i)))
				assert.NoError(t, err)
				ids[i] = sent.ProviderID
			})
		}
		wg.Wait()
		assert.Len(t, f.Received(), n)
		seen := map[string]bool{}
		for _, id := range ids {
			assert.NotEmpty(t, id)
			assert.False(t, seen[id], "provider IDs are distinct")
			seen[id] = true
		}
	})
}

// address returns the bare address of "Name <addr>" or "addr".
func address(t *testing.T, s string) string {
	t.Helper()
	if s == "" {
		return ""
	}
	a, err := mail.ParseAddress(s)
	require.NoError(t, err, "%q", s)
	return a.Address
}

// header looks a header up case-insensitively.
func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
