package httpapi_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/auth"
)

// testStreams are short stream limits: 3 KiB must move every 300 ms.
var testStreams = httpapi.StreamLimits{Window: 300 * time.Millisecond, MinRate: 10 << 10}

// streamServer serves the file harness's API over real TCP with
// testStreams, on an http.Server with no timeouts of its own (so only the
// routes' deadlines can cut a client), and reports each closed connection.
func streamServer(t *testing.T, h *fileHarness) (addr string, closed <-chan struct{}) {
	t.Helper()
	shops, err := httpapi.NewHostShops(h.raw, "https://example.test", h.clock)
	require.NoError(t, err)
	files := &httpapi.FilesDeps{Service: h.storage, Objects: h.local.Handler(), ObjectsPath: "/objects/"}
	srv := httptest.NewUnstartedServer(httpapi.NewHandler(httpapi.Deps{
		Auth: &httpapi.AuthDeps{Service: h.svc, Shops: shops}, Files: files, Streams: testStreams,
	}))
	ch := make(chan struct{}, 16)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			ch <- struct{}{}
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), ch
}

// waitClosed waits for the server to close a connection, at most 10 s.
func waitClosed(t *testing.T, closed <-chan struct{}, what string) time.Duration {
	t.Helper()
	start := time.Now()
	select {
	case <-closed:
		return time.Since(start)
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the server still holds the connection after 10 s", what)
		return 0
	}
}

// A client that starts a 1 MiB direct upload and then trickles it at
// 500 B/s (below the 10 KiB/s minimum) is cut off within the window, and
// nothing of it is kept; an upload at full speed still succeeds. Guards
// stream.go's read deadline on POST /files.
func TestTrickleUploadIsCutOff(t *testing.T) {
	t.Parallel()
	for _, v := range []struct {
		name string
		opts []fileOption
	}{{"sqlite", nil}, {"postgres", []fileOption{rowsOnPostgres()}}} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			h := newFileHarness(t, v.opts...)
			addr, closed := streamServer(t, h)

			conn, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			defer conn.Close()
			require.NoError(t, conn.SetDeadline(time.Now().Add(20*time.Second))) // the test's own bound
			const size = 1 << 20
			_, err = fmt.Fprintf(conn, "POST /files?kind=blob&name=slow.bin HTTP/1.1\r\nHost: acme.example.test\r\nCookie: %s=%s\r\n"+
				"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", auth.SessionCookieName, h.tomCookie, size)
			require.NoError(t, err)
			answered := make(chan string, 1)
			go func() {
				b, _ := io.ReadAll(conn) // ends when the server closes the connection
				answered <- string(b)
			}()
			tick := time.NewTicker(20 * time.Millisecond) // the attacker's pace: 10 bytes per 20 ms
			defer tick.Stop()
			sent := 0
			var answer string
		trickle:
			for {
				select {
				case answer = <-answered:
					break trickle
				case <-tick.C:
					if sent >= size {
						t.Fatal("the whole trickled body was accepted")
					}
					if _, err := conn.Write([]byte("0123456789")); err != nil {
						answer = <-answered
						break trickle
					}
					sent += 10
				}
			}
			waitClosed(t, closed, "trickled upload")
			assert.True(t, strings.HasPrefix(answer, "HTTP/1.1 408 "), "answer: %q", answer)
			assert.Less(t, sent, 3<<10, "cut within about one window")
			h.requireNothingLeft("a trickled upload")

			// A client at full speed is not affected.
			body := strings.Repeat("x", size)
			req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/files?"+url.Values{"kind": {"blob"}, "name": {"fast.bin"}}.Encode(), strings.NewReader(body))
			require.NoError(t, err)
			req.Host = "acme.example.test"
			req.Header.Set("Content-Type", "application/octet-stream")
			req.AddCookie(&http.Cookie{Name: auth.SessionCookieName, Value: h.tomCookie})
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			assert.Equal(t, http.StatusCreated, res.StatusCode)
		})
	}
}

// A client that asks for a large file's signed URL and then reads nothing
// is cut off once the window passes without MinRate×Window bytes taken.
// Guards stream.go's write deadline on the object store's signed URLs.
func TestStalledDownloadIsCutOff(t *testing.T) {
	t.Parallel()
	h := newFileHarness(t)
	addr, closed := streamServer(t, h)
	f := h.uploaded(h.tomCookie, "blob", "big.bin", noise(32<<20)) // more than the socket buffers hold
	link, res := h.downloadURL(h.tomCookie, "acme.example.test", f.ID)
	require.Equal(t, http.StatusOK, res.StatusCode)
	u, err := url.Parse(link)
	require.NoError(t, err)

	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", u.RequestURI(), u.Host)
	require.NoError(t, err)
	waitClosed(t, closed, "stalled download")

	// What the socket buffers held arrives, then the cut: never all 32 MiB.
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	n, err := io.Copy(io.Discard, conn)
	assert.False(t, errors.Is(err, os.ErrDeadlineExceeded), "the connection was closed, not left open")
	assert.Less(t, n, int64(32<<20))
	assert.Greater(t, n, int64(0))
}
