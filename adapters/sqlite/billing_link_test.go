package sqlite_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// TestRefusedLinkWritesNothing links another shop's customer and Connect
// account in a unit of work that commits anyway: the refusal is
// ErrConflict before any write (a failed statement would not abort the
// transaction here, so a write before the refusal would be committed) and
// the shop's billing state is what it was.
func TestRefusedLinkWritesNothing(t *testing.T) {
	s := fresh(t)
	ctx := context.Background()
	var a, b ports.ShopID
	require.NoError(t, s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		org, err := tx.Orgs().Create(ctx, ports.Org{ID: ports.NewOrgID(), Name: "HQ"})
		if err != nil {
			return err
		}
		for i, shop := range []*ports.ShopID{&a, &b} {
			*shop = ports.NewShopID()
			slug := []string{"shop-a", "shop-b"}[i]
			if _, err := tx.Shops().Create(ctx, ports.Shop{ID: *shop, OrgID: org.ID, Slug: slug, Name: slug, Status: ports.ShopActive}); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, s.InShop(ctx, a, func(ctx context.Context, tx ports.ShopTx) error {
		if _, err := tx.Billing().LinkCustomer(ctx, "cus_A"); err != nil {
			return err
		}
		_, err := tx.Billing().LinkConnectAccount(ctx, "acct_A")
		return err
	}))
	refused := func(link func(context.Context, ports.BillingRepo) error) {
		t.Helper()
		var err error
		require.NoError(t, s.InShop(ctx, b, func(ctx context.Context, tx ports.ShopTx) error {
			err = link(ctx, tx.Billing())
			return nil // commit what the refused call left
		}), "the refusal left the transaction usable")
		require.ErrorIs(t, err, ports.ErrConflict)
	}
	billingOfB := func() (ports.BillingAccount, error) {
		var got ports.BillingAccount
		err := s.InShop(ctx, b, func(ctx context.Context, tx ports.ShopTx) error {
			var err error
			got, err = tx.Billing().Get(ctx)
			return err
		})
		return got, err
	}

	refused(func(ctx context.Context, r ports.BillingRepo) error {
		_, err := r.LinkCustomer(ctx, "cus_A")
		return err
	})
	refused(func(ctx context.Context, r ports.BillingRepo) error {
		_, err := r.LinkConnectAccount(ctx, "acct_A")
		return err
	})
	_, err := billingOfB()
	require.ErrorIs(t, err, ports.ErrNotFound, "no billing row was written for b")

	require.NoError(t, s.InShop(ctx, b, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Billing().LinkCustomer(ctx, "cus_B")
		return err
	}))
	refused(func(ctx context.Context, r ports.BillingRepo) error {
		_, err := r.LinkConnectAccount(ctx, "acct_A")
		return err
	})
	got, err := billingOfB()
	require.NoError(t, err)
	assert.Equal(t, "cus_B", got.CustomerID)
	assert.Empty(t, got.ConnectAccountID, "b's row kept no account")
	require.NoError(t, s.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		shop, err := tx.BillingDirectory().ShopByConnectAccount(ctx, "acct_A")
		assert.Equal(t, a, shop, "the directory still names a")
		return err
	}))
}
