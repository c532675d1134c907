package porttest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Features declares which optional parts of ports.Store an adapter's
// stores offer, up front (like Watermill's Features). The suite checks a
// declared feature works and an undeclared one is refused with an error
// wrapping ports.ErrUnsupported; it never skips. The zero value declares
// nothing optional.
type Features struct {
	// AppSQL: ShopTx.SQL reaches the embedding app's tables. When true,
	// the stores of a StoreSuite must have AppNotesMigrations applied and
	// AppNotesTable declared as a tenant table (TestAppSQL runs on them).
	// When false, every statement through ShopTx.SQL must fail:
	// ExecContext and QueryContext with an error wrapping
	// ports.ErrUnsupported, QueryRowContext with an error from Scan (a
	// *sql.Row cannot carry the sentinel).
	AppSQL bool
	// AppSQLRowsAffected: the sql.Result of ShopTx.SQL().ExecContext
	// counts the rows a write touched. When false, RowsAffected must
	// return an error wrapping ports.ErrUnsupported, never a made-up count
	// (SQLite's tenant wall writes through INSTEAD OF triggers, which
	// SQLite does not count). Needs AppSQL.
	AppSQLRowsAffected bool
}

// check fails the test when the declaration contradicts itself.
func (f Features) check(t *testing.T) {
	t.Helper()
	require.False(t, f.AppSQLRowsAffected && !f.AppSQL, "porttest: Features.AppSQLRowsAffected needs Features.AppSQL")
}

// StoreSuite is what the store entry points run against: a harness and
// the features its stores offer.
type StoreSuite struct {
	// New returns a fresh, migrated, empty store for one test (see
	// StoreHarness).
	New StoreHarness
	// Features are the optional parts the stores offer.
	Features Features
	// Parallel lets TestStoreSuite run its entry points at once
	// (t.Parallel). Set it only when every store New returns is
	// independent of every other (its own database file or database), as
	// StoreHarness promises; leave it false for a harness that shares one
	// database between stores.
	Parallel bool
}

// check fails the test unless the suite can run.
func (s StoreSuite) check(t *testing.T) {
	t.Helper()
	require.NotNil(t, s.New, "porttest: StoreSuite.New is nil")
	s.Features.check(t)
}

// storeEntry is one entry point of the store suite and the subtest name
// TestStore and TestStoreSuite give it.
type storeEntry struct {
	name string
	run  func(t *testing.T, s StoreSuite)
}

// storeEntries are the per-repository entry points, the tenant boundary
// and concurrency, in the order TestStore has always run them.
func storeEntries() []storeEntry {
	return []storeEntry{
		{"UnitOfWork", TestUnitOfWork},
		{"Directory", TestDirectory},
		{"Memberships", TestMemberships},
		{"Audit", TestAudit},
		{"AuditCheckpoints", TestAuditCheckpoints},
		{"AuditSearch", TestAuditSearch},
		{"Sessions", TestSessions},
		{"SessionResolver", TestSessionResolver},
		{"SessionEpoch", TestSessionEpoch},
		{"MagicLinks", TestMagicLinks},
		{"Passwords", TestPasswords},
		{"Identities", TestIdentities},
		{"MailProof", TestMailProof},
		{"RateLimits", TestRateLimits},
		{"Files", TestFiles},
		{"Invitations", TestInvitations},
		{"OrgMembers", TestOrgMembers},
		{"OrgInvitations", TestOrgInvitations},
		{"ThisShop", TestThisShop},
		{"LastOwner", TestLastOwner},
		{"Jobs", TestJobs},
		{"Billing", TestBilling},
		{"Consent", TestConsent},
		{"Outbox", TestOutbox},
		{"AuthMail", TestAuthMail},
		{"MessagingSettings", TestMessagingSettings},
		{"Capabilities", TestCapabilities},
		{"WebhookEndpoints", TestWebhookEndpoints},
		{"SecondFactors", TestSecondFactors},
		{"Passkeys", TestPasskeys},
		{"SSO", TestSSO},
		{"SCIM", TestSCIM},
		{"Operators", TestOperators},
		{"Impersonations", TestImpersonations},
		{"TenantBoundary", TestTenantBoundary},
		{"Concurrency", TestConcurrency},
	}
}

// runEntries runs each entry as a subtest, in parallel when s.Parallel.
func runEntries(t *testing.T, s StoreSuite, entries []storeEntry) {
	t.Helper()
	s.check(t)
	for _, e := range entries {
		t.Run(e.name, func(t *testing.T) {
			if s.Parallel {
				t.Parallel()
			}
			e.run(t, s)
		})
	}
}

