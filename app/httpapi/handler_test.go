package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/ports"
)

// pingFunc is a fake ports.Store reduced to Ping, all readyz needs.
type pingFunc func(ctx context.Context) error

func (f pingFunc) Ping(ctx context.Context) error { return f(ctx) }

func serve(t *testing.T, h http.Handler, method, target string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func requireSecurityHeaders(t *testing.T, res *http.Response) {
	t.Helper()
	want := map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"X-Frame-Options":        "DENY",
		"Cache-Control":          "no-store",
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if res.Header.Get("X-Request-ID") == "" {
		t.Error("X-Request-ID missing")
	}
}

func TestHealthz(t *testing.T) {
	h := httpapi.NewHandler(httpapi.Deps{Ready: pingFunc(func(context.Context) error { return ports.ErrUnavailable })})
	res := serve(t, h, http.MethodGet, "/healthz", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200 even when not ready", res.StatusCode)
	}
	if got := strings.TrimSpace(body(t, res)); got != `{"status":"ok"}` {
		t.Errorf("body = %s", got)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	requireSecurityHeaders(t, res)
}

func TestReadyz(t *testing.T) {
	var deadline time.Time
	ready := pingFunc(func(ctx context.Context) error {
		deadline, _ = ctx.Deadline()
		return nil
	})
	h := httpapi.NewHandler(httpapi.Deps{Ready: ready})
	start := time.Now()
	res := serve(t, h, http.MethodGet, "/readyz", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", res.StatusCode)
	}
	if got := strings.TrimSpace(body(t, res)); got != `{"status":"ready"}` {
		t.Errorf("body = %s", got)
	}
	if deadline.IsZero() || deadline.Sub(start) > 2*time.Second+100*time.Millisecond {
		t.Errorf("ping deadline %v after the request, want at most 2s", deadline.Sub(start))
	}
	requireSecurityHeaders(t, res)
}

func TestReadyzFailing(t *testing.T) {
	tests := []struct {
		name string
		give error
	}{
		{"unavailable", fmt.Errorf("sqlite: ping secret-host: %w", ports.ErrUnavailable)},
		{"schema behind", fmt.Errorf("sqlite: %w", ports.ErrSchemaBehind)},
		{"unclassified", errors.New("secret-host exploded")},
		{"not found", fmt.Errorf("odd: %w", ports.ErrNotFound)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, logs := observer.New(zap.DebugLevel)
			h := httpapi.NewHandler(httpapi.Deps{
				Logger: zap.New(core),
				Ready:  pingFunc(func(context.Context) error { return tt.give }),
			})
			res := serve(t, h, http.MethodGet, "/readyz", nil)
			if res.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("status = %d, want 503", res.StatusCode)
			}
			b := body(t, res)
			p := decodeProblem(t, res.Header.Get("Content-Type"), []byte(b))
			if p.Status != http.StatusServiceUnavailable || strings.Contains(b, "secret-host") {
				t.Errorf("problem = %s, want a 503 without the internal error", b)
			}
			requireSecurityHeaders(t, res)
			failed := logs.FilterMessage("request failed").All()
			if len(failed) != 1 || failed[0].Level != zap.WarnLevel ||
				!strings.Contains(fmt.Sprint(failed[0].ContextMap()["error"]), tt.give.Error()) {
				t.Errorf("want the ping error logged once at warn, got %v", logs.All())
			}
		})
	}
}

func TestUnknownRouteIsProblem(t *testing.T) {
	h := httpapi.NewHandler(httpapi.Deps{})
	res := serve(t, h, http.MethodGet, "/no/such/thing", nil)
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("status = %d, want 404", res.StatusCode)
	}
	p := decodeProblem(t, res.Header.Get("Content-Type"), []byte(body(t, res)))
	if p.Status != http.StatusNotFound || p.Title != "Not Found" {
		t.Errorf("problem = %+v", p)
	}
	requireSecurityHeaders(t, res)
}

