package porttest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// SMSSenderFixture is one SMS sender under test and its provider.
type SMSSenderFixture struct {
	Sender ports.SMSSender
	// Received returns the messages the provider accepted so far, in
	// order, as it saw them: the Messaging Service, the number, the body,
	// the status callback and the duplicate marker (see
	// SenderProvider.Idempotent).
	Received func() []ports.SMS
	// DefaultService is the Messaging Service the sender uses for a
	// transactional SMS that names none ("" if it uses none); with
	// RefusesTransactionalWithoutService it refuses such a message with
	// ErrNoMessagingService instead.
	DefaultService                     string
	RefusesTransactionalWithoutService bool
	SenderProvider
}

// SMSSenderHarness builds a fresh fixture for each subtest.
type SMSSenderHarness func(t *testing.T) SMSSenderFixture

const suiteService = "MG0123456789abcdef0123456789abcdef"

func suiteSMS(key string) ports.SMS {
	return ports.SMS{
		MessagingServiceSID: suiteService, To: "+15551234567", Body: suiteSMSBody,
		IdempotencyKey: key, StatusCallback: "https://hooks.example.test/twilio/status",
		Category: ports.CategoryMarketing,
	}
}

// TestSMSSender is the conformance suite of ports.SMSSender: a message
// goes out through the shop's Messaging Service with its number, body and
// status callback, and a provider ID comes back; a marketing message
// without a Messaging Service is refused with ErrNoMessagingService and a
// transactional one follows the fixture's declared default; malformed
// numbers and bodies are refused with ErrInvalid and nothing is sent; an
// unreachable, failing or rate-limiting provider gives ErrUnavailable;
// bodies never reach the logs; a cancelled context sends nothing;
// concurrent sends all arrive.
func TestSMSSender(t *testing.T, newFixture SMSSenderHarness) {
	ctx := context.Background()
	t.Run("Delivers", func(t *testing.T) {
		f := newFixture(t)
		sent, err := f.Sender.SendSMS(ctx, suiteSMS("sms-1"))
		require.NoError(t, err)
		assert.NotEmpty(t, sent.ProviderID)
		got := f.Received()
		require.Len(t, got, 1)
		assert.Equal(t, suiteService, got[0].MessagingServiceSID)
		assert.Equal(t, "+15551234567", got[0].To)
		assert.Equal(t, "https://hooks.example.test/twilio/status", got[0].StatusCallback)
		if f.Redacts {
			assert.NotContains(t, got[0].Body, "482913")
		} else {
			assert.Equal(t, suiteSMSBody, got[0].Body)
		}
	})
	t.Run("MarketingNeedsAMessagingService", func(t *testing.T) {
		for _, cat := range []ports.MessageCategory{ports.CategoryMarketing, ""} {
			f := newFixture(t)
			m := suiteSMS("no-service")
			m.MessagingServiceSID, m.Category = "", cat
			_, err := f.Sender.SendSMS(ctx, m)
			assert.ErrorIs(t, err, ports.ErrNoMessagingService, "category %q", cat)
			assert.Empty(t, f.Received())
		}
	})
	t.Run("TransactionalWithoutAMessagingService", func(t *testing.T) {
		f := newFixture(t)
		m := suiteSMS("transactional")
		m.MessagingServiceSID, m.Category = "", ports.CategoryTransactional
		_, err := f.Sender.SendSMS(ctx, m)
		if f.RefusesTransactionalWithoutService {
			assert.ErrorIs(t, err, ports.ErrNoMessagingService)
			assert.Empty(t, f.Received())
			return
		}
		require.NoError(t, err)
		got := f.Received()
		require.Len(t, got, 1)
		assert.Equal(t, f.DefaultService, got[0].MessagingServiceSID)
	})
	t.Run("IdempotencyKey", func(t *testing.T) {
		f := newFixture(t)
		if !f.Idempotent {
			t.Log("the provider takes no idempotency key; the outbox's duplicate window applies")
			return
		}
		for _, k := range []string{"sms-a", "sms-a", "sms-b"} {
			_, err := f.Sender.SendSMS(ctx, suiteSMS(k))
			require.NoError(t, err)
		}
		got := f.Received()
		require.Len(t, got, 3)
		assert.NotEmpty(t, got[0].IdempotencyKey)
		assert.Equal(t, got[0].IdempotencyKey, got[1].IdempotencyKey)
		assert.NotEqual(t, got[0].IdempotencyKey, got[2].IdempotencyKey)
	})
	t.Run("RefusesBadInput", func(t *testing.T) {
		tests := []struct {
			name string
			edit func(*ports.SMS)
		}{
			{"no number", func(m *ports.SMS) { m.To = "" }},
			{"national format", func(m *ports.SMS) { m.To = "(555) 123-4567" }},
			{"letters", func(m *ports.SMS) { m.To = "+1555CALLBOB" }},
			{"too short", func(m *ports.SMS) { m.To = "+1234" }},
			{"empty body", func(m *ports.SMS) { m.Body = "" }},
			{"relative status callback", func(m *ports.SMS) { m.StatusCallback = "/status" }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t)
				m := suiteSMS("bad")
				tt.edit(&m)
				_, err := f.Sender.SendSMS(ctx, m)
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
				_, err := f.Sender.SendSMS(ctx, suiteSMS("fault"))
				assert.ErrorIs(t, err, ports.ErrUnavailable)
				assert.Empty(t, f.Received())
				assert.NotContains(t, f.Logs(), "482913", "a failure logs no body")
			})
		}
	})
	t.Run("BodiesNeverLogged", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.Sender.SendSMS(ctx, suiteSMS("logged"))
		require.NoError(t, err)
		assert.NotContains(t, f.Logs(), "482913")
		assert.NotContains(t, f.Logs(), "sms-secret")
	})
	t.Run("CancelledContext", func(t *testing.T) {
		f := newFixture(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := f.Sender.SendSMS(cctx, suiteSMS("cancelled"))
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
				sent, err := f.Sender.SendSMS(ctx, suiteSMS(fmt.Sprintf("concurrent-%d", i)))
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
