package auth

import (
	"context"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
)

// event is an audit event about to be appended.
type event struct {
	actor        string
	impersonator string
	action       string
	target       string
	outcome      ports.Outcome
	after        any // marshalled to JSON; must hold no secret
}

// appendAudit appends e to the unit of work's shop log, so the event
// commits with the change it records (AUD-2).
//
// An event by the user an operator is impersonating in ctx's scope names
// the operator as its impersonator (AUD-5), whether or not the caller
// said so.
func (s *Service) appendAudit(ctx context.Context, tx audit.Tx, c Client, e event) error {
	if sc, ok := access.From(ctx); ok && e.impersonator == "" && sc.Impersonator != "" && e.actor == sc.Actor() {
		e.impersonator = sc.Impersonator
	}
	_, err := audit.AppendAs(ctx, tx, s.clock, audit.By{
		Actor: e.actor, Impersonator: e.impersonator, IP: c.IP, UserAgent: c.UserAgent, RequestID: c.RequestID,
	}, audit.Change{Action: e.action, Target: e.target, Outcome: e.outcome, After: e.after})
	return err
}

// auditAlone appends e in its own unit of work, for events that record a
// refusal rather than a change.
func (s *Service) auditAlone(ctx context.Context, shop ports.ShopID, c Client, e event) {
	err := s.store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		return s.appendAudit(ctx, tx, c, e)
	})
	if err != nil {
		s.log.ErrorContext(ctx, "audit append failed", "action", e.action, "error", err)
	}
}
