package porttest

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// TestAppSQLFeature checks the declared Features.AppSQL and
// Features.AppSQLRowsAffected. With AppSQL it runs TestAppSQL on s.New
// (whose stores must carry AppNotesMigrations and declare AppNotesTable)
// and checks what RowsAffected reports; without, it checks that every
// statement through ShopTx.SQL is refused with ports.ErrUnsupported.
func TestAppSQLFeature(t *testing.T, s StoreSuite) {
	s.check(t)
	if !s.Features.AppSQL {
		t.Run("Unsupported", func(t *testing.T) {
			st := s.New(t)
			f := seed(t, st, 1, 0)
			for _, opts := range [][]ports.TxOption{nil, {ports.ReadOnly()}} {
				inShop(t, st, f.shops[0].ID, func(ctx context.Context, tx ports.ShopTx) error {
					requireAppSQLUnsupported(ctx, t, tx.SQL(), "SELECT 1")
					return nil
				}, opts...)
			}
		})
		return
	}
	TestAppSQL(t, s.New)
	t.Run("RowsAffected", func(t *testing.T) {
		st := s.New(t)
		f := seed(t, st, 1, 0)
		inShop(t, st, f.shops[0].ID, func(ctx context.Context, tx ports.ShopTx) error {
			res, err := tx.SQL().ExecContext(ctx, rebind(tx, "INSERT INTO porttest_notes (shop_id, id, body) VALUES (?, ?, ?)"),
				tx.ShopID().String(), ports.NewEventID().String(), "counted")
			require.NoError(t, err)
			requireRowsAffected(t, s.Features, res, 1, "an INSERT of one row")
			res, err = tx.SQL().ExecContext(ctx, rebind(tx, "UPDATE porttest_notes SET body = ? WHERE body = ?"), "x", "no such note")
			require.NoError(t, err)
			requireRowsAffected(t, s.Features, res, 0, "an UPDATE that matches nothing")
			return nil
		})
		assert.Equal(t, []string{"counted"}, notes(t, st, f.shops[0].ID))
	})
}

// requireAppSQLUnsupported checks that db refuses query as a store
// without Features.AppSQL must: ports.ErrUnsupported from ExecContext and
// QueryContext, an error from QueryRowContext's Scan.
func requireAppSQLUnsupported(ctx context.Context, t *testing.T, db ports.TxSQL, query string) {
	t.Helper()
	require.NotNil(t, db, "ShopTx.SQL returns a handle even when Features.AppSQL is false")
	const why = "Features.AppSQL is false: a statement through ShopTx.SQL must fail with ports.ErrUnsupported"
	_, err := db.ExecContext(ctx, query)
	assert.ErrorIs(t, err, ports.ErrUnsupported, "ExecContext: "+why)
	rows, err := db.QueryContext(ctx, query)
	if err == nil {
		_ = rows.Close()
	}
	assert.ErrorIs(t, err, ports.ErrUnsupported, "QueryContext: "+why)
	var n any
	assert.Error(t, db.QueryRowContext(ctx, query).Scan(&n), "QueryRowContext: "+why)
}

// requireRowsAffected checks res against the declared
// Features.AppSQLRowsAffected: the count want, or ports.ErrUnsupported.
func requireRowsAffected(t *testing.T, f Features, res interface{ RowsAffected() (int64, error) }, want int64, what string) {
	t.Helper()
	n, err := res.RowsAffected()
	if !f.AppSQLRowsAffected {
		assert.ErrorIs(t, err, ports.ErrUnsupported,
			"Features.AppSQLRowsAffected is false: RowsAffected of %s must fail with ports.ErrUnsupported, got %d, %v", what, n, err)
		return
	}
	if assert.NoError(t, err, "Features.AppSQLRowsAffected is true: RowsAffected of %s", what) {
		assert.Equal(t, want, n, "Features.AppSQLRowsAffected is true: RowsAffected of %s counts "+strconv.FormatInt(want, 10)+" row(s)", what)
	}
}
