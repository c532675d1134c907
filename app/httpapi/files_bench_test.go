package httpapi_test

// Benchmarks of acceptance 4 (issue 7). Run:
//
//	go test ./app/httpapi -run '^$' -bench 'BenchmarkFile' -benchtime 20x
//
// Uploads and downloads go over loopback TCP through a real http.Server
// with the shop's Host header; MinIO plain downloads go to MinIO itself
// (its signed URL), everything else through Stockade.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/adapters/localkms"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

func BenchmarkFileSignedURL(b *testing.B) {
	for _, store := range []struct {
		name string
		opts []fileOption
	}{{"localfs", nil}, {"minio", []fileOption{onMinIO()}}} {
		b.Run(store.name, func(b *testing.B) {
			h := newFileHarness(b, store.opts...)
			f := h.uploaded(h.tomCookie, "photo", "a.png", pngBytes(1000))
			ctx := access.With(context.Background(), access.Scope{Shop: h.acme.ID, User: h.tom.ID, Role: ports.RoleTech})
			id := mustFileID(b, f.ID)
			b.ResetTimer()
			for b.Loop() {
				if _, err := h.storage.DownloadURL(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "urls/s")
		})
	}
}

// serveTCP serves the harness's handler on loopback.
func (h *fileHarness) serveTCP(b testing.TB) *httptest.Server {
	srv := httptest.NewServer(h.handler)
	b.Cleanup(srv.Close)
	return srv
}

// send runs a request against srv with the shop's host and cookie.
func send(b testing.TB, srv *httptest.Server, method, target, host, cookie string, body io.Reader, size int64) *http.Response {
	u, err := url.Parse(target)
	require.NoError(b, err)
	if u.Host == "" || u.Hostname() != "127.0.0.1" {
		if host == "" && u.Host != "" {
			host = u.Host
		}
		u.Scheme, u.Host = "http", srv.Listener.Addr().String()
	}
	req, err := http.NewRequest(method, u.String(), body)
	require.NoError(b, err)
	req.ContentLength = size
	if host != "" {
		req.Host = host
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: auth.SessionCookieName, Value: cookie})
	}
	res, err := srv.Client().Do(req)
	require.NoError(b, err)
	return res
}

// pattern is an endless reader of a repeating pattern: cheap input that is
// not all zero bytes.
type pattern struct{ i byte }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = p.i
		p.i += 7
	}
	return len(b), nil
}

func BenchmarkFileThroughput(b *testing.B) {
	const size = 16 << 20
	for _, store := range []string{"localfs", "minio"} {
		for _, enc := range []bool{false, true} {
			name := store + "/plain"
			opts := []fileOption{}
			if store == "minio" {
				opts = append(opts, onMinIO())
			}
			if enc {
				name = store + "/encrypted"
				var km *localkms.Manager
				opts = append(opts, encrypted(&km))
			}
			b.Run(name, func(b *testing.B) {
				h := newFileHarness(b, opts...)
				srv := h.serveTCP(b)
				var last string
				b.Run("upload", func(b *testing.B) {
					b.SetBytes(size)
					for b.Loop() {
						res := send(b, srv, http.MethodPost, "/files?kind=blob&name=x.bin", "acme.example.test", h.tomCookie,
							io.LimitReader(&pattern{}, size), size)
						last = createdID(b, res)
					}
				})
				b.Run("download", func(b *testing.B) {
					u, res := h.downloadURL(h.tomCookie, "", last)
					require.NotEmpty(b, u, "%d", res.StatusCode)
					b.SetBytes(size)
					for b.Loop() {
						var res *http.Response
						if store == "minio" && !enc {
							var err error
							res, err = http.Get(u)
							require.NoError(b, err)
						} else {
							res = send(b, srv, http.MethodGet, u, "", "", nil, 0)
						}
						n, err := io.Copy(io.Discard, res.Body)
						res.Body.Close()
						require.NoError(b, err)
						require.Equal(b, int64(size), n)
					}
				})
			})
		}
	}
}

// BenchmarkFileStream1GiB streams a 1 GiB encrypted file up through the
// server and back down, generated on the fly, and reports the peak Go heap
// sampled every 5 ms through runtime/metrics: bounded, not proportional to
// the size.
func BenchmarkFileStream1GiB(b *testing.B) {
	const size = 1 << 30
	var km *localkms.Manager
	h := newFileHarness(b, encrypted(&km))
	srv := h.serveTCP(b)
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	for b.Loop() {
		res := send(b, srv, http.MethodPost, "/files?kind=blob&name=big.bin", "acme.example.test", h.tomCookie, io.LimitReader(&pattern{}, size), size)
		u, _ := h.downloadURL(h.tomCookie, "", createdID(b, res))
		res = send(b, srv, http.MethodGet, u, "", "", nil, 0)
		n, err := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		require.NoError(b, err)
		require.Equal(b, int64(size), n)
	}
	close(stop)
	<-done
	b.SetBytes(2 * size)
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	b.Logf("peak heap while streaming 1 GiB up and down: %.1f MiB", float64(peak.Load())/(1<<20))
}

// createdID reads a 201 upload answer and returns the file's ID.
func createdID(b testing.TB, res *http.Response) string {
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(b, err)
	require.Equal(b, http.StatusCreated, res.StatusCode, string(raw))
	var f fileBody
	require.NoError(b, json.Unmarshal(raw, &f))
	return f.ID
}
