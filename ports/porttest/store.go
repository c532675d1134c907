package porttest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// StoreHarness returns a fresh, migrated, empty store for one test. The
// harness registers its own cleanup (t.Cleanup); the suite does not Close
// the store.
type StoreHarness func(t *testing.T) ports.Store

// TestStore runs the ports.Store conformance suite: the unit of work, every
// repository, the tenant boundary, concurrent use and the error contracts.
func TestStore(t *testing.T, newStore StoreHarness) {
	t.Run("UnitOfWork", func(t *testing.T) { testUnitOfWork(t, newStore) })
	t.Run("Directory", func(t *testing.T) { testDirectory(t, newStore) })
	t.Run("Memberships", func(t *testing.T) { testMemberships(t, newStore) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, newStore) })
	t.Run("AuditCheckpoints", func(t *testing.T) { testAuditCheckpoints(t, newStore) })
	t.Run("AuditSearch", func(t *testing.T) { testAuditSearch(t, newStore) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, newStore) })
	t.Run("SessionResolver", func(t *testing.T) { testSessionResolver(t, newStore) })
	t.Run("SessionEpoch", func(t *testing.T) { testSessionEpoch(t, newStore) })
	t.Run("MagicLinks", func(t *testing.T) { testMagicLinks(t, newStore) })
	t.Run("Passwords", func(t *testing.T) { testPasswords(t, newStore) })
	t.Run("Identities", func(t *testing.T) { testIdentities(t, newStore) })
	t.Run("MailProof", func(t *testing.T) { testMailProof(t, newStore) })
	t.Run("RateLimits", func(t *testing.T) { testRateLimits(t, newStore) })
	t.Run("Files", func(t *testing.T) { testFiles(t, newStore) })
	t.Run("Invitations", func(t *testing.T) { testInvitations(t, newStore) })
	t.Run("OrgMembers", func(t *testing.T) { testOrgMembers(t, newStore) })
	t.Run("OrgInvitations", func(t *testing.T) { testOrgInvitations(t, newStore) })
	t.Run("ThisShop", func(t *testing.T) { testThisShop(t, newStore) })
	t.Run("LastOwner", func(t *testing.T) { testLastOwner(t, newStore) })
	t.Run("Jobs", func(t *testing.T) { testJobs(t, newStore) })
	t.Run("Billing", func(t *testing.T) { testBilling(t, newStore) })
	t.Run("Consent", func(t *testing.T) { testConsent(t, newStore) })
	t.Run("Outbox", func(t *testing.T) { testOutbox(t, newStore) })
	t.Run("AuthMail", func(t *testing.T) { testAuthMail(t, newStore) })
	t.Run("MessagingSettings", func(t *testing.T) { testMessagingSettings(t, newStore) })
	t.Run("Capabilities", func(t *testing.T) { testCapabilities(t, newStore) })
	t.Run("WebhookEndpoints", func(t *testing.T) { testWebhookEndpoints(t, newStore) })
	t.Run("Operators", func(t *testing.T) { testOperators(t, newStore) })
	t.Run("Impersonations", func(t *testing.T) { testImpersonations(t, newStore) })
	t.Run("TenantBoundary", func(t *testing.T) {
		testTenantBoundary(t, newStore)
		testAuthTenantBoundary(t, newStore)
		testFileTenantBoundary(t, newStore)
		testTenancyTenantBoundary(t, newStore)
		testJobTenantBoundary(t, newStore)
		testBillingTenantBoundary(t, newStore)
		testMessagingTenantBoundary(t, newStore)
		testCapabilityTenantBoundary(t, newStore)
		t.Run("WebhookEndpoints", func(t *testing.T) { testWebhookTenantBoundary(t, newStore) })
		testImpersonationTenantBoundary(t, newStore)
		t.Run("InFlight", func(t *testing.T) { testInFlightTenantBoundary(t, newStore) })
		t.Run("CallerShopIgnored", func(t *testing.T) { testCallerShopIgnored(t, newStore) })
		t.Run("SameIDs", func(t *testing.T) { testSameIDsInTwoShops(t, newStore) })
		t.Run("AuditPages", func(t *testing.T) { testAuditPagesTenantBoundary(t, newStore) })
	})
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, newStore) })
}

// fixture is an org with shops and users, created through the port.
type fixture struct {
	org   ports.Org
	shops []ports.Shop
	users []ports.User
}

// seed creates one org with nShops shops and nUsers users.
func seed(t *testing.T, s ports.Store, nShops, nUsers int) fixture {
	t.Helper()
	var f fixture
	err := s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		var err error
		f.org, err = tx.Orgs().Create(ctx, ports.Org{ID: ports.NewOrgID(), Name: "Acme HQ"})
		if err != nil {
			return err
		}
		for i := 0; i < nShops; i++ {
			id := ports.NewShopID()
			sh, err := tx.Shops().Create(ctx, ports.Shop{ID: id, OrgID: f.org.ID, Slug: "shop-" + id.String()[24:], Name: "Shop", Status: ports.ShopActive})
			if err != nil {
				return err
			}
			f.shops = append(f.shops, sh)
		}
		for i := 0; i < nUsers; i++ {
			id := ports.NewUserID()
			u, err := tx.Users().Create(ctx, ports.User{ID: id, Email: "u-" + id.String() + "@example.com", Name: "User"})
			if err != nil {
				return err
			}
			f.users = append(f.users, u)
		}
		return nil
	})
	require.NoError(t, err)
	return f
}

// inShop runs fn in shop's unit of work and requires it to succeed.
func inShop(t *testing.T, s ports.Store, shop ports.ShopID, fn func(ctx context.Context, tx ports.ShopTx) error, opts ...ports.TxOption) {
	t.Helper()
	require.NoError(t, s.InShop(context.Background(), shop, fn, opts...))
}

func members(t *testing.T, s ports.Store, shop ports.ShopID) []ports.Membership {
	t.Helper()
	var out []ports.Membership
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Memberships().List(ctx)
		return err
	}, ports.ReadOnly())
	return out
}

// join makes each user a member of shop with role.
func join(t *testing.T, s ports.Store, shop ports.ShopID, role ports.Role, users ...ports.UserID) {
	t.Helper()
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		for _, u := range users {
			if _, err := tx.Memberships().Add(ctx, u, role); err != nil {
				return err
			}
		}
		return nil
	})
}

// tokenHash returns the SHA-256 of a fresh 256-bit random token, the way
// the core derives every stored token hash.
func tokenHash() []byte {
	token := make([]byte, 32)
	_, _ = rand.Read(token) // never fails since Go 1.24
	sum := sha256.Sum256(token)
	return sum[:]
}

// refusedInShop runs do in its own unit of work of shop, which then
// commits whatever do returned, and returns do's error. It proves that a
// refusal (ErrInvalid) wrote nothing even when the caller carries on and
// commits: input is checked before anything reaches the database, and the
// unit of work stays usable.
func refusedInShop(t *testing.T, s ports.Store, shop ports.ShopID, do func(ctx context.Context, tx ports.ShopTx) error) error {
	t.Helper()
	var refused error
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		refused = do(ctx, tx)
		return nil
	})
	return refused
}

// refusedGlobal is refusedInShop for a global unit of work.
func refusedGlobal(t *testing.T, s ports.Store, do func(ctx context.Context, tx ports.GlobalTx) error) error {
	t.Helper()
	var refused error
	require.NoError(t, s.Global(context.Background(), func(ctx context.Context, tx ports.GlobalTx) error {
		refused = do(ctx, tx)
		return nil
	}))
	return refused
}
