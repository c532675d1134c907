package ports

// Mail is one e-mail message of the authentication flows as core writes
// it, before it is sealed into the auth mail outbox (see AuthMail); the
// outbox worker sends it as an Email through the EmailSender.
type Mail struct {
	To      string
	Subject string
	Text    string // plain-text body
}
