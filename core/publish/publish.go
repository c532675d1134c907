// Package publish announces the changes Stockade's use cases commit, as
// the public package github.com/stockadehq/stockade/events describes them:
// to in-process hooks after the commit, and to the shop's webhook
// endpoints through the job queue in the same unit of work.
//
// A use case calls Record inside its unit of work, for each change it
// makes there, and After with the recorded events once the unit of work
// has committed:
//
//	var ev events.Event
//	err := store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
//		// … the change and its audit event …
//		var err error
//		ev, err = pub.Record(ctx, tx, events.MemberAdded{…})
//		return err
//	})
//	if err != nil {
//		return err // rolled back: no hook runs, no webhook is sent
//	}
//	pub.After(ctx, ev)
//
// Record enqueues the event's webhook deliveries (core/webhooks.Enqueue)
// in tx, so they commit or roll back with the change; a failure to enqueue
// fails the unit of work. After runs the hooks and never fails.
package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"

	"github.com/stockadehq/stockade/core/webhooks"
	"github.com/stockadehq/stockade/events"
	"github.com/stockadehq/stockade/ports"
)

// Deps are the publisher's collaborators; every field is optional.
type Deps struct {
	// Hooks run after each committed change, in this order, before those
	// added later with Subscribe.
	Hooks  []events.Hook
	Clock  ports.Clock  // stamps Event.Time; default ports.SystemClock
	Logger *slog.Logger // gets failed and panicking hooks; default discards
}

// Publisher records events in units of work and runs hooks after they
// commit. It is safe for concurrent use; the zero value is not usable
// (use New).
type Publisher struct {
	clock ports.Clock
	log   *slog.Logger

	mu    sync.RWMutex
	hooks []events.Hook
}

// New returns a Publisher.
func New(d Deps) *Publisher {
	p := &Publisher{clock: d.Clock, log: d.Logger}
	if p.clock == nil {
		p.clock = ports.SystemClock{}
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	for _, h := range d.Hooks {
		p.Subscribe(h)
	}
	return p
}

// Subscribe adds h after the hooks already there; nil is ignored. Add
// hooks while wiring the application, before it serves: a call to After
// that is running meanwhile does not see h.
func (p *Publisher) Subscribe(h events.Hook) {
	if h == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hooks = append(p.hooks[:len(p.hooks):len(p.hooks)], h) // never share a backing array with a running After
}

// Record records a change of tx's shop: it enqueues one webhook delivery
// per endpoint of the shop that wants the event's type, in tx, and
// returns the event to pass to After once tx has committed. An error
// (from the job queue) must fail the unit of work: returned from its
// function, it rolls the change back with the deliveries.
func (p *Publisher) Record(ctx context.Context, tx ports.ShopTx, data events.Payload) (events.Event, error) {
	e := events.Event{Type: data.EventType(), Shop: tx.ShopID().String(), Time: p.clock.Now().UTC(), Data: data}
	body, err := json.Marshal(data)
	if err != nil {
		return events.Event{}, fmt.Errorf("event %s: %w", e.Type, err)
	}
	if _, err := webhooks.Enqueue(ctx, tx, e.Time, string(e.Type), body); err != nil {
		return events.Event{}, fmt.Errorf("event %s: %w", e.Type, err)
	}
	return e, nil
}

// Global returns an event that belongs to no shop (events.UserSignedUp),
// to pass to After once the unit of work that made the change has
// committed. It sends no webhook: endpoints belong to shops.
func (p *Publisher) Global(data events.Payload) events.Event {
	return events.Event{Type: data.EventType(), Time: p.clock.Now().UTC(), Data: data}
}

// After runs every hook for each event in order, on the caller's
// goroutine; call it only once the unit of work that recorded the events
// has committed. Zero events (Type "") are skipped, so a use case may pass
// the variable of an event it recorded only on some paths. Hooks get ctx
// without its cancellation (context.WithoutCancel). A hook's error or
// panic is logged at error level, with the event's type and shop but not
// its payload, and the next hook runs; After itself never fails.
func (p *Publisher) After(ctx context.Context, evs ...events.Event) {
	p.mu.RLock()
	hooks := p.hooks
	p.mu.RUnlock()
	if len(hooks) == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	for _, e := range evs {
		if e.Type == "" {
			continue
		}
		for i, h := range hooks {
			p.run(ctx, i, h, e)
		}
	}
}

// run calls hook number i with e, logging its error or panic.
func (p *Publisher) run(ctx context.Context, i int, h events.Hook, e events.Event) {
	defer func() {
		if r := recover(); r != nil {
			p.log.ErrorContext(ctx, "event hook panicked", "event", string(e.Type), "shop", e.Shop, "hook", i,
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	if err := h(ctx, e); err != nil {
		p.log.ErrorContext(ctx, "event hook failed", "event", string(e.Type), "shop", e.Shop, "hook", i, "error", err)
	}
}
