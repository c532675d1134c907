package s3_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/ports/porttest"
)

// BenchmarkObjectStore: signed-URL issuance (local: presign, no request),
// Put and Get of 1 MiB and 64 MiB objects against the test MinIO on
// loopback, one client thread.
//
//	STOCKADE_REQUIRE_INTEGRATION=1 go test ./adapters/s3 -run '^$' -bench ObjectStore -benchtime 20x
func BenchmarkObjectStore(b *testing.B) {
	porttest.BenchmarkObjectStore(b, openFresh(b, ports.SystemClock{}))
}

// TestStreamingMemoryIsFlat streams 16 MiB (one request) and 256 MiB
// (multipart, 16 MiB parts) objects and reports the heap: it is bounded by
// about one part, not by the object.
func TestStreamingMemoryIsFlat(t *testing.T) {
	s := openFresh(t, nil)
	for _, size := range []int64{16 << 20, 256 << 20} {
		r := porttest.StreamLargeObject(t, s, "stream/big", size)
		t.Logf("s3 %4d MiB: peak heap in use +%.1f MiB, allocated %.1f MiB, put %v (%.0f MB/s), get %v (%.0f MB/s)",
			size>>20, mib(r.PeakHeapInuse), mib(r.TotalAlloc), r.Put, mbps(size, r.Put.Seconds()), r.Get, mbps(size, r.Get.Seconds()))
		assert.Less(t, r.PeakHeapInuse, uint64(96<<20), "Put and Get must stream, not buffer")
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

func mbps(n int64, secs float64) float64 { return float64(n) / 1e6 / secs }
