package sqlite_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// TestStatementCacheDoesNotResetOpenRows runs a statement again while its
// rows are still being read on the same connection: the cached statement
// is busy, so the inner run gets its own and both read every row.
func TestStatementCacheDoesNotResetOpenRows(t *testing.T) {
	w := newWallWorld(t)
	tx, err := w.s.DB().Beginx()
	require.NoError(t, err)
	defer tx.Rollback()
	const q = `SELECT id FROM shops ORDER BY id`
	outer, err := tx.Query(q)
	require.NoError(t, err)
	var pairs int
	for outer.Next() {
		var id string
		require.NoError(t, outer.Scan(&id))
		inner, err := tx.Query(q)
		require.NoError(t, err)
		n := 0
		for inner.Next() {
			n++
		}
		require.NoError(t, inner.Err())
		require.NoError(t, inner.Close())
		require.Equal(t, 2, n, "the inner run reads both shops")
		pairs++
	}
	require.NoError(t, outer.Err())
	require.NoError(t, outer.Close())
	require.Equal(t, 2, pairs, "the outer run was not reset by the inner one")
}

// TestWallJudgesStatementsTheCacheHolds: statements the store's own
// connection ran (and so holds prepared) are refused all the same when the
// app's handle sends them, since SQLite consults the wall's authorizer only
// while a statement is prepared.
func TestWallJudgesStatementsTheCacheHolds(t *testing.T) {
	w := newWallWorld(t)
	ctx := context.Background()
	// Engage the wall once so that its temp views exist: creating them
	// changes the schema, which would make SQLite prepare (and so judge)
	// every cached statement again anyway.
	require.NoError(t, w.in(t, w.a, func(ctx context.Context, db ports.TxSQL) error {
		r, err := db.QueryContext(ctx, `SELECT * FROM quotes`)
		if err != nil {
			return err
		}
		return r.Close()
	}))
	for _, q := range []string{`SELECT * FROM main.quotes`, `SELECT * FROM sessions`, `SELECT * FROM shops`} {
		for range 2 { // prepared, then served from the writer connection's cache
			rows, err := w.s.DB().QueryContext(ctx, q)
			require.NoError(t, err, q)
			require.NoError(t, rows.Close())
		}
		err := w.in(t, w.a, func(ctx context.Context, db ports.TxSQL) error {
			r, err := db.QueryContext(ctx, q)
			if err != nil {
				return err
			}
			return r.Close()
		})
		require.ErrorIs(t, err, ports.ErrForbidden, q)
	}
}
