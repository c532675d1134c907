// Package auth holds Stockade's authentication use cases: sign-up,
// password sign-in with transparent re-hashing, magic links, OpenID Connect
// sign-in, shop-bound sessions carried in signed cookies, session
// management and brute-force limits (AUTH-1 … AUTH-10, AUTH-15, TEN-7).
//
// The package talks to the world through ports only. Every session
// belongs to one shop: it is created and looked up inside that shop's unit
// of work, and its cookie is signed together with the shop's ID.
package auth

import (
	"context"
	"errors"
	"fmt"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/authmail"
	"log/slog"
	"net"
	"time"

	"github.com/stockadehq/stockade/core/publish"
	"github.com/stockadehq/stockade/ports"
)

// Config holds the tunable rules of authentication. The zero value of a
// field means its default.
type Config struct {
	// SessionIdleTimeout ends a session not used for this long (default
	// 72 hours).
	SessionIdleTimeout time.Duration
	// SessionLifetime ends a session this long after sign-in, whatever its
	// use (default 30 days).
	SessionLifetime time.Duration
	// LastSeenInterval is how stale a session's LastSeenAt may get before a
	// request writes it again (default 5 minutes). Idle timeouts are exact
	// to within this interval.
	LastSeenInterval time.Duration
	// MagicLinkTTL is how long a magic link stays valid (default 15
	// minutes).
	MagicLinkTTL time.Duration
	// VerifyTTL is how long a sign-up's verification link stays valid
	// (default 30 minutes).
	VerifyTTL time.Duration
	// ResetTTL is how long a password reset link stays valid (default 30
	// minutes).
	ResetTTL time.Duration
	// Limits are the brute-force limits (see Limits). Operator sign-in
	// uses PerAccount and PerIP with counters of its own.
	Limits Limits
	// OperatorSessionLifetime ends an operator session this long after
	// sign-in (default 8 hours).
	OperatorSessionLifetime time.Duration
	// OperatorIdleTimeout ends an operator session not used for this long
	// (default 30 minutes).
	OperatorIdleTimeout time.Duration
	// ImpersonationTTL is how long an impersonation lasts from its start;
	// it is never extended, only started again (default 1 hour).
	ImpersonationTTL time.Duration
	// ImpersonationCodeTTL is how long the one-time hand-off code of a
	// started impersonation can be redeemed on the shop's host (default
	// 2 minutes).
	ImpersonationCodeTTL time.Duration
	// ReauthWindow is how long after its last authentication (sign-in,
	// step-up) a session may take sensitive actions: password and factor
	// changes, role changes, billing changes (default 10 minutes).
	ReauthWindow time.Duration
	// TOTPIssuer names the service in authenticator apps (the otpauth://
	// URI's issuer; default "Stockade").
	TOTPIssuer string
}

// Limits bound attempts per account and per client address within a
// window (AUTH-10). An attempt over a limit is refused with
// ports.ErrRateLimited until the window ends.
type Limits struct {
	Window         time.Duration // default 15 minutes
	PerAccount     int           // sign-in attempts per e-mail per window; default 10
	PerIP          int           // sign-in attempts per client address per window; default 100
	MagicPerEmail  int           // magic-link requests per e-mail per window; default 5
	MagicPerIP     int           // magic-link requests per client address per window; default 30
	SignUpPerIP    int           // sign-ups per client address per window; default 20
	SignUpPerEmail int           // sign-ups per e-mail per window; default 5
	FrontCacheSize int           // lock-outs remembered in process; default 10000
}

// WithDefaults returns c with every zero (or negative) duration and limit
// set to its default, as New applies them.
func (c Config) WithDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	def(&c.SessionIdleTimeout, 72*time.Hour)
	def(&c.SessionLifetime, 30*24*time.Hour)
	def(&c.LastSeenInterval, 5*time.Minute)
	def(&c.MagicLinkTTL, 15*time.Minute)
	def(&c.VerifyTTL, 30*time.Minute)
	def(&c.ResetTTL, 30*time.Minute)
	def(&c.OperatorSessionLifetime, 8*time.Hour)
	def(&c.OperatorIdleTimeout, 30*time.Minute)
	def(&c.ImpersonationTTL, time.Hour)
	def(&c.ImpersonationCodeTTL, 2*time.Minute)
	def(&c.ReauthWindow, 10*time.Minute)
	if c.TOTPIssuer == "" {
		c.TOTPIssuer = "Stockade"
	}
	def(&c.Limits.Window, 15*time.Minute)
	defInt(&c.Limits.PerAccount, 10)
	defInt(&c.Limits.PerIP, 100)
	defInt(&c.Limits.MagicPerEmail, 5)
	defInt(&c.Limits.MagicPerIP, 30)
	defInt(&c.Limits.SignUpPerIP, 20)
	defInt(&c.Limits.SignUpPerEmail, 5)
	defInt(&c.Limits.FrontCacheSize, 10000)
	return c
}

