// Package console holds the development adapters of the embedded default:
// messages are written to a writer (the terminal) or the log instead of
// being sent. They exist so that `stockade serve` works on a fresh
// machine; configure a real transport in production. The auth Mailer
// prints sign-in links (its purpose); the messaging Sender redacts bodies
// and links unless told otherwise (see Redaction).
package console

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/stockadehq/stockade/ports"
)

// Mailer writes each message to a writer as a readable block.
type Mailer struct {
	mu  sync.Mutex
	out io.Writer
}

var _ ports.Mailer = (*Mailer)(nil)

// NewMailer returns a Mailer writing to out.
func NewMailer(out io.Writer) *Mailer { return &Mailer{out: out} }

// Send writes m. ErrInvalid for a recipient that is not an e-mail address
// or a header value with a line break.
func (m *Mailer) Send(ctx context.Context, msg ports.Mail) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	to := ports.NormalizeEmail(msg.To)
	if err := ports.ValidateEmail(to); err != nil {
		return err
	}
	if strings.ContainsAny(msg.Subject, "\r\n") {
		return ports.Invalid("subject", "must be one line")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, err := fmt.Fprintf(m.out, "----- mail (console adapter, not sent) -----\nTo: %s\nSubject: %s\n\n%s\n--------------------------------------------\n", to, msg.Subject, msg.Text)
	if err != nil {
		return fmt.Errorf("console mailer: %w", ports.ErrUnavailable)
	}
	return nil
}
