package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/export"
	"github.com/stockadehq/stockade/core/storage"
	"github.com/stockadehq/stockade/ports"
)

// BenchmarkExport exports a shop with 100k app rows (200-byte bodies) and
// STOCKADE_BENCH_EXPORT_MIB MiB of objects (default 64; half of them
// envelope-encrypted, 16 MiB each) to io.Discard, reporting rows/s, MiB/s
// of objects and the peak heap sampled every millisecond during the
// export.
func BenchmarkExport(b *testing.B) {
	mib := 64
	if v := os.Getenv("STOCKADE_BENCH_EXPORT_MIB"); v != "" {
		var err error
		mib, err = strconv.Atoi(v)
		require.NoError(b, err)
	}
	for name, open := range exStores() {
		b.Run(name, func(b *testing.B) {
			w := newExWorldB(b, open)
			ctx := context.Background()
			err := w.store.InShop(ctx, w.a.ID, func(ctx context.Context, tx ports.ShopTx) error {
				q := `INSERT INTO porttest_notes (shop_id, id, body)
					WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
					SELECT ?, lower(hex(randomblob(16))), printf('%0200d', i) FROM n`
				if tx.SQL().Dialect() == ports.DialectPostgres {
					q = `INSERT INTO porttest_notes (shop_id, id, body)
						SELECT $1, gen_random_uuid(), lpad(i::text, 200, '0') FROM generate_series(1, 100000) AS i`
				}
				_, err := tx.SQL().ExecContext(ctx, q, w.a.ID.String())
				return err
			})
			require.NoError(b, err)
			octx := w.as(w.a, w.a.Owner, ports.RoleOwner)
			chunk := make([]byte, 16<<20)
			for i := range mib / 16 {
				_, _ = rand.Read(chunk)
				w.encrypt = i%2 == 1
				_, err := w.files.Upload(octx, storage.UploadInput{Kind: "blob", Name: fmt.Sprintf("big%d.bin", i), Size: int64(len(chunk)), Body: bytes.NewReader(chunk)})
				require.NoError(b, err)
			}
			chunk = nil
			x := w.exporter(b)
			b.ResetTimer()
			for range b.N {
				runtime.GC()
				var base runtime.MemStats
				runtime.ReadMemStats(&base)
				var peak atomic.Uint64
				stop := make(chan struct{})
				done := make(chan struct{})
				go func() {
					defer close(done)
					tick := time.NewTicker(time.Millisecond)
					defer tick.Stop()
					var ms runtime.MemStats
					for {
						select {
						case <-stop:
							return
						case <-tick.C:
							runtime.ReadMemStats(&ms)
							if ms.HeapInuse > peak.Load() {
								peak.Store(ms.HeapInuse)
							}
						}
					}
				}()
				start := time.Now()
				m, err := x.Export(octx, io.Discard, export.Options{})
				el := time.Since(start)
				close(stop)
				<-done
				require.NoError(b, err)
				b.ReportMetric(float64(m.Rows)/el.Seconds(), "rows/s")
				b.ReportMetric(float64(m.Bytes)/(1<<20)/el.Seconds(), "objMiB/s")
				b.ReportMetric(float64(m.Bytes)/(1<<20), "objMiB")
				b.ReportMetric(float64(peak.Load())/(1<<20), "peakHeapMiB")
				b.ReportMetric(float64(base.HeapInuse)/(1<<20), "baseHeapMiB")
			}
		})
	}
}
