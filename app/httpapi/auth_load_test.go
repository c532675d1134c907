package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stockadehq/stockade/core/auth"
)

// BenchmarkLoadMe is the load test of the authenticated hot path: many
// clients over real loopback TCP, each GET /auth/me with a session cookie
// (host → shop from cache, cookie MAC, one session lookup, one user read),
// on both stores. req/s is the throughput of the whole server on this
// machine, load generator included.
func BenchmarkLoadMe(b *testing.B) {
	for _, tt := range storeVariants() {
		b.Run("store="+tt.name, func(b *testing.B) {
			h := newHarness(b, tt.give)
			cookie, _ := h.signIn("acme.example.test", "ann@example.test", annPassword)
			srv := httptest.NewServer(h.handler)
			b.Cleanup(srv.Close)
			tr := &http.Transport{MaxIdleConnsPerHost: 64}
			b.Cleanup(tr.CloseIdleConnections)
			client := &http.Client{Transport: tr}
			b.SetParallelism(8)
			start := time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodGet, srv.URL+"/auth/me", nil)
					req.Host = "acme.example.test"
					req.AddCookie(&http.Cookie{Name: auth.SessionCookieName, Value: cookie})
					res, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != http.StatusOK {
						b.Errorf("status %d", res.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}
