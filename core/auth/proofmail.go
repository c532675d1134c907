package auth

import (
	"context"

	"github.com/stockadehq/stockade/ports"
)

// queueMail hands a mailbox-proof mail (sign-up verification, "you
// already have an account", password reset) to the auth-mail outbox in
// tx, so it commits with the token it carries.
//
// Until the auth-mail outbox lands this sends through the mailer at once.
func (s *Service) queueMail(ctx context.Context, _ ports.GlobalTx, _ string, m ports.Mail) error {
	return s.mailer.Send(ctx, m)
}
