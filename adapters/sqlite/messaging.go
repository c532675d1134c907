package sqlite

import "github.com/stockadehq/stockade/ports"

func (t *shopTx) Consent() ports.ConsentRepo { return consent{t} }

type consent struct{ t *shopTx }

func (t *shopTx) Outbox() ports.OutboxRepo { return outbox{t} }

type outbox struct{ t *shopTx }

func (t *globalTx) MessagingDirectory() ports.MessagingDirectoryRepo { return messagingDirectory{t} }

type messagingDirectory struct{ t *globalTx }
