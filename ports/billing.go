package ports

import (
	"context"
	"time"
)

// Billing state (BIL-1…BIL-4). A shop's billing is a tenant row that holds
// references into the payment provider (Stripe) and what the UI shows about
// them — and nothing else: no card number, expiry, CVC, billing address or
// payer e-mail ever reaches a store. Cards are entered on the provider's
// own pages (Checkout, the billing portal) or by its own script with a
// SetupIntent, so they never touch the server (PCI SAQ A).
//
// Provider identifiers are the provider's strings ("cus_…", "sub_…",
// "acct_…", "evt_…", "price_…"), checked for shape by ValidateProviderID.

// SubscriptionStatus is the provider's status of a subscription.
type SubscriptionStatus string

// Subscription statuses, as Stripe names them. The zero value means the
// shop has no subscription.
const (
	SubscriptionIncomplete        SubscriptionStatus = "incomplete"
	SubscriptionIncompleteExpired SubscriptionStatus = "incomplete_expired"
	SubscriptionTrialing          SubscriptionStatus = "trialing"
	SubscriptionActive            SubscriptionStatus = "active"
	SubscriptionPastDue           SubscriptionStatus = "past_due"
	SubscriptionCanceled          SubscriptionStatus = "canceled"
	SubscriptionUnpaid            SubscriptionStatus = "unpaid"
	SubscriptionPaused            SubscriptionStatus = "paused"
)

// Valid reports whether s is one of the known statuses.
func (s SubscriptionStatus) Valid() bool {
	switch s {
	case SubscriptionIncomplete, SubscriptionIncompleteExpired, SubscriptionTrialing, SubscriptionActive,
		SubscriptionPastDue, SubscriptionCanceled, SubscriptionUnpaid, SubscriptionPaused:
		return true
	}
	return false
}

// Ended reports whether a subscription in status s is over for good: the
// provider never moves a canceled or expired subscription back to life
// (a customer who returns gets a new subscription).
func (s SubscriptionStatus) Ended() bool {
	return s == SubscriptionCanceled || s == SubscriptionIncompleteExpired
}

