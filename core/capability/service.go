// Package capability holds the use cases of public capability links
// (CAP-1): a member mints a link for one record of the shop (a quote, an
// invoice, a booking, a file) and a fixed set of actions; whoever holds
// the link may do exactly those actions to exactly that record until it
// expires or is revoked — and nothing else, in no other shop.
//
// A link's token is 256 bits from crypto/rand, base64url without padding
// (43 characters), handed out once and never stored: the store keeps its
// SHA-256, unique per shop. Resolve looks the hash up inside the unit of
// work of the shop whose host the token was presented on, so another
// shop's token finds nothing, and returns an access.Scope that carries the
// capability: ordinary guards (access.Policy.Require) refuse it, and only
// access.RequireRecord, for that record and one of its actions, admits
// it.
//
// Record types are registered as Kinds: the actions a link of the kind
// may grant, the permission a member needs to mint one (on top of
// access.LinksManage), and a check that the record exists in the
// caller's shop. Minting, revoking and sweeping commit with their audit
// events (AUD-2). Using a link is a read and is not audited: what a link
// changes is audited by the use case that changes it, with the actor
// "capability:<id>".
package capability

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/ports"
)

// Kind is a record type links can be minted for.
type Kind struct {
	// Type names the record type (see ports.ValidateRecordType).
	Type string
	// Actions are the actions a link of this kind may grant (each valid
	// per ports.ValidateAction); a mint naming any other is refused.
	Actions []string
	// Permission, when set, is needed to mint, list or revoke links of
	// this kind, besides access.LinksManage: the right to hand a record
	// out is at least the right to read it.
	Permission access.Permission
	// Exists, when set, is called in the minting unit of work of the
	// caller's shop and returns ports.ErrNotFound (wrapped) when the
	// record is not one of that shop's, so that no link is minted for
	// another shop's record or for none.
	Exists func(ctx context.Context, tx ports.ShopTx, recordID string) error
}

func (k Kind) validate() error {
	if err := ports.ValidateRecordType(k.Type); err != nil {
		return fmt.Errorf("link kind %q: %w", k.Type, err)
	}
	if len(k.Actions) == 0 || len(k.Actions) > ports.MaxCapabilityActions {
		return ports.Invalid("link kind", fmt.Sprintf("%q must allow 1 to %d actions", k.Type, ports.MaxCapabilityActions))
	}
	for _, a := range k.Actions {
		if err := ports.ValidateAction(a); err != nil {
			return fmt.Errorf("link kind %q: %w", k.Type, err)
		}
	}
	return nil
}

// Deps are the service's collaborators.
type Deps struct {
	Store ports.Store // required
	// Kinds are the record types links can be minted for; at least one,
	// no type twice.
	Kinds []Kind
	// Policy is the permission matrix the guard checks; nil is the
	// default.
	Policy *access.Policy
	Clock  ports.Clock // default ports.SystemClock
}

// Config holds the tunable rules of links.
type Config struct {
	// DefaultTTL is a link's lifetime when the minter names none (default
	// 7 days).
	DefaultTTL time.Duration
	// MaxTTL bounds every link's lifetime (default 90 days): a forgotten
	// link stops working on its own.
	MaxTTL time.Duration
}

// Defaults of Config.
const (
	DefaultTTL = 7 * 24 * time.Hour
	MaxTTL     = 90 * 24 * time.Hour
)

// Service runs the capability-link use cases. It is safe for concurrent
// use.
type Service struct {
	store  ports.Store
	kinds  map[string]Kind
	policy *access.Policy
	clock  ports.Clock
	cfg    Config
}

// New returns the service. ErrInvalid for a missing store, no kinds, a
// malformed or repeated kind, or a DefaultTTL above MaxTTL.
func New(d Deps, cfg Config) (*Service, error) {
	if d.Store == nil {
		return nil, ports.Invalid("capability deps", "store is required")
	}
	if len(d.Kinds) == 0 {
		return nil, ports.Invalid("capability deps", "at least one link kind is required")
	}
	if cfg.MaxTTL <= 0 {
		cfg.MaxTTL = MaxTTL
	}
	if cfg.DefaultTTL <= 0 {
		cfg.DefaultTTL = min(DefaultTTL, cfg.MaxTTL)
	}
	if cfg.DefaultTTL > cfg.MaxTTL {
		return nil, ports.Invalid("link ttl", "the default must not exceed the maximum")
	}
	s := &Service{store: d.Store, kinds: map[string]Kind{}, policy: d.Policy, clock: d.Clock, cfg: cfg}
	for _, k := range d.Kinds {
		if err := k.validate(); err != nil {
			return nil, err
		}
		if _, dup := s.kinds[k.Type]; dup {
			return nil, ports.Invalid("link kind", fmt.Sprintf("%q is registered twice", k.Type))
		}
		k.Actions = ports.NormalizeActions(k.Actions)
		s.kinds[k.Type] = k
	}
	if s.clock == nil {
		s.clock = ports.SystemClock{}
	}
	return s, nil
}

// Kinds lists the registered record types, sorted.
func (s *Service) Kinds() []string {
	out := make([]string, 0, len(s.kinds))
	for t := range s.kinds {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Config returns the service's effective configuration.
func (s *Service) Config() Config { return s.cfg }

// require is the guard of the management use cases: access.LinksManage,
// and the kind's own permission when it names one. ErrInvalid for an
// unregistered record type.
func (s *Service) require(ctx context.Context, recordType string) (access.Scope, Kind, error) {
	k, ok := s.kinds[recordType]
	if !ok {
		// Checked after the guard for callers without the right, so that
		// the answer to an outsider does not list the types.
		if _, err := s.policy.Require(ctx, access.LinksManage); err != nil {
			return access.Scope{}, Kind{}, err
		}
		return access.Scope{}, Kind{}, ports.Invalid("record_type", fmt.Sprintf("links cannot be made for %q records", recordType))
	}
	perms := []access.Permission{access.LinksManage}
	if k.Permission != "" {
		perms = append(perms, k.Permission)
	}
	sc, err := s.policy.RequireAll(ctx, perms...)
	if err != nil {
		return access.Scope{}, Kind{}, err
	}
	return sc, k, nil
}

// appendAudit appends a link event by the scope's caller to the unit of
// work's shop log, so that it commits with the change (AUD-2). detail must
// hold no secret.
func (s *Service) appendAudit(ctx context.Context, tx audit.Tx, sc access.Scope, action string, c ports.Capability, before, after bool) error {
	detail, err := json.Marshal(describe(c))
	if err != nil {
		return err
	}
	ch := audit.Change{Action: action, Target: "capability:" + c.ID.String()}
	if before {
		ch.Before = json.RawMessage(detail)
	}
	if after {
		ch.After = json.RawMessage(detail)
	}
	_, err = audit.AppendBy(ctx, tx, s.clock, sc, ch)
	return err
}

// description is what the audit log keeps of a link: never its token or
// hash.
type description struct {
	RecordType string    `json:"record_type"`
	RecordID   string    `json:"record_id"`
	Actions    []string  `json:"actions"`
	ExpiresAt  time.Time `json:"expires_at"`
}

func describe(c ports.Capability) description {
	return description{RecordType: c.RecordType, RecordID: c.RecordID, Actions: c.Actions, ExpiresAt: c.ExpiresAt}
}
