package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// StreamLimits is the minimum throughput demanded of a client on the
// routes that stream a body of any size: the direct upload (POST /files),
// the object store's signed URLs, a file's content and the audit export.
// Those routes cannot live with the server's fixed read and write
// timeouts (a large file takes as long as it takes), so instead each
// Window must move at least MinRate×Window bytes, in either direction:
// the connection's read and write deadlines start Window ahead and move
// Window ahead again each time that many bytes have moved. A client that
// stalls or trickles below the rate is cut off; nothing it sent is kept
// (the upload fails as a whole).
type StreamLimits struct {
	// Window is the longest a streaming route waits for MinRate×Window
	// bytes to move; 0 means DefaultStreamWindow.
	Window time.Duration
	// MinRate is in bytes per second; 0 means DefaultStreamMinRate.
	MinRate int64
}

// Defaults of StreamLimits: 20 KiB per 20 s at the least.
const (
	DefaultStreamWindow  = 20 * time.Second
	DefaultStreamMinRate = 1024
)

func (l StreamLimits) withDefaults() StreamLimits {
	if l.Window <= 0 {
		l.Window = DefaultStreamWindow
	}
	if l.MinRate <= 0 {
		l.MinRate = DefaultStreamMinRate
	}
	return l
}

// quota is the bytes that must move per window (at least 1).
func (l StreamLimits) quota() int64 {
	return max(1, int64(l.Window.Seconds()*float64(l.MinRate)))
}

// errTooSlow answers a request whose body arrived slower than the
// streaming minimum (408).
var errTooSlow = errors.New("request timeout")

// stream wraps a streaming route's handler so its client must keep to
// rt.streams (see StreamLimits). Where the writer offers no deadlines
// (httptest.ResponseRecorder) the handler runs unbounded.
func (rt *router) stream(h http.Handler) http.HandlerFunc {
	lim := rt.streams
	return func(w http.ResponseWriter, r *http.Request) {
		m := &meter{rc: http.NewResponseController(w), window: lim.Window, quota: lim.quota()}
		if !m.extend() {
			h.ServeHTTP(w, r)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &meteredBody{ReadCloser: r.Body, m: m, lim: lim}
		}
		h.ServeHTTP(&meteredWriter{ResponseWriter: w, m: m}, r)
	}
}

// meter moves a connection's deadlines Window ahead each time quota bytes
// have moved since the last move.
type meter struct {
	rc     *http.ResponseController
	window time.Duration
	quota  int64

	mu    sync.Mutex // a handler may read and write from two goroutines
	moved int64
}

// extend sets both deadlines Window ahead; false if the writer has none.
func (m *meter) extend() bool {
	at := time.Now().Add(m.window)
	if err := m.rc.SetReadDeadline(at); err != nil {
		return false
	}
	return m.rc.SetWriteDeadline(at) == nil
}

// add counts n bytes moved and extends the deadlines when the quota is
// reached.
func (m *meter) add(n int) {
	if n <= 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.moved += int64(n)
	if m.moved >= m.quota {
		m.moved = 0
		m.extend()
	}
}

// meteredBody counts a request body's bytes. At its end it gives the
// handler a fresh window to answer; a read cut by the deadline is
// errTooSlow, and the handler gets a window to answer it.
type meteredBody struct {
	io.ReadCloser
	m   *meter
	lim StreamLimits
}

func (b *meteredBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.m.add(n)
	switch {
	case err == io.EOF:
		b.m.extend()
	case errors.Is(err, os.ErrDeadlineExceeded):
		// One more window to say so (408); the connection closes after.
		_ = b.m.rc.SetWriteDeadline(time.Now().Add(b.lim.Window))
		err = fmt.Errorf("the body arrived slower than %d bytes in %s: %w", b.lim.quota(), b.lim.Window, errTooSlow)
	}
	return n, err
}

// meteredWriter counts an answer's bytes, writing at most a quota at a
// time so that a slow reader meets the deadline within one window.
type meteredWriter struct {
	http.ResponseWriter
	m *meter
}

func (w *meteredWriter) Write(p []byte) (int, error) {
	var done int
	for len(p) > 0 {
		k := min(int64(len(p)), w.m.quota)
		n, err := w.ResponseWriter.Write(p[:k])
		done += n
		w.m.add(n)
		if err != nil {
			return done, err
		}
		p = p[k:]
	}
	return done, nil
}

// Flush sends buffered data to the client.
func (w *meteredWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap returns the underlying writer, for http.ResponseController.
func (w *meteredWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
