package ports

import "context"

// Store is the unit-of-work entry to persistent state. Implementations must
// be safe for concurrent use.
//
// Stores stamp CreatedAt and UpdatedAt from their own Clock (values passed
// in are ignored) and keep every time as Timestamp does. An AuditEvent's
// Time is the caller's.
//
// A unit of work is one database transaction: fn's writes commit together
// when fn returns nil and roll back when it returns an error or panics (the
// panic is re-raised after the rollback). The transaction object and its
// repositories are valid only during fn and must not be used from other
// goroutines.
//
// fn receives a context derived from ctx that marks it as inside a unit of
// work. Opening another unit of work with that context returns
// ErrNestedUnitOfWork without running anything; to do two independent
// pieces of work (AUD-3 "audit before action") run them one after another.
type Store interface {
	// InShop runs fn in a transaction bound to shop. Every repository of
	// ShopTx reads and writes that shop's rows only; rows of other shops
	// are neither visible nor writable, whatever fn does. InShop does not
	// check that the shop exists; writes referring to a missing shop fail
	// with ErrNotFound. ErrInvalid for a zero shop ID.
	InShop(ctx context.Context, shop ShopID, fn func(ctx context.Context, tx ShopTx) error, opts ...TxOption) error
	// Global runs fn in a transaction over the global rows (users, orgs,
	// the shop directory). It offers no tenant repository.
	Global(ctx context.Context, fn func(ctx context.Context, tx GlobalTx) error, opts ...TxOption) error
	// Ping reports whether the store is reachable and its schema is the one
	// this build expects: nil, or an error matching ErrUnavailable,
	// ErrSchemaBehind or ErrSchemaTooNew.
	Ping(ctx context.Context) error
	// Close releases the store's connections. Units of work must not be
	// started after Close.
	Close() error
}

// ShopTx is a unit of work bound to one shop.
type ShopTx interface {
	// ShopID is the shop this unit of work is bound to.
	ShopID() ShopID
	Memberships() MembershipRepo
	Audit() AuditRepo
	AuditCheckpoints() AuditCheckpointRepo
	Sessions() SessionRepo
	MagicLinks() MagicLinkRepo
	Files() FileRepo
	Invitations() InvitationRepo
	Jobs() JobRepo
	// ThisShop is the directory row of the unit of work's own shop.
	ThisShop() ThisShopRepo
	// Capabilities are the shop's public capability links (CAP-1).
	Capabilities() CapabilityRepo
	// WebhookEndpoints are the shop's outbound webhook endpoints.
	WebhookEndpoints() WebhookEndpointRepo
	// TwoFactorPolicy is the shop's rule on who must use a second factor
	// (AUTH-13).
	TwoFactorPolicy() TwoFactorPolicyRepo
	// Passkeys are the shop's members' WebAuthn credentials and pending
	// WebAuthn ceremonies (AUTH-12).
	Passkeys() PasskeyRepo
	// Impersonations are operator impersonation sessions in the shop (AUD-5).
	Impersonations() ImpersonationRepo
	// Billing is the shop's billing state and processed Stripe events (BIL).
	Billing() BillingRepo
	// Consent is the shop's messaging consent registry (MSG-4).
	Consent() ConsentRepo
	// Outbox is the shop's transactional message outbox (MSG-6).
	Outbox() OutboxRepo
	// MessagingSettings are the shop's messaging settings (MSG).
	MessagingSettings() MessagingSettingsRepo
	// AuthMail enqueues auth mail (sign-in links, invitations) that
	// commits with this unit of work; the mail's ShopID is this shop.
	AuthMail() AuthMailQueue
	// RetentionWarnings records the warnings mailed to the shop's Owners
	// before its retention deletion (LIFE-2).
	RetentionWarnings() RetentionWarningRepo
	// SQL is this unit of work's own SQL handle for the embedding app's
	// tables: its statements commit or roll back with the repositories'.
	SQL() TxSQL
}

