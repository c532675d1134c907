package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/housekeeping"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/stockadetest"
)

// BenchmarkRetentionDelete measures deleting one shop with 100,000 rows of
// an app table (plus its Stockade rows) through the retention path, in
// batches of the default 1,000 rows: one iteration is one whole shop.
// Run with -benchtime 1x; docs/bench/retention.md has the numbers.
func BenchmarkRetentionDelete(b *testing.B) {
	const rows = 100_000
	for _, be := range retentionStores {
		b.Run("store="+be.name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				b.StopTimer()
				st := be.open(b)
				shop := stockadetest.NewShop(b, st)
				for done := 0; done < rows; {
					require.NoError(b, st.InShop(ctx, shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
						var sb strings.Builder
						args := []any{}
						sb.WriteString("INSERT INTO notes (shop_id, id, body) VALUES ")
						for i := 0; i < 500; i++ {
							if i > 0 {
								sb.WriteString(", ")
							}
							if tx.SQL().Dialect() == ports.DialectPostgres {
								fmt.Fprintf(&sb, "($%d, $%d, $%d)", 3*i+1, 3*i+2, 3*i+3)
							} else {
								sb.WriteString("(?, ?, ?)")
							}
							args = append(args, shop.ID.String(), ports.NewFileID().String(), "a note of about forty bytes, as text ....")
						}
						_, err := tx.SQL().ExecContext(ctx, sb.String(), args...)
						return err
					}))
					done += 500
				}
				require.NoError(b, st.InShop(ctx, shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
					if _, err := tx.Billing().LinkCustomer(ctx, "cus_bench"); err != nil {
						return err
					}
					ended := time.Now().Add(-61 * 24 * time.Hour)
					_, err := tx.Billing().ApplySubscription(ctx, ports.SubscriptionState{ID: "sub_bench", CustomerID: "cus_bench",
						Status: ports.SubscriptionCanceled, EndedAt: ended, AsOf: ended})
					return err
				}))
				dl, err := housekeeping.NewDeleter(housekeeping.RetentionDeps{Store: st, Deleter: st.(ports.ShopDeleter)}, housekeeping.RetentionConfig{})
				require.NoError(b, err)
				b.StartTimer()
				start := time.Now()
				rep, err := dl.RunRetention(ctx)
				elapsed := time.Since(start)
				b.StopTimer()
				require.NoError(b, err)
				require.Len(b, rep.Deleted, 1)
				require.Equal(b, int64(rows), rep.Deleted[0].Rows["notes"])
				b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
				b.StartTimer()
			}
		})
	}
}