// BillingAccount is a shop's billing state: the allow-list of BIL-1 and
// the freshness of each part. Zero values mean "none yet".
type BillingAccount struct {
	// CustomerID is the shop's Stripe customer ("cus_…").
	CustomerID string
	// The shop's latest subscription: its ID, status, price (the plan),
	// the end of the period paid for, and whether it ends then.
	SubscriptionID     string
	SubscriptionStatus SubscriptionStatus
	PriceID            string
	CurrentPeriodEnd   time.Time
	CancelAtPeriodEnd  bool
	// The most recent card: its brand ("visa") and last four digits.
	CardBrand string
	CardLast4 string
	// The shop's Stripe Connect account ("acct_…") and its status
	// (BIL-3).
	ConnectAccountID string
	ChargesEnabled   bool
	PayoutsEnabled   bool
	DetailsSubmitted bool
	// SubscriptionAsOf, CardAsOf and ConnectAsOf are the provider's times
	// of the states stored (the time of the event that carried each), so
	// that an older state arriving later is never applied (BIL-2).
	SubscriptionAsOf time.Time
	CardAsOf         time.Time
	ConnectAsOf      time.Time
	// CancelledAt is when the shop's subscription ended (BIL-4): the
	// retention clock of LIFE-2 runs from it. Zero while the shop is not
	// cancelled; a later live subscription clears it. It is kept in the
	// shop directory so that shops past retention can be found across
	// shops (BillingDirectoryRepo.CancelledBefore).
	CancelledAt time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Subscribed reports whether the shop has a subscription that has not
// ended.
func (a BillingAccount) Subscribed() bool {
	return a.SubscriptionID != "" && !a.SubscriptionStatus.Ended()
}

// SubscriptionState is a subscription as the provider reported it at AsOf.
type SubscriptionState struct {
	ID                string
	CustomerID        string
	Status            SubscriptionStatus
	PriceID           string // "" when the provider named none
	CurrentPeriodEnd  time.Time
	CancelAtPeriodEnd bool
	// EndedAt is when an ended subscription ended (the provider's
	// ended_at or canceled_at); zero otherwise.
	EndedAt time.Time
	// AsOf is the provider's time of this state: the created time of the
	// event that carried it.
	AsOf time.Time
}

// Validate checks a subscription state before it is applied.
func (s SubscriptionState) Validate() error {
	if err := ValidateProviderID("subscription_id", "sub_", s.ID); err != nil {
		return err
	}
	if err := ValidateProviderID("customer_id", "cus_", s.CustomerID); err != nil {
		return err
	}
	if !s.Status.Valid() {
		return Invalid("status", "must be a known subscription status")
	}
	if s.PriceID != "" {
		if err := ValidatePriceID(s.PriceID); err != nil {
			return err
		}
	}
	if s.AsOf.IsZero() {
		return Invalid("as_of", "must be set")
	}
	return nil
}

// AcceptsSubscription reports whether s may replace the stored
// subscription state of a (BIL-2). It refuses:
//   - a state older than the one stored (AsOf before SubscriptionAsOf):
//     events arrive out of order and are redelivered;
//   - a live state of the stored subscription once it has ended: ended
//     subscriptions never come back, so a live state of one is stale even
//     when its event carries the same second as the ending;
//   - an ended state of another subscription while the stored one is
//     live: an old subscription's ending does not end the shop's current
//     one.
//
// At equal AsOf (events carry whole seconds) the later arrival wins, but
// for the two rules above.
func (a BillingAccount) AcceptsSubscription(s SubscriptionState) bool {
	if s.AsOf.Before(a.SubscriptionAsOf) {
		return false
	}
	if a.SubscriptionID == "" {
		return true
	}
	if s.ID == a.SubscriptionID {
		return !(a.SubscriptionStatus.Ended() && !s.Status.Ended())
	}
	return !(s.Status.Ended() && !a.SubscriptionStatus.Ended())
}

// Live reports whether a subscription in status s keeps a shop from being
// cancelled: it has started (its first invoice was paid or a trial began)
// and has not ended. An incomplete subscription is not yet live: a
// returning customer whose first payment fails does not stop the
// retention clock.
func (s SubscriptionStatus) Live() bool {
	return s.Valid() && !s.Ended() && s != SubscriptionIncomplete
}

// WithSubscription returns a with s stored as its subscription (whether
// a accepts s is AcceptsSubscription's question). An ended s starts the
// retention clock at s.EndedAt (s.AsOf when zero) unless it already runs;
// a live s stops it; an incomplete one leaves it as it is.
func (a BillingAccount) WithSubscription(s SubscriptionState) BillingAccount {
	a.SubscriptionID, a.SubscriptionStatus, a.PriceID = s.ID, s.Status, s.PriceID
	a.CurrentPeriodEnd, a.CancelAtPeriodEnd = Timestamp(s.CurrentPeriodEnd), s.CancelAtPeriodEnd
	if s.CurrentPeriodEnd.IsZero() {
		a.CurrentPeriodEnd = time.Time{}
	}
	a.SubscriptionAsOf = Timestamp(s.AsOf)
	switch {
	case s.Status.Ended() && a.CancelledAt.IsZero():
		a.CancelledAt = s.EndedAt
		if a.CancelledAt.IsZero() {
			a.CancelledAt = s.AsOf
		}
		a.CancelledAt = Timestamp(a.CancelledAt)
	case s.Status.Live():
		a.CancelledAt = time.Time{}
	}
	return a
}

// WithCard returns a with c stored as its most recent card.
func (a BillingAccount) WithCard(c CardState) BillingAccount {
	a.CardBrand, a.CardLast4, a.CardAsOf = c.Brand, c.Last4, Timestamp(c.AsOf)
	return a
}

// WithConnect returns a with c stored as its Connect account's status.
func (a BillingAccount) WithConnect(c ConnectState) BillingAccount {
	a.ChargesEnabled, a.PayoutsEnabled, a.DetailsSubmitted = c.ChargesEnabled, c.PayoutsEnabled, c.DetailsSubmitted
	a.ConnectAsOf = Timestamp(c.AsOf)
	return a
}

// CardState is the customer's most recent card as the provider reported
// it at AsOf: brand and last four digits only.
type CardState struct {
	CustomerID string
	Brand      string
	Last4      string
	AsOf       time.Time
}

// Validate checks a card state before it is applied: a brand of 1 to 32
// lower-case letters, digits or '_' and exactly four digits.
func (c CardState) Validate() error {
	if err := ValidateProviderID("customer_id", "cus_", c.CustomerID); err != nil {
		return err
	}
	if c.Brand == "" || len(c.Brand) > 32 {
		return Invalid("card_brand", "must be 1 to 32 characters")
	}
	for i := 0; i < len(c.Brand); i++ {
		if b := c.Brand[i]; !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_') {
			return Invalid("card_brand", "must be lower-case letters, digits and '_'")
		}
	}
	if len(c.Last4) != 4 {
		return Invalid("card_last4", "must be exactly four digits")
	}
	for i := 0; i < 4; i++ {
		if c.Last4[i] < '0' || c.Last4[i] > '9' {
			return Invalid("card_last4", "must be exactly four digits")
		}
	}
	if c.AsOf.IsZero() {
		return Invalid("as_of", "must be set")
	}
	return nil
}

