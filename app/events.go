package app

import (
	"log/slog"

	"go.uber.org/fx"

	"github.com/stockadehq/stockade/core/publish"
	"github.com/stockadehq/stockade/events"
	"github.com/stockadehq/stockade/ports"
)

// EventHooksGroup is the fx value group of the app's event hooks
// (events.Hook): EventHook supplies one, and a constructor joins it with
// fx.Provide(fx.Annotate(newHook, fx.ResultTags(`group:"stockade.event_hooks"`))).
// Such a constructor may depend on Stockade's services (the hooks are
// subscribed after the services are built). The order in which hooks of
// the group run is fx's, not the order of registration.
const EventHooksGroup = "stockade.event_hooks"

// EventHook registers h with EventsModule: it runs after every change a
// Stockade use case commits (see package events for what it receives and
// its guarantees).
func EventHook(h events.Hook) fx.Option {
	return fx.Supply(fx.Annotated{Group: EventHooksGroup, Target: h})
}

// EventsParts are the pieces NewEvents builds on; every field is
// optional.
type EventsParts struct {
	// Hooks run after each change a use case commits, in this order
	// (Publisher.Subscribe adds more).
	Hooks []events.Hook
	Clock ports.Clock
	// Logger gets the errors and panics of hooks (with the event's type
	// and shop, never its payload).
	Logger *slog.Logger
}

// NewEvents builds the publisher of Stockade's events without fx. Pass
// the same one to every service (TenancyParts.Events, AuthParts.Events,
// BillingParts.Events, MessagingParts.Events) so that its hooks see every
// event. A service built without one still enqueues its shop events'
// webhooks, and runs no hooks.
func NewEvents(p EventsParts) *publish.Publisher {
	return publish.New(publish.Deps{Hooks: p.Hooks, Clock: p.Clock, Logger: p.Logger})
}

// EventsModule provides the *publish.Publisher the services publish
// their events with (see NewEvents), and subscribes every hook of
// EventHooksGroup to it.
func EventsModule() fx.Option {
	type hooks struct {
		fx.In
		Hooks []events.Hook `group:"stockade.event_hooks"`
	}
	return fx.Module("stockade.events",
		fx.Provide(func(log *slog.Logger) *publish.Publisher {
			return NewEvents(EventsParts{Logger: log.With("component", "events")})
		}),
		fx.Invoke(func(p *publish.Publisher, h hooks) {
			for _, hook := range h.Hooks {
				p.Subscribe(hook)
			}
		}),
	)
}
