// Package messaging sends SMS and e-mail that carriers and the law accept
// (MSG-1 … MSG-6): one consent registry per shop across channels, SMS
// keywords (STOP, START, HELP), RFC 8058 one-click unsubscribe, and a
// transactional outbox delivered by a worker.
//
// # Categories and consent
//
// A message is transactional when it answers something the contact did or
// asked for — a sign-in link, a receipt, an appointment confirmation, a
// quote they requested, the reply to HELP — and marketing otherwise
// (offers, newsletters, reminders to come back). Consent is kept per
// contact on three topics (ports.ConsentTopic):
//
//   - sms: every text to the contact's phone. STOP (or any opt-out
//     keyword, or a clear free-text opt-out) withdraws it; START, UNSTOP or
//     YES restores it. Carriers treat STOP as "no more texts at all", so a
//     contact who texted STOP gets no transactional SMS either.
//   - marketing: marketing on every channel. STOP withdraws it too (an SMS
//     STOP also stops marketing e-mail), and so does an e-mail unsubscribe
//     link (which also stops marketing SMS); START restores it.
//   - email: every e-mail, withdrawn only by an admin or the API (a contact
//     who asked never to be e-mailed at all).
//
// Every send checks the registry first and refuses with ports.ErrOptedOut;
// the worker checks again just before the provider call, so an opt-out
// that arrives while a message waits cancels it. Every consent change is
// audited in the shop's log with its source (keyword, link, admin, API,
// provider) in the unit of work that makes it.
//
// # Outbox
//
// Enqueue writes the message in the caller's unit of work, so a business
// change and the messages it causes commit or roll back together. The
// Worker delivers them (see Worker for the delivery guarantee and the
// window that remains for providers without idempotency keys).
package messaging

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/core/publish"
	"github.com/stockadehq/stockade/ports"
)

// Deps are the service's collaborators.
type Deps struct {
	Store ports.Store // required
	// Policy is the permission matrix the guard checks; nil is the
	// default.
	Policy *access.Policy
	Clock  ports.Clock  // default ports.SystemClock
	Logger *slog.Logger // default discards
	// Events publishes consent.changed to hooks after it commits and to
	// the shop's webhook endpoints in its unit of work; nil is a
	// publisher without hooks.
	Events *publish.Publisher
}

// Config holds the messaging rules that come from configuration.
type Config struct {
	// UnsubscribeKeys sign one-click unsubscribe tokens (HMAC-SHA256,
	// each at least 32 bytes): the first signs, all verify, so a new key
	// put first rotates without breaking links already mailed. Required
	// to send marketing e-mail.
	UnsubscribeKeys [][]byte
	// UnsubscribeURL returns the absolute https URL of the one-click
	// unsubscribe route for token on shop's host, e.g.
	// "https://acme.example.com/u/<token>". The HTTP layer builds it from
	// configuration, never from a request. Required to send marketing
	// e-mail.
	UnsubscribeURL func(shop ports.Shop, token string) string
	// StatusCallbackURL, when set, returns the URL Twilio reports an SMS's
	// delivery status to.
	StatusCallbackURL func(shop ports.ShopID, msg ports.MessageID) string
	// DefaultMessagingServiceSID sends transactional SMS for shops that
	// have no Messaging Service of their own (empty: they cannot send
	// SMS). Marketing SMS always needs the shop's own (A2P 10DLC).
	DefaultMessagingServiceSID string
	// EmailFrom is the From of e-mail that names none.
	EmailFrom string
	// DefaultCountryCode is the calling code ("1") given to phone numbers
	// entered without one; empty refuses such numbers.
	DefaultCountryCode string
	// SendWindow is the default window for marketing SMS, in minutes
	// after midnight: [SendFrom, SendUntil). Zero means 08:00 to 21:00.
	SendFrom, SendUntil int
}

// Service runs the messaging use cases. It is safe for concurrent use.
type Service struct {
	store  ports.Store
	policy *access.Policy
	clock  ports.Clock
	log    *slog.Logger
	events *publish.Publisher
	cfg    Config
}

// New returns the service. ErrInvalid for a missing dependency or a bad
// configuration.
func New(d Deps, cfg Config) (*Service, error) {
	if d.Store == nil {
		return nil, ports.Invalid("messaging deps", "store is required")
	}
	for i, k := range cfg.UnsubscribeKeys {
		if len(k) < 32 {
			return nil, ports.Invalid("unsubscribe key", fmt.Sprintf("key %d must be at least 32 bytes", i+1))
		}
	}
	if cfg.SendFrom == 0 && cfg.SendUntil == 0 {
		cfg.SendFrom, cfg.SendUntil = 8*60, 21*60
	}
	if err := (ports.MessagingSettings{SendFrom: cfg.SendFrom, SendUntil: cfg.SendUntil}).Validate(); err != nil {
		return nil, err
	}
	if cfg.DefaultCountryCode != "" {
		if err := ports.ValidatePhone("+" + cfg.DefaultCountryCode + "5555555"); err != nil || len(cfg.DefaultCountryCode) > 3 {
			return nil, ports.Invalid("default country code", "must be 1 to 3 digits, e.g. 1")
		}
	}
	s := &Service{store: d.Store, policy: d.Policy, clock: d.Clock, log: d.Logger, events: d.Events, cfg: cfg}
	if s.clock == nil {
		s.clock = ports.SystemClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.events == nil {
		s.events = publish.New(publish.Deps{Clock: s.clock, Logger: s.log})
	}
	return s, nil
}

// record is an audit event about to be appended.
type record struct {
	action string
	target string
	before any // marshalled to JSON; must hold no secret
	after  any
}

// appendAudit appends e, by the scope's caller, to the unit of work's shop
// log so that it commits with the change it records (AUD-2).
func (s *Service) appendAudit(ctx context.Context, tx audit.Tx, sc access.Scope, e record) error {
	_, err := audit.AppendBy(ctx, tx, s.clock, sc, audit.Change{Action: e.action, Target: e.target, Before: e.before, After: e.after})
	return err
}

// requireIn is the guard for use cases that run in the caller's unit of
// work: the scope must hold perm and be bound to tx's shop.
func (s *Service) requireIn(ctx context.Context, tx ports.ShopTx, perm access.Permission) (access.Scope, error) {
	sc, err := s.policy.Require(ctx, perm)
	if err != nil {
		return access.Scope{}, err
	}
	if sc.Shop != tx.ShopID() {
		return access.Scope{}, fmt.Errorf("%s: the unit of work is another shop's: %w", perm, ports.ErrForbidden)
	}
	return sc, nil
}

// now is the service clock's time.
func (s *Service) now() time.Time { return s.clock.Now() }
