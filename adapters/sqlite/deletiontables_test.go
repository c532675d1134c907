package sqlite_test

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// TestDeletionCoversEveryTenantTable: the tables a shop's deletion empties
// (a list kept in dependency order) are exactly the tables the catalog
// shows with a shop_id column, so a table added by a later migration
// cannot be forgotten by retention and erasure.
func TestDeletionCoversEveryTenantTable(t *testing.T) {
	s := fresh(t)
	var catalog []string
	require.NoError(t, s.InShop(context.Background(), ports.NewShopID(), func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		catalog, err = tx.(ports.TenantRowReader).TenantTables(ctx)
		return err
	}, ports.ReadOnly()))
	deletion := slices.Clone(s.DeletionTables())
	slices.Sort(deletion)
	require.Equal(t, catalog, deletion)
}
