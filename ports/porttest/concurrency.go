package porttest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

func testConcurrency(t *testing.T, newStore StoreHarness) {
	t.Run("AppendsToOneChainStayGapFree", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 1, 0)
		shop := f.shops[0].ID
		const workers, each = 8, 10
		errs := make(chan error, workers*each)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					errs <- s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
						_, err := tx.Audit().Append(ctx, event(fmt.Sprintf("w%d.%d", w, i)))
						return err
					})
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		log := auditLog(t, s, shop)
		require.Len(t, log, workers*each)
		requireChain(t, log) // one gap-free sequence and one unbroken hash chain
	})

	t.Run("ManyShopsAtOnce", func(t *testing.T) {
		s := newStore(t)
		f := seed(t, s, 6, 6)
		var wg sync.WaitGroup
		errs := make(chan error, len(f.shops)*len(f.users)*2)
		for _, sh := range f.shops {
			for _, u := range f.users {
				wg.Add(2)
				go func() {
					defer wg.Done()
					errs <- s.InShop(context.Background(), sh.ID, func(ctx context.Context, tx ports.ShopTx) error {
						if _, err := tx.Memberships().Add(ctx, u.ID, ports.RoleTech); err != nil {
							return err
						}
						_, err := tx.Audit().Append(ctx, event("membership.added"))
						return err
					})
				}()
				go func() {
					defer wg.Done()
					errs <- s.InShop(context.Background(), sh.ID, func(ctx context.Context, tx ports.ShopTx) error {
						_, err := tx.Memberships().List(ctx)
						return err
					}, ports.ReadOnly())
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		for _, sh := range f.shops {
			ms := members(t, s, sh.ID)
			assert.Len(t, ms, len(f.users))
			for _, m := range ms {
				assert.Equal(t, sh.ID, m.ShopID)
			}
			log := auditLog(t, s, sh.ID)
			assert.Len(t, log, len(f.users))
			requireChain(t, log)
		}
	})
}
