package app

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stockadehq/stockade/ports"
)

func TestStartedStoreLifecycle(t *testing.T) {
	ctx := context.Background()
	s := &startedStore{}
	if err := s.Ping(ctx); !errors.Is(err, ports.ErrUnavailable) {
		t.Errorf("Ping before open = %v, want ErrUnavailable", err)
	}
	if err := s.Global(ctx, func(context.Context, ports.GlobalTx) error { return nil }); !errors.Is(err, ports.ErrUnavailable) {
		t.Errorf("Global before open = %v, want ErrUnavailable", err)
	}

	cfg := Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	if err := PrepareDataDir(cfg); err != nil {
		t.Fatal(err)
	}
	if err := s.open(ctx, cfg, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping after open: %v", err)
	}
	ran := false
	if err := s.Global(ctx, func(context.Context, ports.GlobalTx) error { ran = true; return nil }); err != nil || !ran {
		t.Errorf("Global after open = %v, ran %v", err, ran)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); !errors.Is(err, ports.ErrUnavailable) {
		t.Errorf("Ping after Close = %v, want ErrUnavailable", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

// TestStartedStoreGivesUp checks that a server which accepts connections
// but never answers cannot hold start hostage, whatever the driver does
// with the context.
func TestStartedStoreGivesUp(t *testing.T) {
	const secret = "Hq7-silent"
	ln, err := net.Listen("tcp", "127.0.0.1:0") // the kernel completes handshakes; nobody answers
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	cfg := Default()
	cfg.Database.URL = "postgres://app:" + secret + "@" + ln.Addr().String() + "/stockade?sslmode=disable"

	ctx, cancel := context.WithTimeoutCause(context.Background(), 300*time.Millisecond, errors.New("no answer within 300ms"))
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- (&startedStore{}).open(ctx, cfg, nil) }()
	select {
	case err = <-errc:
	case <-time.After(2 * time.Second):
		t.Fatal("open still waiting 2s later, want it to give up soon after 300ms")
	}
	if err == nil {
		t.Fatal("open succeeded against a silent server")
	}
	if !strings.HasPrefix(err.Error(), "STOCKADE_DATABASE_URL: ") || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "300ms") {
		t.Errorf("error = %q, want it to name the setting and the cause, without the password", err)
	}
	if !errors.Is(err, ports.ErrUnavailable) {
		t.Errorf("error %v does not match ErrUnavailable", err)
	}
}
