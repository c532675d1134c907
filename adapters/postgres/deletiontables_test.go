package postgres_test

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// TestDeletionCoversEveryTenantTable: see the SQLite adapter's test of the
// same name.
func TestDeletionCoversEveryTenantTable(t *testing.T) {
	s, _ := fresh(t)
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
