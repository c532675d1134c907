package resend_test

import (
	"context"
	"testing"

	"github.com/stockadehq/stockade/internal/canary"
	"github.com/stockadehq/stockade/ports"
)

// TestProviderAnswersEchoingTheKeyLeakNothing is issue 16's canary over
// the Resend adapter: whatever the provider (or a proxy in front of it)
// answers — its message echoing the API key or the mail's text, an HTML
// error page quoting them, no answer at all — neither the key nor the
// body reaches the adapter's log or its error text.
func TestProviderAnswersEchoingTheKeyLeakNothing(t *testing.T) {
	const body = "canary body: https://acme.example.test/auth/magic-link?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	for _, c := range []struct {
		name   string
		status int
		answer string
	}{
		{"key refused, echoed", 401, `{"statusCode":401,"name":"invalid_api_key","message":"API key ` + apiKey + ` is invalid"}`},
		{"validation, echoing the text", 422, `{"statusCode":422,"name":"validation_error","message":"text ` + body + ` is too long"}`},
		{"rate limited, echoed", 429, `{"statusCode":429,"name":"rate_limit_exceeded","message":"too many requests for ` + apiKey + `"}`},
		{"proxy page", 502, `<html>Bad Gateway: Authorization: Bearer ` + apiKey + `</html>`},
		{"unreachable", 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink := canary.New(t)
			sink.Secret("the Resend API key", apiKey)
			f := newFakeResend(t)
			s, logs := newSender(t, f)
			if c.status == 0 {
				f.srv.Close()
			} else {
				f.fail(c.status, c.answer)
			}
			_, err := s.SendEmail(context.Background(), ports.Email{From: "a@example.test", To: "b@example.test", Subject: "s", Text: body, HTML: "<p>" + body + "</p>"})
			if err == nil {
				t.Fatal("the call failed")
			}
			sink.SeenError("the error of SendEmail", err)
			sink.Seen("the adapter's log", logs.String())
		})
	}
}
