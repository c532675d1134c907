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
// repository, the tenant boundary, concurrent use and the error contracts
// (every per-repository entry point, one after another). It declares and
// checks no optional feature; TestStoreSuite runs the same entry points and
// checks the features an adapter declares.
func TestStore(t *testing.T, newStore StoreHarness) {
	runEntries(t, StoreSuite{New: newStore}, storeEntries())
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
