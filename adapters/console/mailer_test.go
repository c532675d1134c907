package console_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/console"
	"github.com/stockadehq/stockade/ports"
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
