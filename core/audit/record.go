package audit

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/ports"
)

// Change is a change to record in a shop's audit log: the embedding app's
// (a quote created) or Stockade's own.
type Change struct {
	Action string // e.g. "quote.created"; required
	Target string // e.g. "quote:<id>"
	// Outcome defaults to ports.OutcomeSuccess.
	Outcome ports.Outcome
	// Before and After are marshalled to JSON (a json.RawMessage is kept
	// as is; nil records nothing). They must hold no secret.
	Before, After any
}

// Tx is the part of a unit of work the Append functions need: its shop
// and that shop's audit log. Every ports.ShopTx is one; an app that wraps
// the unit of work can pass its wrapper.
type Tx interface {
	ShopID() ports.ShopID
	Audit() ports.AuditRepo
}

// Append appends c to tx's shop log as an event by the access scope in ctx
// (its actor, impersonator, IP, user agent and request ID), in the caller's
// unit of work, so the event commits with the change it records or not at
// all (AUD-2). Time is now on clock (nil: the system clock). A ctx without a
// scope, or whose scope is bound to another shop, is ErrForbidden; an
// invalid change is ErrInvalid.
func Append(ctx context.Context, tx Tx, clock ports.Clock, c Change) (ports.AuditEvent, error) {
	sc, ok := access.From(ctx)
	if !ok {
		return ports.AuditEvent{}, fmt.Errorf("audit %s: no caller in context: %w", c.Action, ports.ErrForbidden)
	}
	if sc.Shop != tx.ShopID() {
		return ports.AuditEvent{}, fmt.Errorf("audit %s: the unit of work is another shop's: %w", c.Action, ports.ErrForbidden)
	}
	return AppendBy(ctx, tx, clock, sc, c)
}

// AppendBy is Append by the scope sc, for use cases that already hold the
// scope their guard returned.
func AppendBy(ctx context.Context, tx Tx, clock ports.Clock, sc access.Scope, c Change) (ports.AuditEvent, error) {
	return AppendAs(ctx, tx, clock, ByScope(sc), c)
}

// By names who an event is by and the request it came in, for AppendAs.
type By struct {
	Actor        string // e.g. "user:<id>", "system:housekeeping"; required
	Impersonator string // the operator acting as Actor, or empty (AUD-5)
	IP           string
	UserAgent    string
	RequestID    string
}

// ByScope is the By of the access scope sc.
func ByScope(sc access.Scope) By {
	return By{Actor: sc.Actor(), Impersonator: sc.Impersonator, IP: sc.IP, UserAgent: sc.UserAgent, RequestID: sc.RequestID}
}

// AppendAs is AppendBy with an actor that no access scope names, for
// Stockade's own use cases (a sign-in before any session, an invitee known
// only by e-mail, housekeeping). An app's change is the caller's: use
// Append.
func AppendAs(ctx context.Context, tx Tx, clock ports.Clock, by By, c Change) (ports.AuditEvent, error) {
	if clock == nil {
		clock = ports.SystemClock{}
	}
	ev := ports.AuditEvent{
		ID: ports.NewEventID(), Time: clock.Now(), Actor: by.Actor, Impersonator: by.Impersonator,
		Action: c.Action, Target: c.Target, Outcome: c.Outcome,
		IP: by.IP, UserAgent: by.UserAgent, RequestID: by.RequestID,
	}
	if ev.Outcome == "" {
		ev.Outcome = ports.OutcomeSuccess
	}
	var err error
	if ev.Before, err = marshal(c.Before); err != nil {
		return ports.AuditEvent{}, fmt.Errorf("audit %s: before: %w", c.Action, err)
	}
	if ev.After, err = marshal(c.After); err != nil {
		return ports.AuditEvent{}, fmt.Errorf("audit %s: after: %w", c.Action, err)
	}
	stored, err := tx.Audit().Append(ctx, ev)
	if err != nil {
		return ports.AuditEvent{}, fmt.Errorf("audit %s: %w", c.Action, err)
	}
	return stored, nil
}

func marshal(v any) (json.RawMessage, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return v, nil
	}
	return json.Marshal(v)
}
