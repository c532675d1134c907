// Package tenancy holds the use cases that create and shape tenants (TEN-1,
// TEN-5, TEN-6, TEN-9): orgs and their shops, a shop's settings and
// status, memberships with "at least one Owner remains", invitations, org
// admins and HQ access to child shops.
//
// Every use case begins with the guard (core/access): the shop it works in
// is the caller's scope's, never an argument. Changes append their audit
// event through the same unit of work as the change (AUD-2); HQ access
// appends its event before any data is returned (AUD-3, audit.Before).
package tenancy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/core/authmail"
	"github.com/stockadehq/stockade/core/publish"
	"github.com/stockadehq/stockade/ports"
)

// Deps are the service's collaborators.
type Deps struct {
	Store ports.Store // required
	// Auth creates accounts and sessions for accepted invitations;
	// required.
	Auth *auth.Service
	// Mail is the auth mail outbox invitations are enqueued to, in the
	// unit of work that creates them; required.
	Mail *authmail.Outbox
	// Policy is the permission matrix the guard checks; nil is the
	// default.
	Policy *access.Policy
	Clock  ports.Clock  // default ports.SystemClock
	Logger *slog.Logger // default discards
	// Events publishes the changes (member.added, shop.created, …) to
	// hooks after they commit and to the shop's webhook endpoints in
	// their unit of work; nil is a publisher without hooks (the webhooks
	// are enqueued all the same).
	Events *publish.Publisher
}

// Config holds the tunable rules of tenancy.
type Config struct {
	// InvitationTTL is how long an invitation can be accepted (default
	// 7 days).
	InvitationTTL time.Duration
	// OrgInvitesPerInviter and OrgInvitesPerIP bound how often a user,
	// and a client address, may offer org roles (OfferOrgRole) within the
	// auth service's limit window (defaults 20 and 60).
	OrgInvitesPerInviter int
	OrgInvitesPerIP      int
	// ReservedSlugs are the host labels no shop may take, wherever a slug
	// is chosen (nil: DefaultReservedSlugs; an empty, non-nil list
	// reserves nothing).
	ReservedSlugs []string
}

// Service runs the tenancy use cases. It is safe for concurrent use.
type Service struct {
	store  ports.Store
	auth   *auth.Service
	mail   *authmail.Outbox
	policy *access.Policy
	clock  ports.Clock
	log    *slog.Logger
	events *publish.Publisher
	cfg    Config
	// reserved is cfg.ReservedSlugs as a set.
	reserved map[string]bool
}

// New returns the service. ErrInvalid for a missing dependency.
func New(d Deps, cfg Config) (*Service, error) {
	if d.Store == nil || d.Auth == nil || d.Mail == nil {
		return nil, ports.Invalid("tenancy deps", "store, auth service and auth mail outbox are required")
	}
	if cfg.InvitationTTL <= 0 {
		cfg.InvitationTTL = 7 * 24 * time.Hour
	}
	if cfg.OrgInvitesPerInviter <= 0 {
		cfg.OrgInvitesPerInviter = 20
	}
	if cfg.OrgInvitesPerIP <= 0 {
		cfg.OrgInvitesPerIP = 60
	}
	s := &Service{store: d.Store, auth: d.Auth, mail: d.Mail, policy: d.Policy, clock: d.Clock, log: d.Logger, events: d.Events, cfg: cfg, reserved: reservedSet(cfg.ReservedSlugs)}
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
	action  string
	target  string
	outcome ports.Outcome
	before  any // marshalled to JSON; must hold no secret
	after   any
}

// appendAudit appends e, by the scope's caller, to the unit of work's shop
// log so that it commits with the change it records (AUD-2).
func (s *Service) appendAudit(ctx context.Context, tx audit.Tx, sc access.Scope, e record) error {
	_, err := audit.AppendBy(ctx, tx, s.clock, sc, audit.Change{Action: e.action, Target: e.target, Outcome: e.outcome, Before: e.before, After: e.after})
	return err
}

// event builds the audit event of e by the scope's caller.
func (s *Service) event(sc access.Scope, e record) (ports.AuditEvent, error) {
	ev := ports.AuditEvent{
		ID: ports.NewEventID(), Time: s.clock.Now(), Actor: sc.Actor(), Impersonator: sc.Impersonator,
		Action: e.action, Target: e.target, Outcome: e.outcome,
		IP: sc.IP, UserAgent: sc.UserAgent, RequestID: sc.RequestID,
	}
	if ev.Outcome == "" {
		ev.Outcome = ports.OutcomeSuccess
	}
	var err error
	if ev.Before, err = marshal(e.before); err != nil {
		return ports.AuditEvent{}, err
	}
	if ev.After, err = marshal(e.after); err != nil {
		return ports.AuditEvent{}, err
	}
	return ev, nil
}

func marshal(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

// orgRole returns the caller's role in org, or ErrForbidden when the
// caller has none or it lacks perm. A system scope holds every org
// permission.
func (s *Service) orgRole(ctx context.Context, sc access.Scope, org ports.OrgID, perm access.OrgPermission) error {
	if sc.System != "" {
		return nil
	}
	if sc.User.IsZero() || sc.Impersonator != "" || sc.HQ {
		// Org power is the user's own: it is not lent to operators
		// impersonating a member, nor gained again through HQ access.
		return fmt.Errorf("%s needs the caller's own org role: %w", perm, ports.ErrForbidden)
	}
	var m ports.OrgMember
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		m, err = tx.OrgMembers().Get(ctx, org, sc.User)
		return err
	}, ports.ReadOnly())
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return fmt.Errorf("not an admin of this org: %w", ports.ErrForbidden)
	case err != nil:
		return fmt.Errorf("read org role: %w", err)
	case !access.OrgAllows(m.Role, perm):
		return fmt.Errorf("org role %q lacks %s: %w", m.Role, perm, ports.ErrForbidden)
	}
	return nil
}
