package console_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/console"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

func TestMailerWritesTheMessage(t *testing.T) {
	var out bytes.Buffer
	m := console.NewMailer(&out)
	require.NoError(t, m.Send(context.Background(), ports.Mail{To: " Ada@Example.com ", Subject: "Hello", Text: "link: https://x/y"}))
	assert.Contains(t, out.String(), "To: ada@example.com\n")
	assert.Contains(t, out.String(), "Subject: Hello\n")
	assert.Contains(t, out.String(), "link: https://x/y")
}

func TestMailerRefusesBadInput(t *testing.T) {
	tests := []struct {
		name string
		give ports.Mail
	}{
		{"bad address", ports.Mail{To: "not-an-address", Subject: "s"}},
		{"header injection", ports.Mail{To: "a@example.com", Subject: "s\r\nBcc: b@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := console.NewMailer(&out).Send(context.Background(), tt.give)
			assert.ErrorIs(t, err, ports.ErrInvalid)
			assert.Empty(t, out.String(), "nothing written")
		})
	}
}

func TestMailerConformance(t *testing.T) {
	porttest.TestMailer(t, func(t *testing.T) (ports.Mailer, func() []ports.Mail) {
		var out bytes.Buffer
		return console.NewMailer(&out), func() []ports.Mail { return parseConsole(t, out.String()) }
	})
}

// parseConsole reads back the blocks the console mailer wrote.
func parseConsole(t *testing.T, s string) []ports.Mail {
	t.Helper()
	var out []ports.Mail
	for _, block := range strings.Split(s, "----- mail (console adapter, not sent) -----\n")[1:] {
		head, body, ok := strings.Cut(block, "\n\n")
		require.True(t, ok, "block without a blank line: %q", block)
		var m ports.Mail
		for _, line := range strings.Split(head, "\n") {
			if v, ok := strings.CutPrefix(line, "To: "); ok {
				m.To = v
			}
			if v, ok := strings.CutPrefix(line, "Subject: "); ok {
				m.Subject = v
			}
		}
		m.Text, _, _ = strings.Cut(body, "\n--------------------------------------------\n")
		out = append(out, m)
	}
	return out
}
