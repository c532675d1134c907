// Package ports is Stockade's contract: the types that cross the boundary
// between the core use cases and the adapters, the port interfaces that carry
// them, and the sentinel errors both sides speak.
//
// ports imports the standard library and github.com/google/uuid only. The
// core depends on ports; adapters depend on ports; neither depends on the
// other. Every port has a conformance suite in ports/porttest that any
// adapter, ours or a user's, must pass.
//
// # Tenant boundary
//
// A store is entered through a unit of work (see [Store]). [Store.InShop]
// binds a transaction to exactly one shop and hands out repositories that
// take no shop ID: the shop is the transaction's, so a cross-shop query
// cannot be expressed. [Store.Global] is for global rows (users, orgs, the
// shop directory) and offers no tenant repository.
//
// # The ports
//
//   - Storage of state: [Store] with its repositories — per shop
//     (memberships, audit and its checkpoints, sessions, magic links,
//     files, invitations, jobs, capabilities, impersonations, billing,
//     consent, outbox, messaging settings) and global (users, orgs, shops,
//     passwords, identities, rate limits, org members, operators, the
//     billing and messaging directories) — and the optional
//     [SessionResolver], [AuditShopLister], [JobQueue] and [OutboxQueue].
//   - Authentication: [PasswordHasher], [IdentityProvider], and the auth
//     mail outbox ([AuthMailQueue], [AuthMailOutbox]).
//   - Files: [ObjectStore] for bytes, [KeyManager] for per-shop
//     key-encryption keys.
//   - Billing: [Billing] (the provider's API) and [BillingWebhooks] (its
//     signed events).
//   - Messaging: [SMSSender], [EmailSender], and [WebhookVerifier] for the
//     providers' inbound webhooks.
//
// Conformance suites in ports/porttest: TestStore (every repository, the
// tenant boundary and concurrency), TestJobQueue, TestOutboxQueue,
// TestPasswordHasher, TestIdentityProvider, TestObjectStore,
// TestKeyManager, TestSMSSender and TestEmailSender. The Stripe adapter is
// tested against Stripe's own stripe-mock instead.
package ports
