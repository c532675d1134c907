package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Server runs an *http.Server on a listener it binds in Start, so a busy
// port fails Start instead of a background goroutine. Use it with or
// without fx: NewServer, then Start and Stop.
type Server struct {
	http            *http.Server
	addr            string
	addrSetting     string // the setting that names addr, for errors
	shutdownTimeout time.Duration
	maxConns        int
	log             *zap.Logger

	mu    sync.Mutex
	given net.Listener // UseListener's, served instead of binding addr
	bound net.Addr
	done  chan struct{} // closed when Serve returns
}

// NewServer returns a Server for handler configured by cfg.HTTP. The
// http.Server gets cfg.HTTP's limits (HTTPLimits, each defaulted): read
// header, read, write and idle timeouts and the header size, and Start
// bounds the connections open at once. It logs its own errors through log
// at warn. The streaming routes replace the read and write timeouts with
// a minimum throughput (httpapi.StreamLimits, from the same settings).
func NewServer(cfg Config, handler http.Handler, log *zap.Logger) *Server {
	return newServer(cfg, cfg.HTTP.Addr, "STOCKADE_HTTP_ADDR", handler, log)
}

// newServer is NewServer on addr, which the setting addrSetting names.
func newServer(cfg Config, addr, addrSetting string, handler http.Handler, log *zap.Logger) *Server {
	if log == nil {
		log = zap.NewNop()
	}
	stdLog, _ := zap.NewStdLogAt(log.Named("http"), zapcore.WarnLevel) // fails only for levels above Fatal
	lim := cfg.HTTP.limits()
	return &Server{
		http: &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: lim.ReadHeaderTimeout,
			ReadTimeout:       lim.ReadTimeout,
			WriteTimeout:      lim.WriteTimeout,
			IdleTimeout:       lim.IdleTimeout,
			MaxHeaderBytes:    lim.MaxHeaderBytes,
			ErrorLog:          stdLog,
		},
		addr:            addr,
		addrSetting:     addrSetting,
		shutdownTimeout: cfg.HTTP.ShutdownTimeout,
		maxConns:        lim.MaxConnections,
		log:             log,
	}
}

// HTTPServer returns the underlying *http.Server, e.g. to adjust timeouts
// before Start.
func (s *Server) HTTPServer() *http.Server { return s.http }

// Addr returns the bound address after Start (useful when the configured
// port is 0), or nil before.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bound
}

// UseListener makes Start serve ln instead of binding the configured
// address, for a caller that must know the port before the server is
// built (a test whose public URL carries it) and so binds it first,
// holding it until the server takes it over. Once Start has run, Stop
// closes ln; if Start never runs, ln stays the caller's to close. Call it
// before Start, at most once.
func (s *Server) UseListener(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.given = ln
}

// Start binds the configured address (or takes the listener UseListener
// gave), logs "listening" with the bound address at info, and serves in
// the background with at most STOCKADE_HTTP_MAX_CONNECTIONS connections
// open at once. A bind failure is returned, naming STOCKADE_HTTP_ADDR.
// Start must be called once.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	raw := s.given
	s.mu.Unlock()
	if raw == nil {
		var lc net.ListenConfig
		var err error
		if raw, err = lc.Listen(ctx, "tcp", s.addr); err != nil {
			return fmt.Errorf("%s: %w", s.addrSetting, err)
		}
	}
	ln := newLimitListener(raw, s.maxConns)
	done := make(chan struct{})
	s.mu.Lock()
	s.bound = ln.Addr()
	s.done = done
	s.mu.Unlock()
	s.log.Info("listening", zap.String("addr", ln.Addr().String()))
	go func() {
		defer close(done)
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", zap.Error(err))
		}
	}()
	return nil
}

// Stop stops accepting connections and waits for in-flight requests, for
// at most the configured shutdown timeout (or until ctx is done, if that
// is sooner); then it closes the remaining connections and returns an
// error saying the shutdown was not graceful.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return nil // never started
	}
	ctx, cancel := context.WithTimeout(ctx, s.shutdownTimeout)
	defer cancel()
	err := s.http.Shutdown(ctx)
	if err != nil {
		_ = s.http.Close()
		err = fmt.Errorf("http shutdown not graceful (STOCKADE_HTTP_SHUTDOWN_TIMEOUT %s): %w", s.shutdownTimeout, err)
	}
	<-done
	s.log.Info("stopped listening")
	return err
}