// PasswordPolicy decides whether a new password may be used (AUTH-3).
// Check returns an error matching ports.ErrInvalid that says why not.
type PasswordPolicy interface {
	Check(password, email string) error
}

// Deps are the ports the service uses.
type Deps struct {
	Store  ports.Store          // required
	Hasher ports.PasswordHasher // required
	Policy PasswordPolicy       // required
	Keys   *Keyring             // required: signs session and state cookies
	// Mail is the auth mail outbox sign-in links are enqueued to, in the
	// unit of work that creates them; required.
	Mail *authmail.Outbox
	// Providers are the OpenID Connect issuers offered for sign-in, by
	// name. May be empty.
	Providers []ports.IdentityProvider
	Clock     ports.Clock  // default ports.SystemClock
	Logger    *slog.Logger // default discards
	// Access is the permission matrix the guard checks for the
	// signed-in use cases (access.AccountSelf, access.MembersSessions);
	// nil is the default.
	Access *access.Policy
	// FactorKeys seals users' and operators' TOTP secrets at rest (under
	// FactorKeyScope). Without it the second-factor use cases answer
	// ErrUnavailable, and operators cannot enrol the factor they need to
	// impersonate.
	FactorKeys ports.KeyManager
	// SSOProviders builds the identity provider of an org's single
	// sign-on connection (AUTH-14), at each sign-in through it; nil
	// answers every SSO sign-in and enabling a connection with
	// ErrUnavailable. The app gives adapters/oidc.
	SSOProviders SSOProviderFunc
	// DNS looks up the TXT records that prove an org's e-mail domains;
	// nil is the system resolver (a *net.Resolver).
	DNS ports.DNSResolver
	// Events publishes user.signed_up, member.added (an operator's) and
	// session.revoked to hooks after they commit, and the shop's events
	// to its webhook endpoints in their unit of work; nil is a publisher
	// without hooks.
	Events *publish.Publisher
}

// Service runs the authentication use cases. It is safe for concurrent
// use.
type Service struct {
	store     ports.Store
	resolver  ports.SessionResolver
	hasher    ports.PasswordHasher
	policy    PasswordPolicy
	keys      *Keyring
	mail      *authmail.Outbox
	providers map[string]ports.IdentityProvider
	clock     ports.Clock
	log       *slog.Logger
	cfg       Config
	limiter   *limiter
	dummy     *dummyHash
	access    *access.Policy
	// factorKeys seals TOTP secrets; nil without one (errNoFactorKeys).
	factorKeys ports.KeyManager
	events     *publish.Publisher
	// ssoProviders builds org connections' providers; nil without one.
	ssoProviders SSOProviderFunc
	dns          ports.DNSResolver
}

