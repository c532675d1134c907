package twilio_test

import (
	"context"
	"testing"

	"github.com/stockadehq/stockade/adapters/twilio"
	"github.com/stockadehq/stockade/internal/canary"
	"github.com/stockadehq/stockade/ports"
)

// TestProviderAnswersEchoingTheTokenLeakNothing is issue 16's canary over
// the Twilio adapter: whatever Twilio (or a proxy in front of it)
// answers — its message echoing the auth token, the API key secret or a
// link of the SMS, an HTML error page quoting them, no answer — none of
// them reaches the adapter's log or its error text.
func TestProviderAnswersEchoingTheTokenLeakNothing(t *testing.T) {
	const apiKeySecret = "CanaryApiKeySecret0123456789abcd"
	const body = "Sign in: https://acme.example.test/auth/magic-link?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	for _, c := range []struct {
		name   string
		apiKey bool
		status int
		answer string
	}{
		{"token refused, echoed", false, 401, `{"code":20003,"message":"Authenticate: ` + authToken + ` is not valid","status":401}`},
		{"API key refused, echoed", true, 401, `{"code":20003,"message":"Authenticate: ` + apiKeySecret + ` is not valid","status":401}`},
		{"body refused, echoed", false, 400, `{"code":21617,"message":"The body ` + body + ` is too long","status":400}`},
		{"opted out, echoed", false, 400, `{"code":21610,"message":"Attempt to send to unsubscribed recipient with ` + authToken + `","status":400}`},
		{"proxy page", false, 502, `<html>Bad Gateway: ` + authToken + ` ` + apiKeySecret + `</html>`},
		{"unreachable", false, 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink := canary.New(t)
			sink.Secret("the Twilio auth token", authToken)
			sink.Secret("the Twilio API key secret", apiKeySecret)
			f := newFakeTwilio(t)
			s, logs := newSender(t, f, func(cfg *twilio.Config) {
				if c.apiKey {
					cfg.APIKeySID, cfg.APIKeySecret = "SK0123456789abcdef0123456789abcdef", twilio.Secret(apiKeySecret)
				}
			})
			if c.status == 0 {
				f.srv.Close()
			} else {
				f.fail(c.status, c.answer)
			}
			_, err := s.SendSMS(context.Background(), ports.SMS{To: "+15551234567", Body: body, Category: ports.CategoryTransactional, MessagingServiceSID: defaultService})
			if err == nil {
				t.Fatal("the call failed")
			}
			sink.SeenError("the error of SendSMS", err)
			sink.Seen("the adapter's log", logs.String())
		})
	}
}
