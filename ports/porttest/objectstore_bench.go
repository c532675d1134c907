package porttest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// BenchmarkObjectStore measures s: signed-URL issuance per operation, and
// Put and Get throughput for 1 MiB and 64 MiB objects (b.SetBytes, so
// go test reports MB/s). Run with, for example:
//
//	go test ./adapters/localfs -run '^$' -bench ObjectStore -benchtime 20x
func BenchmarkObjectStore(b *testing.B, s ports.ObjectStore) {
	ctx := context.Background()
	b.Run("op=SignedURL", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.SignedURL(ctx, http.MethodGet, "bench/shops/0190a1b2/files/0190a1b3", 5*time.Minute,
				ports.SignedURLOptions{ContentDisposition: `attachment; filename="a.pdf"`}); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, size := range []int{1 << 20, 64 << 20} {
		data := payload(uint64(size), size)
		key := "bench/obj-" + strconv.Itoa(size)
		name := strconv.Itoa(size>>20) + "MiB"
		b.Run("op=Put/size="+name, func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				if err := s.Put(ctx, key, bytes.NewReader(data), int64(size), ""); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("op=Get/size="+name, func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				rc, _, err := s.Get(ctx, key, 0, -1)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, rc)
				_ = rc.Close()
				if err != nil || n != int64(size) {
					b.Fatalf("read %d bytes: %v", n, err)
				}
			}
		})
	}
}

// StreamReport is what StreamLargeObject measured.
type StreamReport struct {
	Size int64
	// PeakHeapInuse is the most heap in use above the starting point,
	// sampled every few milliseconds during the Put and the Get.
	PeakHeapInuse uint64
	// TotalAlloc is every byte allocated meanwhile (garbage included).
	TotalAlloc uint64
	Put, Get   time.Duration
}

// StreamLargeObject writes size bytes generated on the fly (never held in
// memory) under key, reads them back, checks their SHA-256, deletes the
// object and reports time and heap. A store that streams shows a peak heap
// that does not grow with size; one that buffers shows about size.
func StreamLargeObject(t testing.TB, s ports.ObjectStore, key string, size int64) StreamReport {
	t.Helper()
	ctx := context.Background()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	stop := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		var m runtime.MemStats
		var highest uint64
		for {
			select {
			case <-stop:
				peak <- highest
				return
			case <-tick.C:
				runtime.ReadMemStats(&m)
				highest = max(highest, m.HeapInuse)
			}
		}
	}()

	src := newStreamSource(size)
	start := time.Now()
	err := s.Put(ctx, key, src, size, "application/octet-stream")
	putTime := time.Since(start)
	if err != nil {
		close(stop)
		<-peak
		require.NoError(t, err)
	}
	start = time.Now()
	rc, info, err := s.Get(ctx, key, 0, -1)
	if err == nil {
		got := sha256.New()
		var n int64
		n, err = io.Copy(got, rc)
		_ = rc.Close()
		if err == nil && (n != size || !bytes.Equal(got.Sum(nil), src.h.Sum(nil))) {
			err = io.ErrUnexpectedEOF
		}
	}
	getTime := time.Since(start)
	close(stop)
	highest := <-peak
	require.NoError(t, err, "read back the streamed object")
	require.Equal(t, size, info.Size)
	require.NoError(t, s.Delete(ctx, key))

	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	r := StreamReport{Size: size, TotalAlloc: after.TotalAlloc - before.TotalAlloc, Put: putTime, Get: getTime}
	if highest > before.HeapInuse {
		r.PeakHeapInuse = highest - before.HeapInuse
	}
	return r
}

// streamSource yields n pseudo-random bytes, hashing what it yields.
type streamSource struct {
	n   int64
	rng *rand.ChaCha8
	h   hash.Hash
}

func newStreamSource(n int64) *streamSource {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(n))
	return &streamSource{n: n, rng: rand.NewChaCha8(seed), h: sha256.New()}
}

func (s *streamSource) Read(p []byte) (int, error) {
	if s.n == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > s.n {
		p = p[:s.n]
	}
	n, _ := s.rng.Read(p) // never fails
	s.h.Write(p[:n])
	s.n -= int64(n)
	return n, nil
}
