package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/ports"
)

// syncBuffer is a bytes.Buffer safe for the logger and the test at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func fxConfig(t *testing.T) app.Config {
	t.Helper()
	cfg := app.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Log.Format = "json"
	if err := app.PrepareDataDir(cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func get(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestAppServes(t *testing.T) {
	cfg := fxConfig(t)
	var logs syncBuffer
	var srv *app.Server
	var store ports.Store
	a := app.New(cfg, app.WithLogOutput(&logs), fx.Populate(&srv, &store))
	if err := a.Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	base := "http://" + srv.Addr().String()
	for _, path := range []string{"/healthz", "/readyz"} {
		if code := get(t, base+path); code != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, code)
		}
	}

	// The log says where it listens: the bound address, not port 0.
	var listening map[string]any
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "listening" {
			listening = rec
		}
	}
	if listening == nil || listening["addr"] != srv.Addr().String() {
		t.Errorf("listening record = %v, want addr %s; logs:\n%s", listening, srv.Addr(), logs.String())
	}

	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.Ping(ctx); !errors.Is(err, ports.ErrUnavailable) {
		t.Errorf("store Ping after Stop = %v, want ErrUnavailable (closed)", err)
	}
	if _, err := net.DialTimeout("tcp", srv.Addr().String(), time.Second); err == nil {
		t.Error("port still accepts connections after Stop")
	}
	if strings.Contains(logs.String(), `"logger":"fx"`) {
		t.Error("fx events logged at info; want them at debug")
	}
}

func TestAppStartFailsOnBusyPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := fxConfig(t)
	cfg.HTTP.Addr = busy.Addr().String()
	var store ports.Store
	a := app.New(cfg, app.WithLogOutput(&syncBuffer{}), fx.Populate(&store))
	err = a.Start(context.Background())
	if err == nil {
		t.Fatal("Start succeeded on a busy port")
	}
	if !strings.Contains(err.Error(), "STOCKADE_HTTP_ADDR") || !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("Start = %v, want an address-in-use error naming STOCKADE_HTTP_ADDR", err)
	}
	if err := store.Ping(context.Background()); !errors.Is(err, ports.ErrUnavailable) {
		t.Errorf("store Ping after a failed start = %v, want it closed by the rollback", err)
	}
}

func TestAppStoreCanBeReplaced(t *testing.T) {
	cfg := fxConfig(t)
	fake := failingStore{}
	var srv *app.Server
	a := app.New(cfg, app.WithLogOutput(&syncBuffer{}), fx.Decorate(func(ports.Store) ports.Store { return fake }), fx.Populate(&srv))
	ctx := context.Background()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Stop(ctx)
	if code := get(t, "http://"+srv.Addr().String()+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("readyz with a failing store = %d, want 503", code)
	}
}

// failingStore is a ports.Store whose Ping always fails.
type failingStore struct{ ports.Store }

func (failingStore) Ping(context.Context) error { return ports.ErrUnavailable }
