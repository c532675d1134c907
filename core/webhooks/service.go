// Package webhooks sends a shop's events to the shop's own HTTPS endpoints
// as signed outbound webhooks (Standard Webhooks v1, signed by the public
// package github.com/stockadehq/stockade/webhooks, whose Verifier
// receivers use).
//
// Owners and admins manage a shop's endpoints (access.WebhooksManage):
// creating one generates its signing secret with crypto/rand, seals it
// with the shop's key from the KeyManager (the store keeps only the sealed
// bytes) and shows it once; every change is audited in the unit of work
// that makes it.
//
// Emit enqueues one "webhook.deliver" job per endpoint that wants the
// event, in the caller's unit of work: an event is sent only if the change
// that caused it commits. Deliver, the job's handler, reads the endpoint
// and opens its secret in a short read-only unit of work, then signs and
// POSTs the event outside any unit of work; anything but a 2xx fails the
// attempt and the job queue retries it with its back-off. Every attempt of one job carries
// the same webhook-id, so receivers can drop duplicates: delivery is at
// least once.
package webhooks

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
)

// JobKind is the job kind of one delivery; register Deliver for it
// (Runner.HandleOutside(webhooks.JobKind, svc.Deliver)).
const JobKind = "webhook.deliver"

// Limits and defaults of delivery.
const (
	// SecretLen is the length of a generated signing key, in bytes
	// (Standard Webhooks recommends 24 to 64).
	SecretLen = 32
	// DeliveryTimeout bounds one delivery attempt: connect, send and the
	// receiver's answer.
	DeliveryTimeout = 10 * time.Second
	// MaxEventLen bounds the JSON body of one event, envelope included
	// (the job payload that carries it holds at most 64 KiB).
	MaxEventLen = 60 << 10
)

// KeyWrapper seals and opens signing secrets under a shop's key: the part
// of ports.KeyManager the service needs.
type KeyWrapper interface {
	WrapKey(ctx context.Context, shop ports.ShopID, dataKey []byte) ([]byte, error)
	UnwrapKey(ctx context.Context, shop ports.ShopID, wrapped []byte) ([]byte, error)
}

// Deps are the service's collaborators.
type Deps struct {
	Store ports.Store // required
	Keys  KeyWrapper  // required: seals each endpoint's secret for its shop
	// Policy is the permission matrix the guard checks; nil is the
	// default.
	Policy *access.Policy
	Clock  ports.Clock  // default ports.SystemClock
	Logger *slog.Logger // default discards
	// Client posts deliveries. Default: a client that refuses to connect
	// to loopback, private, link-local and other non-public addresses (an
	// endpoint URL must not reach the server's own network), so a
	// loopback endpoint for local development needs a Client of its own.
	// Either way no redirect is followed (a copy of Client is used with
	// its CheckRedirect replaced) and each attempt is bounded by
	// DeliveryTimeout.
	Client *http.Client
}

// Service manages webhook endpoints and delivers events. It is safe for
// concurrent use.
type Service struct {
	store  ports.Store
	keys   KeyWrapper
	policy *access.Policy
	clock  ports.Clock
	log    *slog.Logger
	client *http.Client
}

// New returns a Service, or an error matching ports.ErrInvalid when a
// required dependency is missing.
func New(d Deps) (*Service, error) {
	if d.Store == nil || d.Keys == nil {
		return nil, ports.Invalid("webhooks deps", "store and keys are required")
	}
	s := &Service{store: d.Store, keys: d.Keys, policy: d.Policy, clock: d.Clock, log: d.Logger, client: d.Client}
	if s.clock == nil {
		s.clock = ports.SystemClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.client == nil {
		s.client = publicOnlyClient()
	} else {
		c := *s.client
		c.CheckRedirect = noRedirects
		s.client = &c
	}
	return s, nil
}

// appendAudit records a change in the caller's unit of work.
func (s *Service) appendAudit(ctx context.Context, tx audit.Tx, sc access.Scope, action, target string, before, after any) error {
	if _, err := audit.AppendBy(ctx, tx, s.clock, sc, audit.Change{Action: action, Target: target, Before: before, After: after}); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}
