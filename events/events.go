// Package events names the changes Stockade announces to the code that
// embeds it: a user signed up, a member was added, removed or given
// another role, a shop was created, renamed, suspended or reactivated, a
// subscription or a contact's consent changed, an invitation was accepted,
// sessions were revoked. Each event type has a payload struct here; the
// package needs only the standard library.
//
// Stockade publishes an event in two ways, both only for a change that
// committed:
//
//   - In process, to hooks (Hook): after the unit of work that made the
//     change committed, on the caller's goroutine, before the use case
//     returns. A rolled-back change publishes nothing. A hook cannot fail
//     the use case: its error, or its panic, is logged. Delivery to hooks
//     is at most once: a process that stops between the commit and the
//     hook loses the event. Register hooks with app.EventHook (fx) or
//     app.EventsParts.Hooks (without fx).
//   - As signed outbound webhooks, for events of a shop (every type but
//     TypeUserSignedUp): the delivery is enqueued in the same unit of work
//     as the change, so it is sent if and only if the change commits, at
//     least once, to each of the shop's endpoints that wants the type. The
//     webhook's "data" is the payload struct encoded as JSON.
//
// docs/events.md lists every type with its payload.
package events

import (
	"context"
	"time"
)

// Type names an event: lower-case words joined by dots, the same string
// in hooks, in webhook deliveries ("type") and in endpoint filters.
type Type string

// The event types Stockade publishes.
const (
	// TypeUserSignedUp: an account was created (UserSignedUp). It belongs
	// to no shop: hooks only, no webhook.
	TypeUserSignedUp Type = "user.signed_up"
	// TypeMemberAdded: a user became a member of a shop (MemberAdded).
	TypeMemberAdded Type = "member.added"
	// TypeMemberRemoved: a membership ended (MemberRemoved).
	TypeMemberRemoved Type = "member.removed"
	// TypeMemberRoleChanged: a member's role changed (MemberRoleChanged).
	TypeMemberRoleChanged Type = "member.role_changed"
	// TypeShopCreated: a shop was created (ShopCreated).
	TypeShopCreated Type = "shop.created"
	// TypeShopRenamed: a shop's display name changed (ShopRenamed).
	TypeShopRenamed Type = "shop.renamed"
	// TypeShopSuspended: a shop was suspended (ShopSuspended).
	TypeShopSuspended Type = "shop.suspended"
	// TypeShopReactivated: a suspended shop was reactivated
	// (ShopReactivated).
	TypeShopReactivated Type = "shop.reactivated"
	// TypeSubscriptionChanged: the shop's subscription state changed
	// (SubscriptionChanged).
	TypeSubscriptionChanged Type = "subscription.changed"
	// TypeConsentChanged: a contact's consent to a topic changed
	// (ConsentChanged).
	TypeConsentChanged Type = "consent.changed"
	// TypeInvitationAccepted: an invitation to a shop was accepted
	// (InvitationAccepted).
	TypeInvitationAccepted Type = "invitation.accepted"
	// TypeSessionRevoked: sessions of a member were revoked on purpose
	// (SessionRevoked).
	TypeSessionRevoked Type = "session.revoked"
)

// Types returns every event type Stockade publishes, in the order of the
// constants above.
func Types() []Type {
	return []Type{
		TypeUserSignedUp, TypeMemberAdded, TypeMemberRemoved, TypeMemberRoleChanged,
		TypeShopCreated, TypeShopRenamed, TypeShopSuspended, TypeShopReactivated,
		TypeSubscriptionChanged, TypeConsentChanged, TypeInvitationAccepted, TypeSessionRevoked,
	}
}

// Payload is the data of one event type: one of the structs of this
// package, by value. Its JSON encoding is the "data" of the event's
// webhook.
type Payload interface {
	// EventType is the type of the events that carry this payload.
	EventType() Type
}

// Event is one committed change, as a hook receives it.
type Event struct {
	// Type is Data.EventType().
	Type Type
	// Shop is the ID of the shop the change happened in; empty for an
	// event that belongs to no shop (TypeUserSignedUp).
	Shop string
	// Time is when the change was recorded, inside its unit of work.
	Time time.Time
	// Data is the payload: one of this package's structs, by value (a
	// MemberAdded for TypeMemberAdded, and so on). Hooks must not modify
	// it: every hook receives the same value.
	Data Payload
}

// Hook is app code that runs after a change committed. ctx carries the
// caller's values (its access scope and request ID, when it had them) but
// not its cancellation: the change is done, and a client that went away
// does not cut its hooks short; bound slow work yourself, or hand it to a
// job queue, since the use case waits for its hooks before it returns.
// ctx is outside any unit of work, so a hook may open its own. The error a
// hook returns is logged with the event's type and shop and otherwise
// ignored, as is a panic: neither changes the use case's result nor stops
// the hooks after it.
type Hook func(ctx context.Context, e Event) error

// On returns a Hook that calls fn with the payload of every event whose
// Data is a T, and ignores every other event:
//
//	events.On(func(ctx context.Context, e events.Event, m events.MemberAdded) error { … })
func On[T Payload](fn func(ctx context.Context, e Event, data T) error) Hook {
	return func(ctx context.Context, e Event) error {
		data, ok := e.Data.(T)
		if !ok {
			return nil
		}
		return fn(ctx, e, data)
	}
}
