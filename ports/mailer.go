package ports

import "context"

// Mail is one e-mail message.
type Mail struct {
	To      string
	Subject string
	Text    string // plain-text body
}

// Mailer sends e-mail. Send returns once the message was accepted for
// delivery; ErrUnavailable when the transport cannot be reached, ErrInvalid
// for a malformed address. Implementations are safe for concurrent use.
// Bodies may carry sign-in links: production transports never log them
// (the development console adapter prints them, which is its purpose).
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}