// GlobalTx is a unit of work over global rows.
type GlobalTx interface {
	Orgs() OrgRepo
	Shops() ShopRepo
	Users() UserRepo
	Passwords() PasswordRepo
	Identities() IdentityRepo
	RateLimits() RateLimitRepo
	OrgMembers() OrgMemberRepo
	// OrgInvitations are invitations to an org role (TEN-6, consent).
	OrgInvitations() OrgInvitationRepo
	// Operators are platform operators: not members of any shop (AUD-5).
	Operators() OperatorRepo
	// SecondFactors are users' and operators' second factors: TOTP and
	// recovery codes (AUTH-11, AUTH-18).
	SecondFactors() SecondFactorRepo
	// SSOConnections are orgs' OpenID Connect single sign-on connections
	// (AUTH-14).
	SSOConnections() SSOConnectionRepo
	// OrgDomains are the e-mail domains orgs claim and verify (AUTH-14).
	OrgDomains() OrgDomainRepo
	// BillingDirectory maps Stripe customers and accounts to shops (BIL).
	BillingDirectory() BillingDirectoryRepo
	// MessagingDirectory maps inbound messaging addresses to shops (MSG).
	MessagingDirectory() MessagingDirectoryRepo
	// MailTokens are the mailed sign-up verification and password reset
	// tokens (AUTH-16, AUTH-17).
	MailTokens() MailTokenRepo
	// AuthMail enqueues auth mail that commits with this unit of work;
	// the mail has no shop.
	AuthMail() AuthMailQueue
	// KMSKeys map key scopes (shops) to their key-encryption keys at an
	// external KMS (adapters/awskms, STO-4).
	KMSKeys() KMSKeyRepo
	// SCIM is the orgs' SCIM provisioning directories: tokens, users,
	// groups, group-to-role mappings and grants (AUTH-14).
	SCIM() SCIMRepo
}

// TxOptions are the settings a unit of work runs with.
type TxOptions struct {
	// ReadOnly declares that fn only reads. Stores may run it on a reader
	// connection; any write inside it fails with an error. A read-only unit
	// of work never waits for writers in single-writer stores.
	ReadOnly bool
	// Snapshot declares a read-only unit of work whose reads must all see
	// one consistent state of the store, as of its first read: a write
	// committed by another unit of work after that is not seen, even by a
	// later statement. It implies ReadOnly. Without it a read-only unit
	// of work may see each statement's own moment (PostgreSQL's READ
	// COMMITTED). It costs a transaction held open for fn's whole run, so
	// it is for reads that must agree across tables, such as an export.
	Snapshot bool
}

// TxOption sets one TxOptions field.
type TxOption func(*TxOptions)

// ReadOnly marks a unit of work as read-only (see TxOptions.ReadOnly).
func ReadOnly() TxOption { return func(o *TxOptions) { o.ReadOnly = true } }

// Snapshot marks a unit of work as read-only with every read seeing one
// consistent state (see TxOptions.Snapshot).
func Snapshot() TxOption { return func(o *TxOptions) { o.ReadOnly, o.Snapshot = true, true } }

// ApplyTxOptions folds opts into a TxOptions value. For adapters.
func ApplyTxOptions(opts []TxOption) TxOptions {
	var o TxOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.Snapshot {
		o.ReadOnly = true
	}
	return o
}

type unitOfWorkKey struct{}

// EnterUnitOfWork returns a context marked as inside a unit of work, or
// ErrNestedUnitOfWork if ctx already is. Stores call it before they begin a
// transaction and pass the returned context to fn. For adapters.
func EnterUnitOfWork(ctx context.Context) (context.Context, error) {
	if InUnitOfWork(ctx) {
		return ctx, ErrNestedUnitOfWork
	}
	return context.WithValue(ctx, unitOfWorkKey{}, true), nil
}

// InUnitOfWork reports whether ctx is inside a unit of work.
func InUnitOfWork(ctx context.Context) bool {
	v, _ := ctx.Value(unitOfWorkKey{}).(bool)
	return v
}
