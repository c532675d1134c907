package postgres

import "github.com/stockadehq/stockade/ports"

func (t *shopTx) Capabilities() ports.CapabilityRepo { return capabilities{t} }

type capabilities struct{ t *shopTx }
