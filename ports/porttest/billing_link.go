package porttest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// testRefusedLinkWritesNothing links another shop's customer and Connect
// account in a unit of work that commits anyway: the refusal is
// ErrConflict before any write (on SQLite a failed statement does not
// abort the transaction, so a write before the refusal would be
// committed; on Postgres a failed statement would abort the COMMIT), and
// the shop's billing state is what it was.
func testRefusedLinkWritesNothing(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	ctx := context.Background()
	f := seed(t, s, 2, 0)
	a, b := f.shops[0].ID, f.shops[1].ID
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
