package app_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
)

// TestServerUseListenerServesTheHeldPort: a caller that bound its port
// first (to put it in the public URL) hands the listener over without
// releasing it, so nothing else can take the port in between; the server
// serves it even though binding the configured address (the same port,
// still held) would fail.
func TestServerUseListenerServesTheHeldPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() }) // Stop closed it already when Start ran
	cfg := app.Default()
	cfg.HTTP.Addr = ln.Addr().String() // held: binding it again fails
	s := app.NewServer(cfg, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}), nil)
	s.UseListener(ln)
	ctx := context.Background()
	require.NoError(t, s.Start(ctx))
	t.Cleanup(func() { require.NoError(t, s.Stop(ctx)) })
	require.Equal(t, ln.Addr().String(), s.Addr().String())
	res, err := http.Get(fmt.Sprintf("http://%s/", ln.Addr()))
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusTeapot, res.StatusCode)
}
