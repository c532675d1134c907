package app_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/stockadehq/stockade/app"
)

func TestNewLoggerJSON(t *testing.T) {
	var buf bytes.Buffer
	cfg := app.Default()
	cfg.Log.Format = "json"
	cfg.Log.Level = "warn"
	log, err := app.NewLogger(cfg, &buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown", zap.String("addr", "127.0.0.1:1"))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1 (info filtered at warn): %q", len(lines), buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("not JSON: %q: %v", lines[0], err)
	}
	if rec["msg"] != "shown" || rec["level"] != "warn" || rec["addr"] != "127.0.0.1:1" || rec["ts"] == nil {
		t.Errorf("record = %v", rec)
	}
}

func TestNewLoggerConsole(t *testing.T) {
	var buf bytes.Buffer
	log, err := app.NewLogger(app.Default(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("hidden at info")
	log.Info("hello", zap.Int("n", 1))
	out := buf.String()
	if strings.Contains(out, "hidden") || !strings.Contains(out, "INFO") || !strings.Contains(out, "hello") || json.Valid([]byte(out)) {
		t.Errorf("console output = %q", out)
	}
}

func TestNewLoggerBadLevel(t *testing.T) {
	cfg := app.Default()
	cfg.Log.Level = "chatty"
	if _, err := app.NewLogger(cfg, nil); err == nil || !strings.Contains(err.Error(), "STOCKADE_LOG_LEVEL") {
		t.Errorf("NewLogger(bad level) = %v, want an error naming STOCKADE_LOG_LEVEL", err)
	}
}