// ConnectState is a Connect account's status as the provider reported it
// at AsOf (BIL-3).
type ConnectState struct {
	AccountID        string
	ChargesEnabled   bool
	PayoutsEnabled   bool
	DetailsSubmitted bool
	AsOf             time.Time
}

// Validate checks a Connect state before it is applied.
func (c ConnectState) Validate() error {
	if err := ValidateProviderID("account_id", "acct_", c.AccountID); err != nil {
		return err
	}
	if c.AsOf.IsZero() {
		return Invalid("as_of", "must be set")
	}
	return nil
}

// ProcessedEvent is a provider event a shop has processed, kept so that a
// redelivery is recognised (BIL-2).
type ProcessedEvent struct {
	ID      string    // "evt_…"
	Type    string    // e.g. "customer.subscription.updated"
	Created time.Time // the provider's time of the event
}

// Validate checks a processed event before it is recorded.
func (e ProcessedEvent) Validate() error {
	if err := ValidateProviderID("event_id", "evt_", e.ID); err != nil {
		return err
	}
	if e.Type == "" || len(e.Type) > 100 {
		return Invalid("event_type", "must be 1 to 100 bytes")
	}
	for i := 0; i < len(e.Type); i++ {
		if b := e.Type[i]; !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_' || b == '.') {
			return Invalid("event_type", "must be lower-case letters, digits, '_' and '.'")
		}
	}
	if e.Created.IsZero() {
		return Invalid("created", "must be set")
	}
	return nil
}

// ValidateProviderID checks that id looks like a provider identifier with
// prefix ("cus_"): the prefix and then 1 to 200 ASCII letters, digits or
// '_'. The check keeps arbitrary text (and card numbers) out of the
// columns that hold references.
func ValidateProviderID(field, prefix, id string) error {
	if len(id) <= len(prefix) || len(id) > len(prefix)+200 || id[:len(prefix)] != prefix {
		return Invalid(field, "must be a provider ID starting with "+prefix)
	}
	for i := len(prefix); i < len(id); i++ {
		if b := id[i]; !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_') {
			return Invalid(field, "must be a provider ID of letters, digits and '_'")
		}
	}
	return nil
}

// ValidatePriceID checks a price (plan) ID: "price_…", or the older
// "plan_…" that the provider still accepts as a price.
func ValidatePriceID(id string) error {
	if len(id) > 5 && id[:5] == "plan_" {
		return ValidateProviderID("price_id", "plan_", id)
	}
	return ValidateProviderID("price_id", "price_", id)
}

// BillingChange is what an Apply call did: the state before it (as read
// under the lock the call took), the state after it, and whether the new
// state was stored. When Applied is false, After equals Before.
type BillingChange struct {
	Before  BillingAccount
	After   BillingAccount
	Applied bool
}

