package app_test

import (
	"bytes"
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
// an app table (plus its Stockade rows) and 1 GiB of objects (1,024 of
// 1 MiB under the shop's prefix) through the retention path, in batches
// of the default 1,000 rows and 100 objects: one iteration is one whole
// shop. Run with -benchtime 1x; docs/retention.md has the numbers.
func BenchmarkRetentionDelete(b *testing.B) {
	const (
		rows    = 100_000
		objects = 1024
		objSize = 1 << 20
	)
	blob := make([]byte, objSize)
	for _, be := range retentionStores {
		for _, ob := range objectBackends {
			b.Run("store="+be.name+"/objects="+ob.name, func(b *testing.B) {
				benchRetention(b, be.open, ob.open, rows, objects, blob)
			})
		}
	}
}

// benchRetention is one BenchmarkRetentionDelete case.
func benchRetention(b *testing.B, open func(testing.TB) ports.Store, openObjects func(testing.TB) (ports.ObjectStore, string), rows, objects int, blob []byte) {
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		st := open(b)
		objs, _ := openObjects(b)
		shop := stockadetest.NewShop(b, st)
		for i := range objects {
			key := fmt.Sprintf("shops/%s/files/%05d", shop.ID, i)
			require.NoError(b, objs.Put(ctx, key, bytes.NewReader(blob), int64(len(blob)), "application/octet-stream"))
		}
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
		dl, err := housekeeping.NewDeleter(housekeeping.RetentionDeps{Store: st, Deleter: st.(ports.ShopDeleter), Objects: objs}, housekeeping.RetentionConfig{})
		require.NoError(b, err)
		b.StartTimer()
		start := time.Now()
		rep, err := dl.RunRetention(ctx)
		elapsed := time.Since(start)
		b.StopTimer()
		require.NoError(b, err)
		require.Len(b, rep.Deleted, 1)
		require.Equal(b, int64(rows), rep.Deleted[0].Rows["notes"])
		require.Equal(b, int64(objects), rep.Deleted[0].Objects)
		page, err := objs.List(ctx, "shops/"+shop.ID.String()+"/", "", 10)
		require.NoError(b, err)
		require.Empty(b, page.Objects)
		b.ReportMetric(elapsed.Seconds(), "s/shop")
		b.StartTimer()
	}
}
