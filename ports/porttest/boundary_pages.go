package porttest

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// testAuditPagesTenantBoundary pages through a short log while another
// shop's log runs further: every page, at every cursor and size, holds the
// shop's own events only. A store that reads a page in more than one
// statement (Postgres reads the rest of a short page with an open range)
// must keep the shop in each of them.
func testAuditPagesTenantBoundary(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 2, 0)
	a, b := f.shops[0].ID, f.shops[1].ID
	appendEvents := func(shop ports.ShopID, n int) {
		inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
			for i := 0; i < n; i++ {
				if _, err := tx.Audit().Append(ctx, event(fmt.Sprintf("%s.%d", shop, i))); err != nil {
					return err
				}
			}
			return nil
		})
	}
	appendEvents(a, 7)
	appendEvents(b, 2)
	for after := int64(0); after <= 3; after++ {
		for limit := 1; limit <= 4; limit++ {
			var page []ports.AuditEvent
			inShop(t, s, b, func(ctx context.Context, tx ports.ShopTx) error {
				var err error
				page, err = tx.Audit().List(ctx, ports.AuditQuery{AfterSeq: after, Limit: limit})
				return err
			}, ports.ReadOnly())
			want := max(0, min(int64(limit), 2-after))
			require.Len(t, page, int(want), "B's page after %d, limit %d", after, limit)
			for _, e := range page {
				require.Equal(t, b, e.ShopID, "B's page after %d, limit %d holds A's event %d", after, limit, e.Seq)
			}
		}
	}
}
