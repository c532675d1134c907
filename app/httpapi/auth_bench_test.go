package httpapi_test

// Measurements for the authentication issue. Run with
//
//	go test -run '^$' -bench 'Authenticate|AuthenticatedRequest|SignIn' -benchmem ./app/httpapi/
//
// BenchmarkAuthenticate and BenchmarkAuthenticatedRequest report the store
// round trips per request (store-calls/op: units of work plus session
// lookups, counted by the harness's countingStore). The sign-in
// benchmarks use passhash's default (OWASP) parameters and its default
// concurrency bound, so they show what AUTH-15's bound does under load.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stockadehq/stockade/adapters/passhash"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// BenchmarkAuthenticate is the per-request cost of a session cookie:
// MAC check, one session lookup (session + role in one SELECT), constant-
// time token compare, timeout checks. The clock stands still, so no
// last-seen write is due.
func BenchmarkAuthenticate(b *testing.B) {
	for _, tt := range storeVariants() {
		b.Run("store="+tt.name, func(b *testing.B) {
			h := newHarness(b, tt.give)
			cookie, _ := h.signIn("acme.example.test", "ann@example.test", annPassword)
			ctx := context.Background()
			h.store.reset()
			n := 0
			for b.Loop() {
				if _, err := h.svc.Authenticate(ctx, h.acme.ID, cookie); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(h.store.snapshot().Total())/float64(n), "store-calls/op")
		})
	}
}

// BenchmarkAuthenticateForged is the cost of refusing a forged cookie: a
// MAC computation and nothing else.
func BenchmarkAuthenticateForged(b *testing.B) {
	h := newHarness(b)
	cookie, _ := h.signIn("acme.example.test", "ann@example.test", annPassword)
	p := splitCookie(b, cookie)
	p.mac = randomBytes(32)
	forged := p.join()
	ctx := context.Background()
	h.store.reset()
	n := 0
	for b.Loop() {
		if _, err := h.svc.Authenticate(ctx, h.acme.ID, forged); !errors.Is(err, ports.ErrUnauthenticated) {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(h.store.snapshot().Total())/float64(n), "store-calls/op")
}

// BenchmarkAuthenticatedRequest is GET /auth/me through the whole handler:
// host → shop (cached), CSRF check, session, user read, JSON answer.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	h := newHarness(b)
	cookie, _ := h.signIn("acme.example.test", "ann@example.test", annPassword)
	h.store.reset()
	n := 0
	for b.Loop() {
		res := h.serve(call{method: http.MethodGet, path: "/auth/me", cookie: cookie})
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
		n++
	}
	b.ReportMetric(float64(h.store.snapshot().Total())/float64(n), "store-calls/op")
}

// defaultParams leaves every Argon2id parameter at passhash's default
// (19456 KiB, t=2, p=1).
var defaultParams = passhash.Params{}

// BenchmarkSignIn is a successful password sign-in at the default
// parameters, from more goroutines than the hasher lets hash at once
// (4×GOMAXPROCS against a bound of max(2, GOMAXPROCS)). ratelimited/op is
// the share that the bound turned away after its wait budget.
func BenchmarkSignIn(b *testing.B) {
	h := newHarness(b, withParams(defaultParams), withConfig(unlimited))
	ctx := context.Background()
	var limited, failed atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, err := h.svc.SignIn(ctx, auth.SignInInput{Shop: h.acme.ID, Email: "ann@example.test", Password: annPassword, Client: auth.Client{IP: "192.0.2.1"}})
			switch {
			case errors.Is(err, ports.ErrRateLimited):
				limited.Add(1)
			case err != nil:
				failed.Add(1)
			}
		}
	})
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d sign-ins failed other than by the hashing bound", f)
	}
	b.ReportMetric(float64(limited.Load())/float64(b.N), "ratelimited/op")
}

// memSampler records the peak of runtime/metrics values while a burst
// runs. runtime/metrics reads without stopping the world.
type memSampler struct {
	samples []metrics.Sample
	peak    []uint64
	stop    chan struct{}
	done    sync.WaitGroup
}

func startMemSampler(every time.Duration, names ...string) *memSampler {
	s := &memSampler{stop: make(chan struct{}), peak: make([]uint64, len(names))}
	for _, n := range names {
		s.samples = append(s.samples, metrics.Sample{Name: n})
	}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			metrics.Read(s.samples)
			for i, sm := range s.samples {
				if sm.Value.Kind() == metrics.KindUint64 {
					s.peak[i] = max(s.peak[i], sm.Value.Uint64())
				}
			}
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *memSampler) finish() []uint64 {
	close(s.stop)
	s.done.Wait()
	return s.peak
}

// BenchmarkConcurrentSignInPeakMemory fires 200 sign-ins at once at the
// default parameters (each Argon2id call needs 19 MiB) and reports the
// peak heap and the peak memory mapped by the runtime while they run,
// next to how many signed in and how many the hasher's bound refused
// (AUTH-15). It reports; it asserts nothing but that no sign-in failed
// for another reason. One iteration is one burst: -benchtime=1x.
func BenchmarkConcurrentSignInPeakMemory(b *testing.B) {
	const burst = 200
	h := newHarness(b, withParams(defaultParams), withConfig(unlimited))
	ctx := context.Background()
	var ok, limited, failed atomic.Int64
	var peakHeap, peakTotal uint64
	for b.Loop() {
		runtime.GC()
		sampler := startMemSampler(time.Millisecond, "/memory/classes/heap/objects:bytes", "/memory/classes/total:bytes")
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range burst {
			wg.Go(func() {
				<-start
				_, err := h.svc.SignIn(ctx, auth.SignInInput{Shop: h.acme.ID, Email: "ann@example.test", Password: annPassword,
					Client: auth.Client{IP: fmt.Sprintf("192.0.2.%d", i%250)}})
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, ports.ErrRateLimited):
					limited.Add(1)
				default:
					failed.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		peaks := sampler.finish()
		peakHeap, peakTotal = max(peakHeap, peaks[0]), max(peakTotal, peaks[1])
	}
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d sign-ins failed other than by the hashing bound", f)
	}
	bursts := float64(ok.Load()+limited.Load()) / burst
	const mib = 1 << 20
	b.ReportMetric(float64(peakHeap)/mib, "peak-heap-MiB")
	b.ReportMetric(float64(peakTotal)/mib, "peak-runtime-MiB")
	b.ReportMetric(float64(ok.Load())/bursts, "signed-in/burst")
	b.ReportMetric(float64(limited.Load())/bursts, "ratelimited/burst")
	b.Logf("bound: max(2, GOMAXPROCS=%d) hashes × %d KiB; %d signed in, %d refused by the bound, over %.0f burst(s) of %d",
		runtime.GOMAXPROCS(0), passhash.DefaultMemory, ok.Load(), limited.Load(), bursts, burst)
}
