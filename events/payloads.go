package events

import "time"

// IDs in payloads are Stockade's IDs in their text form (the String of the
// ports ID types), roles and other enumerations their lower-case names.
// No payload holds a secret: a token, a password, a signing key.

// UserSignedUp: an account was created (TypeUserSignedUp). It belongs to
// no shop, so it reaches hooks only, never a shop's webhook endpoints.
type UserSignedUp struct {
	User  string `json:"user"`
	Email string `json:"email"`
	// Via is how the account came to be: "signup" (the sign-up's
	// verification link was followed), "invitation" (an invitation to an
	// address with no account was accepted), "oidc" (the first sign-in
	// with an OpenID Connect provider), "sso" (the first sign-in through
	// an org's single sign-on connection) or "operator" (an operator created
	// it, e.g. `stockade user create`).
	Via string `json:"via"`
}

// MemberAdded: a user became a member of the shop (TypeMemberAdded).
type MemberAdded struct {
	User string `json:"user"`
	Role string `json:"role"`
	// Via is how: "direct" (added by a member with members.manage, or by
	// a system scope such as the CLI), "invitation" (the user accepted an
	// invitation; an InvitationAccepted event comes first), "shop_created"
	// (the first Owner of a new shop; a ShopCreated event comes first),
	// "operator" (an operator's bootstrap, `stockade user create --shop`),
	// "sso" (just in time, at the user's first single sign-on through the
	// org's connection) or "scim" (the org's identity provider, through a
	// group mapped to the shop).
	Via string `json:"via"`
}

// MemberRemoved: a membership ended (TypeMemberRemoved); the member's
// sessions in the shop ended with it.
type MemberRemoved struct {
	User string `json:"user"`
	// Role is the role the member had.
	Role string `json:"role"`
	// Left is true when the member removed themself.
	Left bool `json:"left"`
}

// MemberRoleChanged: a member's role changed (TypeMemberRoleChanged). It
// applies to the member's live sessions at once.
type MemberRoleChanged struct {
	User         string `json:"user"`
	Role         string `json:"role"`
	PreviousRole string `json:"previous_role"`
}

// ShopCreated: a shop was created (TypeShopCreated). Its webhook is
// enqueued like any other, but a shop has no endpoint when it is created,
// so hooks are its only audience in practice.
type ShopCreated struct {
	Org  string `json:"org"`
	Slug string `json:"slug"`
	Name string `json:"name"`
	// Owner is the user who became the shop's first Owner (a MemberAdded
	// event follows); empty for a shop created without one (by the CLI).
	Owner string `json:"owner,omitempty"`
}

// ShopRenamed: a shop's display name changed (TypeShopRenamed).
type ShopRenamed struct {
	Name         string `json:"name"`
	PreviousName string `json:"previous_name"`
}

// ShopSuspended: a shop was suspended by an owner or admin of its org
// (TypeShopSuspended): its host serves nothing until it is reactivated.
type ShopSuspended struct {
	Slug string `json:"slug"`
}

// ShopReactivated: a suspended shop was reactivated (TypeShopReactivated).
type ShopReactivated struct {
	Slug string `json:"slug"`
}

// SubscriptionChanged: the shop's subscription state changed
// (TypeSubscriptionChanged), from the payment provider's verified webhook
// or an Owner's refresh. A state that changes nothing, a replay and an
// older state arriving late publish nothing.
type SubscriptionChanged struct {
	// Subscription is the provider's subscription ID ("sub_…").
	Subscription string `json:"subscription"`
	// Status is the provider's status ("active", "past_due", "canceled",
	// …); PreviousStatus the one stored before (empty for the first).
	Status         string `json:"status"`
	PreviousStatus string `json:"previous_status"`
	// Price is the provider's price ID; Plan its configured plan name,
	// empty for a price no plan names.
	Price string `json:"price"`
	Plan  string `json:"plan,omitempty"`
	// CurrentPeriodEnd is the end of the period paid for (omitted when
	// unknown); CancelAtPeriodEnd says the subscription ends then.
	CurrentPeriodEnd  time.Time `json:"current_period_end,omitzero"`
	CancelAtPeriodEnd bool      `json:"cancel_at_period_end"`
	// CancelledAt is when the subscription ended: the shop's retention
	// clock runs from it. Omitted while the shop is not cancelled.
	CancelledAt time.Time `json:"cancelled_at,omitzero"`
	// Source is "webhook" (the provider's webhook) or "refresh" (an Owner
	// asked Stockade to read the state from the provider).
	Source string `json:"source"`
}

// ConsentChanged: a contact's consent to one topic changed
// (TypeConsentChanged). One change of several topics at once (an SMS STOP
// withdraws "sms" and "marketing") publishes one event per topic.
type ConsentChanged struct {
	Contact string `json:"contact"`
	// Topic is "sms", "email" or "marketing".
	Topic string `json:"topic"`
	// OptedOut is true when the contact withdrew the topic, false when
	// they gave it (back).
	OptedOut bool `json:"opted_out"`
	// Source is who changed it: "keyword" (an SMS keyword from the
	// contact), "link" (a one-click unsubscribe link), "admin" (a member),
	// "api" (the embedding application) or "provider" (a spam complaint
	// the provider reported).
	Source string `json:"source"`
	// Via is the channel or route it arrived by ("sms", "email", "admin",
	// "api").
	Via string `json:"via,omitempty"`
}

// InvitationAccepted: an invitation to the shop was accepted
// (TypeInvitationAccepted); a MemberAdded event (via "invitation")
// follows.
type InvitationAccepted struct {
	Invitation string `json:"invitation"`
	User       string `json:"user"`
	Role       string `json:"role"`
}

// SessionRevoked: sessions of a member in the shop were ended on purpose
// (TypeSessionRevoked): signing out, revoking one of one's sessions or
// all the others, an owner or admin revoking a member's sessions, an
// operator's `stockade user revoke-sessions`. Sessions that end as a
// side effect of another change (a password change or reset, a removed
// membership, expiry) publish no SessionRevoked.
type SessionRevoked struct {
	User string `json:"user"`
	// Session is the one session revoked; empty when Count sessions
	// were.
	Session string `json:"session,omitempty"`
	// Count is how many sessions ended (at least 1).
	Count int `json:"count"`
	// By is who revoked them: "self" (the member, including signing
	// out), "admin" (an owner or admin of the shop) or "operator".
	By string `json:"by"`
}

// EventType implements Payload.
func (UserSignedUp) EventType() Type { return TypeUserSignedUp }

// EventType implements Payload.
func (MemberAdded) EventType() Type { return TypeMemberAdded }

// EventType implements Payload.
func (MemberRemoved) EventType() Type { return TypeMemberRemoved }

// EventType implements Payload.
func (MemberRoleChanged) EventType() Type { return TypeMemberRoleChanged }

// EventType implements Payload.
func (ShopCreated) EventType() Type { return TypeShopCreated }

// EventType implements Payload.
func (ShopRenamed) EventType() Type { return TypeShopRenamed }

// EventType implements Payload.
func (ShopSuspended) EventType() Type { return TypeShopSuspended }

// EventType implements Payload.
func (ShopReactivated) EventType() Type { return TypeShopReactivated }

// EventType implements Payload.
func (SubscriptionChanged) EventType() Type { return TypeSubscriptionChanged }

// EventType implements Payload.
func (ConsentChanged) EventType() Type { return TypeConsentChanged }

// EventType implements Payload.
func (InvitationAccepted) EventType() Type { return TypeInvitationAccepted }

// EventType implements Payload.
func (SessionRevoked) EventType() Type { return TypeSessionRevoked }
