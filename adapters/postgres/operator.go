package postgres

import "github.com/stockadehq/stockade/ports"

func (t *globalTx) Operators() ports.OperatorRepo { return operators{t} }

type operators struct{ t *globalTx }

func (t *shopTx) Impersonations() ports.ImpersonationRepo { return impersonations{t} }

type impersonations struct{ t *shopTx }
