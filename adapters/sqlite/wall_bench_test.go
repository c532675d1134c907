package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// BenchmarkWallRead prices the SQLite tenant wall: one app-table row
// (quotes, by id) read through the unit of work's walled handle, and the
// same read with its shop predicate written out on a bare transaction of
// a plain pool on the same file. Compare with benchstat:
//
//	go test ./adapters/sqlite -run '^$' -bench WallRead -count 6 | tee wall.txt
//	benchstat -col /path wall.txt
func BenchmarkWallRead(b *testing.B) {
	w := newWallWorld(b)
	ctx := context.Background()
	var file string
	require.NoError(b, w.s.DB().GetContext(ctx, &file, `SELECT file FROM pragma_database_list WHERE name = 'main'`))
	for _, ro := range []bool{true, false} {
		mode, opts, dsn := "ReadWrite", []ports.TxOption(nil), "file:"+filepath.Clean(file)+"?_pragma=busy_timeout(10000)"
		if ro {
			mode, opts, dsn = "ReadOnly", []ports.TxOption{ports.ReadOnly()}, dsn+"&_pragma=query_only(1)"
		}
		b.Run("path=Wall"+mode, func(b *testing.B) {
			for b.Loop() {
				err := w.s.InShop(ctx, w.a, func(ctx context.Context, tx ports.ShopTx) error {
					var cents int
					return tx.SQL().QueryRowContext(ctx, `SELECT cents FROM quotes WHERE id = ?`, "q-a").Scan(&cents)
				}, opts...)
				if err != nil {
					b.Fatal(err)
				}
			}
		})
		plain := sqlx.MustOpen("sqlite", dsn)
		b.Run("path=BareTx"+mode, func(b *testing.B) {
			for b.Loop() {
				tx, err := plain.BeginTxx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				var cents int
				if err := tx.QueryRowContext(ctx, `SELECT cents FROM quotes WHERE shop_id = ? AND id = ?`, w.a, "q-a").Scan(&cents); err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
		})
		plain.Close()
	}
}