func TestWrongMethodIsProblem(t *testing.T) {
	h := httpapi.NewHandler(httpapi.Deps{})
	res := serve(t, h, http.MethodPost, "/healthz", nil)
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("status = %d, want 405", res.StatusCode)
	}
	if allow := res.Header.Get("Allow"); !strings.Contains(allow, "GET") {
		t.Errorf("Allow = %q, want GET listed", allow)
	}
	p := decodeProblem(t, res.Header.Get("Content-Type"), []byte(body(t, res)))
	if p.Status != http.StatusMethodNotAllowed {
		t.Errorf("problem = %+v", p)
	}
	requireSecurityHeaders(t, res)
}

func TestRequestID(t *testing.T) {
	h := httpapi.NewHandler(httpapi.Deps{})
	tests := []struct {
		name string
		give string
		keep bool
	}{
		{"valid", "abc-DEF_123", true},
		{"max length", strings.Repeat("a", 64), true},
		{"too long", strings.Repeat("a", 65), false},
		{"bad characters", "abc def", false},
		{"log injection", "a\nlevel=error", false},
		{"json injection", `a","x":"y`, false},
		{"empty", "", false},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := serve(t, h, http.MethodGet, "/healthz", http.Header{"X-Request-Id": {tt.give}})
			got := res.Header.Get("X-Request-ID")
			if tt.keep {
				if got != tt.give {
					t.Errorf("X-Request-ID = %q, want the incoming %q", got, tt.give)
				}
				return
			}
			if got == tt.give || got == "" || len(got) > 64 || strings.Trim(got, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
				t.Errorf("X-Request-ID = %q, want a fresh valid ID", got)
			}
			if seen[got] {
				t.Errorf("generated ID %q repeated", got)
			}
			seen[got] = true
		})
	}
}

func TestAccessLog(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	h := httpapi.NewHandler(httpapi.Deps{Logger: zap.New(core)})
	serve(t, h, http.MethodGet, "/healthz?token=s3cret-token", http.Header{
		"Authorization": {"Bearer s3cret-bearer"},
		"Cookie":        {"session=s3cret-cookie"},
		"X-Request-Id":  {"req-1"},
	})
	entries := logs.FilterMessage("request").All()
	if len(entries) != 1 {
		t.Fatalf("got %d access log records, want 1: %v", len(entries), logs.All())
	}
	fields := entries[0].ContextMap()
	want := map[string]any{"method": "GET", "route": "/healthz", "status": int64(200), "request_id": "req-1"}
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("field %s = %v (%T), want %v", k, fields[k], fields[k], v)
		}
	}
	if _, ok := fields["duration"]; !ok {
		t.Error("field duration missing")
	}
	raw, _ := json.Marshal(fields)
	if strings.Contains(string(raw), "s3cret") || strings.Contains(entries[0].Message, "s3cret") {
		t.Errorf("access log leaks a secret: %s", raw)
	}
}

func TestRecoverPanic(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	log := zap.New(core)
	h := httpapi.RequestID(httpapi.AccessLog(log)(httpapi.Recover(log)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret internal state")
	}))))
	res := serve(t, h, http.MethodGet, "/boom", nil)
	if res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", res.StatusCode)
	}
	b := body(t, res)
	decodeProblem(t, res.Header.Get("Content-Type"), []byte(b))
	if strings.Contains(b, "secret") {
		t.Errorf("500 body leaks the panic: %s", b)
	}
	if logs.FilterMessage("panic serving request").Len() != 1 {
		t.Errorf("panic not logged: %v", logs.All())
	}
	access := logs.FilterMessage("request").All()
	if len(access) != 1 || access[0].ContextMap()["status"] != int64(500) {
		t.Errorf("access log = %v, want one record with status 500", access)
	}
}

func TestRecoverPanicAfterWriteAbortsConnection(t *testing.T) {
	log := zap.NewNop()
	srv := httptest.NewServer(httpapi.Recover(log)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("partial"))
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush through the middleware: %v", err)
		}
		panic("half way")
	})))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatalf("GET: %v (the headers were flushed before the panic)", err)
	}
	defer res.Body.Close()
	if _, err := io.ReadAll(res.Body); err == nil {
		t.Error("reading a body cut off by a panic succeeded, want an error")
	}
}
