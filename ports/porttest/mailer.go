package porttest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// MailerHarness returns a mailer under test and a function that returns
// the messages its transport has received so far, as the receiving side
// saw them.
type MailerHarness func(t *testing.T) (m ports.Mailer, delivered func() []ports.Mail)

// TestMailer is the conformance suite of ports.Mailer: a message arrives
// with its recipient, subject and body; a malformed recipient or a subject
// that would inject headers is refused with ErrInvalid and nothing is
// sent; a cancelled context sends nothing.
func TestMailer(t *testing.T, newMailer MailerHarness) {
	ctx := context.Background()
	t.Run("Delivers", func(t *testing.T) {
		m, delivered := newMailer(t)
		require.NoError(t, m.Send(ctx, ports.Mail{To: "ada@example.test", Subject: "Your sign-in link", Text: "Open https://acme.example.test/x?token=abc\n"}))
		got := delivered()
		require.Len(t, got, 1)
		assert.Equal(t, "ada@example.test", got[0].To)
		assert.Equal(t, "Your sign-in link", got[0].Subject)
		assert.Contains(t, got[0].Text, "https://acme.example.test/x?token=abc")
	})
	t.Run("RefusesBadInput", func(t *testing.T) {
		tests := []struct {
			name string
			give ports.Mail
		}{
			{"no recipient", ports.Mail{Subject: "s", Text: "t"}},
			{"malformed recipient", ports.Mail{To: "not an address", Subject: "s", Text: "t"}},
			{"header injection in subject", ports.Mail{To: "ada@example.test", Subject: "hi\r\nBcc: eve@example.test", Text: "t"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				m, delivered := newMailer(t)
				assert.ErrorIs(t, m.Send(ctx, tt.give), ports.ErrInvalid)
				assert.Empty(t, delivered())
			})
		}
	})
	t.Run("CancelledContext", func(t *testing.T) {
		m, delivered := newMailer(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		assert.Error(t, m.Send(cctx, ports.Mail{To: "ada@example.test", Subject: "s", Text: "t"}))
		assert.Empty(t, delivered())
	})
}