// TestStoreSuite runs the whole ports.Store conformance suite: every
// entry point TestStore runs, then every feature entry point
// (TestAppSQLFeature) against s.Features. Entry points run in parallel
// when s.Parallel.
func TestStoreSuite(t *testing.T, s StoreSuite) {
	runEntries(t, s, append(storeEntries(), storeEntry{"AppSQL", TestAppSQLFeature}))
}

// The per-repository entry points. Each runs one repository's (or one
// concern's) conformance tests on stores from s.New, every test on a
// fresh store, and may be called on its own from an adapter's test.

// TestUnitOfWork checks InShop and Global: commit, rollback, panics,
// read-only units of work and nesting.
func TestUnitOfWork(t *testing.T, s StoreSuite) { s.check(t); testUnitOfWork(t, s.New) }

// TestDirectory checks the global directory: orgs, shops and users.
func TestDirectory(t *testing.T, s StoreSuite) { s.check(t); testDirectory(t, s.New) }

// TestMemberships checks ShopTx.Memberships.
func TestMemberships(t *testing.T, s StoreSuite) { s.check(t); testMemberships(t, s.New) }

// TestAudit checks ShopTx.Audit: the hash-chained, append-only audit log.
func TestAudit(t *testing.T, s StoreSuite) { s.check(t); testAudit(t, s.New) }

// TestAuditCheckpoints checks ShopTx.AuditCheckpoints.
func TestAuditCheckpoints(t *testing.T, s StoreSuite) { s.check(t); testAuditCheckpoints(t, s.New) }

// TestAuditSearch checks the audit log's search and paging.
func TestAuditSearch(t *testing.T, s StoreSuite) { s.check(t); testAuditSearch(t, s.New) }

// TestSessions checks ShopTx.Sessions.
func TestSessions(t *testing.T, s StoreSuite) { s.check(t); testSessions(t, s.New) }

// TestSessionResolver checks the store's session resolver.
func TestSessionResolver(t *testing.T, s StoreSuite) { s.check(t); testSessionResolver(t, s.New) }

// TestSessionEpoch checks UserRepo.EndSessions and SessionsValidAfter and
// their appearance in ResolvedSession.ValidAfter, in every shop.
func TestSessionEpoch(t *testing.T, s StoreSuite) { s.check(t); testSessionEpoch(t, s.New) }

// TestMagicLinks checks ShopTx.MagicLinks.
func TestMagicLinks(t *testing.T, s StoreSuite) { s.check(t); testMagicLinks(t, s.New) }

// TestPasswords checks GlobalTx.Passwords.
func TestPasswords(t *testing.T, s StoreSuite) { s.check(t); testPasswords(t, s.New) }

// TestIdentities checks GlobalTx.Identities.
func TestIdentities(t *testing.T, s StoreSuite) { s.check(t); testIdentities(t, s.New) }

// TestMailProof checks what mailbox proof and password reset need of the
// store: a user's VerifiedAt, the shops of a user, deleting a password and
// identity links, and mail tokens.
func TestMailProof(t *testing.T, s StoreSuite) { s.check(t); testMailProof(t, s.New) }

// TestRateLimits checks GlobalTx.RateLimits.
func TestRateLimits(t *testing.T, s StoreSuite) { s.check(t); testRateLimits(t, s.New) }

// TestFiles checks ShopTx.Files.
func TestFiles(t *testing.T, s StoreSuite) { s.check(t); testFiles(t, s.New) }

// TestInvitations checks ShopTx.Invitations.
func TestInvitations(t *testing.T, s StoreSuite) { s.check(t); testInvitations(t, s.New) }

// TestOrgMembers checks GlobalTx.OrgMembers.
func TestOrgMembers(t *testing.T, s StoreSuite) { s.check(t); testOrgMembers(t, s.New) }

// TestOrgInvitations checks GlobalTx.OrgInvitations.
func TestOrgInvitations(t *testing.T, s StoreSuite) { s.check(t); testOrgInvitations(t, s.New) }

// TestThisShop checks ShopTx.ThisShop.
func TestThisShop(t *testing.T, s StoreSuite) { s.check(t); testThisShop(t, s.New) }

// TestLastOwner checks that a shop keeps at least one owner, also under
// racing changes.
func TestLastOwner(t *testing.T, s StoreSuite) { s.check(t); testLastOwner(t, s.New) }