// BillingRepo keeps the unit of work's shop's billing state and the
// provider events it has processed. No method takes a shop ID: the shop is
// the transaction's. Writes that can race (two events for one shop at
// once) are atomic per shop: stores lock the shop's billing row (or run
// one writer) for the duration of the unit of work.
type BillingRepo interface {
	// Get returns the shop's billing state, or ErrNotFound when the shop
	// has none yet.
	Get(ctx context.Context) (BillingAccount, error)
	// LinkCustomer records the shop's provider customer, creating the
	// billing state if needed, and enters it in the billing directory so
	// that the provider's events find the shop. Linking the customer the
	// shop already has changes nothing. ErrConflict when the shop has
	// another customer, or the customer is another shop's; ErrInvalid for
	// a malformed ID.
	LinkCustomer(ctx context.Context, customerID string) (BillingAccount, error)
	// LinkConnectAccount is LinkCustomer for the shop's Connect account
	// (BIL-3).
	LinkConnectAccount(ctx context.Context, accountID string) (BillingAccount, error)
	// ApplySubscription stores s as the shop's subscription when the
	// stored state accepts it (BillingAccount.AcceptsSubscription), and
	// reports what it did; the state stored, retention clock included,
	// is BillingAccount.WithSubscription's. ErrNotFound when the shop has
	// no billing state; ErrConflict when s belongs to another customer
	// than the shop's; ErrInvalid for a malformed state. Nothing is
	// written when it is refused.
	ApplySubscription(ctx context.Context, s SubscriptionState) (BillingChange, error)
	// ApplyCard stores c as the shop's most recent card unless the card
	// stored is newer (c.AsOf before CardAsOf). Errors as
	// ApplySubscription.
	ApplyCard(ctx context.Context, c CardState) (BillingChange, error)
	// ApplyConnect stores c as the Connect account's status unless the
	// status stored is newer. ErrNotFound when the shop has no billing
	// state; ErrConflict when c is about another account than the shop's.
	ApplyConnect(ctx context.Context, c ConnectState) (BillingChange, error)
	// RecordEvent records that the shop processed e, and reports false
	// when e.ID was recorded before (a redelivery: the caller then changes
	// nothing). Of concurrent units of work recording one ID exactly one
	// gets true; the others wait for it and get false once it commits (or
	// true, should it roll back). Event IDs are unique per shop.
	RecordEvent(ctx context.Context, e ProcessedEvent) (bool, error)
	// DeleteEventsBefore forgets processed events whose Created is before
	// t (the provider stops redelivering after three days) and returns
	// how many.
	DeleteEventsBefore(ctx context.Context, t time.Time) (int, error)
}

// ShopCancellation is a shop whose subscription ended, and when.
type ShopCancellation struct {
	Shop        ShopID
	CancelledAt time.Time
}

// BillingDirectoryRepo maps provider customers and Connect accounts to
// the shops they belong to, so that a webhook (which names a customer or
// an account, never a shop) opens the right shop's unit of work; and it
// finds the shops whose retention clock has run out (LIFE-2). It is a
// global repository.
type BillingDirectoryRepo interface {
	// ShopByCustomer returns the shop whose customer is customerID, or
	// ErrNotFound.
	ShopByCustomer(ctx context.Context, customerID string) (ShopID, error)
	// ShopByConnectAccount returns the shop whose Connect account is
	// accountID, or ErrNotFound.
	ShopByConnectAccount(ctx context.Context, accountID string) (ShopID, error)
	// CancelledBefore lists up to limit shops cancelled at or before t,
	// longest-cancelled first (limit ≤ 0 means 100, capped at 1000).
	CancelledBefore(ctx context.Context, t time.Time, limit int) ([]ShopCancellation, error)
	// CancelledAfter lists up to limit shops cancelled after the position
	// after (by cancellation time, then shop ID; the zero value starts at
	// the beginning) and at or before until, in that order (limit ≤ 0
	// means 100, capped at 1000). It pages through the shops whose
	// cancellation falls in a window.
	CancelledAfter(ctx context.Context, after ShopCancellation, until time.Time, limit int) ([]ShopCancellation, error)
}
