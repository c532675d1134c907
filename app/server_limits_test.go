package app_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/stockadehq/stockade/app"
)

// startLimited starts the whole app with cfg and returns its server,
// whose connection states are reported on states (set before Start).
func startLimited(t *testing.T, cfg app.Config) (*app.Server, <-chan connEvent) {
	t.Helper()
	var srv *app.Server
	a := app.New(cfg, app.WithLogOutput(&syncBuffer{}), fx.Populate(&srv))
	if err := a.Err(); err != nil {
		t.Fatal(err)
	}
	states := make(chan connEvent, 64)
	srv.HTTPServer().ConnState = func(c net.Conn, s http.ConnState) {
		states <- connEvent{remote: c.RemoteAddr().String(), state: s}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	return srv, states
}

type connEvent struct {
	remote string
	state  http.ConnState
}

// waitState waits (at most 10 s) for the server to report state for the
// connection whose local address is local.
func waitState(t *testing.T, states <-chan connEvent, local string, state http.ConnState) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-states:
			if e.remote == local && e.state == state {
				return
			}
		case <-deadline:
			t.Fatalf("no %s for %s within 10 s", state, local)
		}
	}
}

// readUntilClosed reads conn until the server closes it, at most 10 s,
// and fails if it is still open then.
func readUntilClosed(t *testing.T, conn net.Conn, what string) string {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(conn)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s: the server still holds the connection after 10 s", what)
	}
	return string(b)
}

// Item 8: a client that sends a request's headers and then no body, or
// trickles the body, is cut off once STOCKADE_HTTP_READ_TIMEOUT passes,
// while the server goes on answering everyone else. Guards server.go's
// ReadTimeout.
func TestSlowBodyIsCutOff(t *testing.T) {
	cfg := fxConfig(t)
	cfg.HTTP.ReadTimeout = 500 * time.Millisecond
	srv, _ := startLimited(t, cfg)
	addr := srv.Addr().String()
	head := "POST /auth/signup HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{"
	for _, tc := range []struct {
		name    string
		trickle bool
	}{{"headers then silence", false}, {"a byte every 50 ms", true}} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if _, err := io.WriteString(conn, head); err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			defer close(stop)
			if tc.trickle {
				go func() {
					tick := time.NewTicker(50 * time.Millisecond) // the attacker's pace
					defer tick.Stop()
					for {
						select {
						case <-stop:
							return
						case <-tick.C:
							if _, err := io.WriteString(conn, " "); err != nil {
								return
							}
						}
					}
				}()
			}
			// While the slow client holds its connection, others are served.
			if code := get(t, "http://"+addr+"/healthz"); code != http.StatusOK {
				t.Errorf("GET /healthz beside a slow client = %d", code)
			}
			start := time.Now()
			answer := readUntilClosed(t, conn, tc.name)
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("cut after %s, want about the 500 ms read timeout", d)
			}
			if answer != "" && !strings.HasPrefix(answer, "HTTP/1.1 408 ") || strings.Contains(answer, "tcp") {
				t.Errorf("answer to a slow body = %q, want nothing or a 408 naming no internals", answer)
			}
			if code := get(t, "http://"+addr+"/healthz"); code != http.StatusOK {
				t.Errorf("GET /healthz after a slow client = %d", code)
			}
		})
	}
}

// Item 8: with STOCKADE_HTTP_MAX_CONNECTIONS=1 a second connection is not
// served while the first is open, and is served as soon as it closes.
// Guards server.go's connection limit.
func TestConnectionLimit(t *testing.T) {
	cfg := fxConfig(t)
	cfg.HTTP.MaxConnections = 1
	srv, states := startLimited(t, cfg)
	addr := srv.Addr().String()

	holder, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	waitState(t, states, holder.LocalAddr().String(), http.StateNew)

	other, err := net.Dial("tcp", addr) // the kernel completes the handshake; Accept waits
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := fmt.Fprintf(other, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := other.SetReadDeadline(time.Now().Add(300 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if n, err := other.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a second connection was served beside the first (read %d bytes, %v)", n, err)
	}

	holder.Close()
	if err := other.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(other), nil)
	if err != nil {
		t.Fatalf("the second connection was not served after the first closed: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz = %d", res.StatusCode)
	}
}

// Item 8: headers above STOCKADE_HTTP_MAX_HEADER_BYTES are refused (431).
func TestMaxHeaderBytes(t *testing.T) {
	cfg := fxConfig(t)
	cfg.HTTP.MaxHeaderBytes = 4 << 10
	srv, _ := startLimited(t, cfg)
	req, err := http.NewRequest(http.MethodGet, "http://"+srv.Addr().String()+"/healthz", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Padding", strings.Repeat("a", 16<<10))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("16 KiB of headers = %d, want 431", res.StatusCode)
	}
}

// The limits are read from STOCKADE_HTTP_* and a TOML file's [http]
// table; negative values are refused, naming the setting.
func TestHTTPLimitsSettings(t *testing.T) {
	cfg, err := app.LoadConfig([]string{
		"STOCKADE_HTTP_READ_HEADER_TIMEOUT=2s", "STOCKADE_HTTP_READ_TIMEOUT=3s", "STOCKADE_HTTP_WRITE_TIMEOUT=4s",
		"STOCKADE_HTTP_IDLE_TIMEOUT=5s", "STOCKADE_HTTP_MAX_HEADER_BYTES=6000", "STOCKADE_HTTP_MAX_CONNECTIONS=7",
		"STOCKADE_HTTP_STREAM_WINDOW=8s", "STOCKADE_HTTP_STREAM_MIN_RATE=9000",
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	want := app.HTTPLimits{ReadHeaderTimeout: 2 * time.Second, ReadTimeout: 3 * time.Second, WriteTimeout: 4 * time.Second,
		IdleTimeout: 5 * time.Second, MaxHeaderBytes: 6000, MaxConnections: 7, StreamWindow: 8 * time.Second, StreamMinRate: 9000}
	if cfg.HTTP.HTTPLimits != want {
		t.Errorf("limits = %+v, want %+v", cfg.HTTP.HTTPLimits, want)
	}
	if s := cfg.HTTP.Streams(); s.Window != 8*time.Second || s.MinRate != 9000 {
		t.Errorf("Streams() = %+v", s)
	}
	cfg = app.Default()
	cfg.HTTP.ReadTimeout = -time.Second
	cfg.HTTP.MaxConnections = -1
	err = cfg.Validate()
	for _, s := range []string{"STOCKADE_HTTP_READ_TIMEOUT", "STOCKADE_HTTP_MAX_CONNECTIONS"} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("Validate = %v, want it to name %s", err, s)
		}
	}
}