// TestJobs checks ShopTx.Jobs and the store's job queue (TestJobQueue).
func TestJobs(t *testing.T, s StoreSuite) { s.check(t); testJobs(t, s.New) }

// TestBilling checks ShopTx.Billing and GlobalTx.BillingDirectory.
func TestBilling(t *testing.T, s StoreSuite) { s.check(t); testBilling(t, s.New) }

// TestConsent checks ShopTx.Consent.
func TestConsent(t *testing.T, s StoreSuite) { s.check(t); testConsent(t, s.New) }

// TestOutbox checks ShopTx.Outbox and the store's outbox queue
// (TestOutboxQueue).
func TestOutbox(t *testing.T, s StoreSuite) { s.check(t); testOutbox(t, s.New) }

// TestAuthMail checks the AuthMail queues of both units of work.
func TestAuthMail(t *testing.T, s StoreSuite) { s.check(t); testAuthMail(t, s.New) }

// TestMessagingSettings checks ShopTx.MessagingSettings.
func TestMessagingSettings(t *testing.T, s StoreSuite) { s.check(t); testMessagingSettings(t, s.New) }

// TestCapabilities checks ShopTx.Capabilities.
func TestCapabilities(t *testing.T, s StoreSuite) { s.check(t); testCapabilities(t, s.New) }

// TestOperators checks GlobalTx.Operators.
func TestOperators(t *testing.T, s StoreSuite) { s.check(t); testOperators(t, s.New) }

// TestImpersonations checks ShopTx.Impersonations.
func TestImpersonations(t *testing.T, s StoreSuite) { s.check(t); testImpersonations(t, s.New) }

// TestWebhookEndpoints checks ShopTx.WebhookEndpoints.
func TestWebhookEndpoints(t *testing.T, s StoreSuite) { s.check(t); testWebhookEndpoints(t, s.New) }

// TestSecondFactors runs the second-factor contract: users' and
// operators' TOTP factors and recovery codes, each shop's two-factor
// policy, and the assurance level of sessions (AUTH-11, AUTH-13, AUTH-18).
func TestSecondFactors(t *testing.T, s StoreSuite) { s.check(t); testSecondFactors(t, s.New) }

// TestSSO checks GlobalTx.SSOConnections and GlobalTx.OrgDomains: orgs'
// single sign-on connections and the e-mail domains they claim, each
// domain verified by one org at most (AUTH-14).
func TestSSO(t *testing.T, s StoreSuite) { s.check(t); testSSO(t, s.New) }

// TestTenantBoundary attacks the tenant boundary of every repository: one
// shop's unit of work reaching another shop's rows, in-flight rows, a
// caller-supplied shop ID the store must ignore, the same IDs in two
// shops, and audit pages.
func TestTenantBoundary(t *testing.T, s StoreSuite) {
	s.check(t)
	newStore := s.New
	testTenantBoundary(t, newStore)
	testAuthTenantBoundary(t, newStore)
	testFileTenantBoundary(t, newStore)
	testTenancyTenantBoundary(t, newStore)
	testJobTenantBoundary(t, newStore)
	testBillingTenantBoundary(t, newStore)
	testMessagingTenantBoundary(t, newStore)
	testCapabilityTenantBoundary(t, newStore)
	t.Run("WebhookEndpoints", func(t *testing.T) { testWebhookTenantBoundary(t, newStore) })
	t.Run("TwoFactorPolicy", func(t *testing.T) { testTwoFactorPolicyTenantBoundary(t, newStore) })
	t.Run("Passkeys", func(t *testing.T) { testPasskeyTenantBoundary(t, newStore) })
	testImpersonationTenantBoundary(t, newStore)
	t.Run("InFlight", func(t *testing.T) { testInFlightTenantBoundary(t, newStore) })
	t.Run("CallerShopIgnored", func(t *testing.T) { testCallerShopIgnored(t, newStore) })
	t.Run("SameIDs", func(t *testing.T) { testSameIDsInTwoShops(t, newStore) })
	t.Run("AuditPages", func(t *testing.T) { testAuditPagesTenantBoundary(t, newStore) })
}

// TestConcurrency checks concurrent use of one store: racing appends to
// one audit chain stay gap-free, and many shops work at once.
func TestConcurrency(t *testing.T, s StoreSuite) { s.check(t); testConcurrency(t, s.New) }