// New returns a Service. It returns an error matching ports.ErrInvalid
// when a required dependency is missing or a provider name repeats.
func New(d Deps, cfg Config) (*Service, error) {
	switch {
	case d.Store == nil:
		return nil, ports.Invalid("auth deps", "store is required")
	case d.Hasher == nil:
		return nil, ports.Invalid("auth deps", "password hasher is required")
	case d.Policy == nil:
		return nil, ports.Invalid("auth deps", "password policy is required")
	case d.Keys == nil:
		return nil, ports.Invalid("auth deps", "session keys are required")
	case d.Mail == nil:
		return nil, ports.Invalid("auth deps", "auth mail outbox is required")
	}
	cfg = cfg.WithDefaults()
	s := &Service{
		store:     d.Store,
		hasher:    d.Hasher,
		policy:    d.Policy,
		keys:      d.Keys,
		mail:      d.Mail,
		providers: map[string]ports.IdentityProvider{},
		clock:     d.Clock,
		log:       d.Logger,
		cfg:       cfg,
		access:    d.Access,

		factorKeys: d.FactorKeys,
		events:     d.Events,

		ssoProviders: d.SSOProviders,
		dns:          d.DNS,
	}
	if s.dns == nil {
		s.dns = &net.Resolver{}
	}
	if s.clock == nil {
		s.clock = ports.SystemClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.events == nil {
		s.events = publish.New(publish.Deps{Clock: s.clock, Logger: s.log})
	}
	if r, ok := d.Store.(ports.SessionResolver); ok {
		s.resolver = r
	} else {
		s.resolver = uowResolver{d.Store}
	}
	for _, p := range d.Providers {
		if _, dup := s.providers[p.Name()]; dup {
			return nil, ports.Invalid("identity providers", fmt.Sprintf("provider %q is configured twice", p.Name()))
		}
		s.providers[p.Name()] = p
	}
	s.limiter = newLimiter(d.Store, cfg.Limits, cfg.Limits.FrontCacheSize)
	s.dummy = &dummyHash{hasher: d.Hasher}
	return s, nil
}

// Warm computes the dummy hash that unknown-e-mail sign-ins verify
// against, so the first of them does not cost two hashes (a timing tell).
// Servers call it once after start; without it the hash is made on first
// use.
func (s *Service) Warm(ctx context.Context) error {
	_, err := s.dummy.get(ctx)
	return err
}

// Config returns the configuration in force, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// uowResolver resolves a session through ResolveInShop, for stores that
// do not implement ports.SessionResolver.
type uowResolver struct{ store ports.Store }

func (u uowResolver) ResolveSession(ctx context.Context, shop ports.ShopID, id ports.SessionID) (ports.ResolvedSession, error) {
	return ResolveInShop(ctx, u.store, shop, id)
}

// ResolveInShop does what ports.SessionResolver does through a read-only
// InShop and a read-only Global (six round trips on Postgres instead of
// one). For store
// wrappers whose store may lack a SessionResolver.
func ResolveInShop(ctx context.Context, store ports.Store, shop ports.ShopID, id ports.SessionID) (ports.ResolvedSession, error) {
	var out ports.ResolvedSession
	err := store.InShop(ctx, shop, func(ctx context.Context, tx ports.ShopTx) error {
		sess, err := tx.Sessions().Get(ctx, id)
		if err != nil {
			return err
		}
		m, err := tx.Memberships().Get(ctx, sess.UserID)
		if err != nil {
			return err
		}
		out = ports.ResolvedSession{Session: sess, Role: m.Role}
		if out.TwoFactor, err = tx.TwoFactorPolicy().Get(ctx); err != nil {
			return err
		}
		if sess.Impersonation.IsZero() {
			return nil
		}
		imp, err := tx.Impersonations().Get(ctx, sess.Impersonation)
		if err != nil {
			return err
		}
		if !imp.EndedAt.IsZero() {
			return fmt.Errorf("impersonation ended: %w", ports.ErrNotFound)
		}
		out.Impersonator = imp.OperatorID
		return nil
	}, ports.ReadOnly())
	if err != nil {
		return ports.ResolvedSession{}, err
	}
	err = store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		if out.ValidAfter, err = tx.Users().SessionsValidAfter(ctx, out.Session.UserID); err != nil {
			return err
		}
		f, err := tx.SecondFactors().TOTP(ctx, ports.UserFactors(out.Session.UserID))
		switch {
		case errors.Is(err, ports.ErrNotFound):
		case err != nil:
			return err
		default:
			out.HasSecondFactor = f.Confirmed()
		}
		if out.Impersonator.IsZero() {
			return nil
		}
		op, err := tx.Operators().Get(ctx, out.Impersonator)
		if err == nil && op.Disabled() {
			err = fmt.Errorf("operator disabled: %w", ports.ErrNotFound)
		}
		return err
	}, ports.ReadOnly())
	if err != nil {
		return ports.ResolvedSession{}, err
	}
	return out, nil
}

// User returns the principal's account ("who am I").
func (s *Service) User(ctx context.Context, p Principal) (ports.User, error) {
	if err := s.guardSelf(ctx, p); err != nil {
		return ports.User{}, err
	}
	var user ports.User
	err := s.store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		user, err = tx.Users().Get(ctx, p.User)
		return err
	}, ports.ReadOnly())
	if err != nil {
		return ports.User{}, fmt.Errorf("read user: %w", err)
	}
	return user, nil
}
