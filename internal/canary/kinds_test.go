package canary

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSinkReportsEachKind proves the Sink is not vacuous for any kind of
// secret issue 16's canary test names: each is leaked on purpose, the way
// a careless adapter or handler would leak it, and must be reported by
// name and place, without repeating the secret.
func TestSinkReportsEachKind(t *testing.T) {
	const token43 = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5"
	for _, c := range []struct {
		kind   string
		secret string // the value registered ("" for the built-in pattern)
		card   bool   // register with Card instead of Secret
		where  string
		leak   string
	}{
		{"a password", "correct-horse-battery", false, "log", `{"msg":"sign-in","password":"correct-horse-battery"}`},
		{"a session cookie", "019a0c1e.s3cr3tTok3nV4lu3.mac0123", false, "log", `{"msg":"request","cookie":"__Host-stockade_session=019a0c1e.s3cr3tTok3nV4lu3.mac0123"}`},
		{"a link token", "", false, "error", "send: https://acme.example.test/auth/magic-link?token=" + token43[:43] + " refused"},
		{"a mailed link token", "mailedTok3nAbCdEf", false, "problem body", `{"detail":"token mailedTok3nAbCdEf is used"}`},
		{"the Stripe API key", "sk_test_51HxCanaryKey", false, "error", `stripe: POST /v1/customers: Authorization: Bearer sk_test_51HxCanaryKey: 401`},
		{"the Resend API key", "re_CanaryResendKey_123", false, "error", `resend: 401 for key re_CanaryResendKey_123`},
		{"the Twilio auth token", "0123456789abcdef0123456789abcdef", false, "error", `Post "https://AC00:0123456789abcdef0123456789abcdef@api.twilio.com/2010-04-01": EOF`},
		{"the Stripe webhook secret", "whsec_canary_platform_0123", false, "log", `{"msg":"billing webhook refused","error":"no signature for whsec_canary_platform_0123"}`},
		{"the Svix webhook secret", "whsec_c3ZpeENhbmFyeVNlY3JldA==", false, "problem body", `{"detail":"bad key whsec_c3ZpeENhbmFyeVNlY3JldA=="}`},
		{"an impersonation code", "imp-canary-code-7f3e91", false, "log", `{"msg":"impersonation entered","code":"imp-canary-code-7f3e91"}`},
		{"an unsubscribe token", "u1.CanaryUnsubscribeToken", false, "log", `{"msg":"request","path":"/u/u1.CanaryUnsubscribeToken"}`},
		{"the database password", "pg-Canary-pw-42", false, "error", `open postgres://stockade:pg-Canary-pw-42@db/stockade: connection refused`},
		{"a card number as digits", "4242424242424242", true, "log", `{"card":"4242424242424242"}`},
		{"a card number with spaces", "4242424242424242", true, "problem body", `{"detail":"card 4242 4242 4242 4242 refused"}`},
		{"a card number with dashes", "4242 4242 4242 4242", true, "error", `charge 4242-4242-4242-4242: declined`},
	} {
		t.Run(c.kind, func(t *testing.T) {
			s := New(&fakeT{TB: t})
			switch {
			case c.card:
				s.Card(c.kind, c.secret)
			case c.secret != "":
				s.Secret(c.kind, c.secret)
			}
			switch c.where {
			case "log":
				_, _ = s.Write([]byte(c.leak + "\n"))
			case "error":
				s.SeenError("error", errors.New(c.leak))
			default:
				s.Seen(c.where, c.leak)
			}
			leaks := s.Leaks()
			require.Len(t, leaks, 1, "%v", leaks)
			assert.True(t, strings.HasPrefix(leaks[0], c.kind+" appeared in "+c.where), leaks[0])
			if c.secret != "" {
				assert.NotContains(t, leaks[0], c.secret, "the secret is not repeated")
			}
			assert.Len(t, s.TakeLeaks(), 1)
			assert.Empty(t, s.Leaks(), "TakeLeaks forgets what was seen")
		})
	}
}

// TestCardIsNotFoundInsideLongerNumbers: a card's digits inside a longer
// run of digits (a timestamp, an ID) are not a leak, nor are its last
// four digits.
func TestCardIsNotFoundInsideLongerNumbers(t *testing.T) {
	s := New(&fakeT{TB: t})
	s.Card("a card number", "4242 4242 4242 4242")
	s.Seen("log", `{"ts":142424242424242420,"id":"94242424242424242"}`)
	assert.Empty(t, s.Leaks())
	s.Seen("log", `{"last4":"4242","brand":"visa"}`)
	assert.Empty(t, s.Leaks(), "the last four digits are not the number")
}
