package postgres

import "github.com/stockadehq/stockade/ports"

func (t *shopTx) Billing() ports.BillingRepo { return billingRepo{t} }

type billingRepo struct{ t *shopTx }

func (t *globalTx) BillingDirectory() ports.BillingDirectoryRepo { return billingDirectory{t} }

type billingDirectory struct{ t *globalTx }
