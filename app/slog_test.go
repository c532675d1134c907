package app

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSlogLoggerWritesThroughZap: an slog record lands in the zap stream,
// in its JSON format, and respects its level.
func TestSlogLoggerWritesThroughZap(t *testing.T) {
	var buf bytes.Buffer
	cfg := Default()
	cfg.Log.Format, cfg.Log.Level = LogFormatJSON, "info"
	log, err := NewLogger(cfg, &buf)
	require.NoError(t, err)
	sl := SlogLogger(log)
	sl.Debug("hidden")
	sl.Info("from slog", "shop", "bobs-plumbing")
	require.NoError(t, log.Sync())
	var rec map[string]any
	require.NoError(t, json.Unmarshal(bytes.TrimSpace(buf.Bytes()), &rec), buf.String())
	assert.Equal(t, "from slog", rec["msg"])
	assert.Equal(t, "bobs-plumbing", rec["shop"])
	assert.Equal(t, "info", rec["level"])
}
