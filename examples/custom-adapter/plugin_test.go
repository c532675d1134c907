package memkeys

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/ports"
)

// TestPluggedIntoStockade gives the adapter to Stockade's fx graph, as
// README.md shows, and checks the storage the server uses holds it.
func TestPluggedIntoStockade(t *testing.T) {
	cfg := app.Default()
	cfg.DataDir = t.TempDir()
	cfg.HTTP.Addr = "127.0.0.1:0"
	require.NoError(t, app.PrepareDataDir(cfg))
	mine := New()
	var files *app.Storage
	a := app.New(cfg,
		app.WithLogOutput(&discard{}),
		fx.Provide(func() ports.KeyManager { return mine }),
		fx.Populate(&files))
	require.NoError(t, a.Err())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, a.Start(ctx))
	defer func() { require.NoError(t, a.Stop(ctx)) }()
	assert.Same(t, mine, files.Keys, "the server's storage wraps data keys with the adapter")
}

// discard is a log output that drops everything.
type discard struct{}

func (*discard) Write(p []byte) (int, error) { return len(p), nil }
