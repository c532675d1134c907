package app

import (
	"time"

	"github.com/stockadehq/stockade/app/httpapi"
)

// HTTPLimits bounds what a client can hold of the server: how long it may
// take to send a request, how long an answer may take to go out, how big
// the headers may be and how many connections may be open at once. Every
// zero field means its default (see HTTPConfig.limits); none can be
// switched off, only widened.
type HTTPLimits struct {
	// ReadHeaderTimeout bounds reading a request's headers.
	// STOCKADE_HTTP_READ_HEADER_TIMEOUT, default 10s.
	ReadHeaderTimeout time.Duration `koanf:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, headers and body, on
	// every route but the streaming ones (see StreamWindow): a client that
	// sends headers and then no body, or trickles it, is cut off when it
	// runs out. STOCKADE_HTTP_READ_TIMEOUT, default 30s.
	ReadTimeout time.Duration `koanf:"read_timeout"`
	// WriteTimeout bounds a request from the end of its headers to the
	// end of its answer, on every route but the streaming ones.
	// STOCKADE_HTTP_WRITE_TIMEOUT, default 60s.
	WriteTimeout time.Duration `koanf:"write_timeout"`
	// IdleTimeout closes a kept-alive connection that sends no next
	// request. STOCKADE_HTTP_IDLE_TIMEOUT, default 2m.
	IdleTimeout time.Duration `koanf:"idle_timeout"`
	// MaxHeaderBytes bounds a request's header section (431 above it).
	// STOCKADE_HTTP_MAX_HEADER_BYTES, default 65536.
	MaxHeaderBytes int `koanf:"max_header_bytes"`
	// MaxConnections bounds the connections open at once; further ones
	// wait in the listen queue until one closes. Keep it below the
	// process's file descriptor limit, leaving room for the database and
	// files. STOCKADE_HTTP_MAX_CONNECTIONS, default 1024.
	MaxConnections int `koanf:"max_connections"`
	// StreamWindow and StreamMinRate are the minimum throughput of the
	// routes that stream bodies of any size (direct upload, signed object
	// URLs, file content, audit export), which the fixed timeouts above
	// do not bound: every StreamWindow at least
	// StreamMinRate×StreamWindow bytes must move (see
	// httpapi.StreamLimits). STOCKADE_HTTP_STREAM_WINDOW, default 20s;
	// STOCKADE_HTTP_STREAM_MIN_RATE in bytes per second, default 1024.
	StreamWindow  time.Duration `koanf:"stream_window"`
	StreamMinRate int64         `koanf:"stream_min_rate"`
}

// Defaults of HTTPLimits.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 30 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxHeaderBytes    = 64 << 10
	DefaultMaxConnections    = 1024
)

// limits returns c's HTTPLimits with every zero field set to its default.
func (c HTTPConfig) limits() HTTPLimits {
	l := c.HTTPLimits
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&l.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	def(&l.ReadTimeout, DefaultReadTimeout)
	def(&l.WriteTimeout, DefaultWriteTimeout)
	def(&l.IdleTimeout, DefaultIdleTimeout)
	def(&l.StreamWindow, httpapi.DefaultStreamWindow)
	if l.MaxHeaderBytes == 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxConnections == 0 {
		l.MaxConnections = DefaultMaxConnections
	}
	if l.StreamMinRate == 0 {
		l.StreamMinRate = httpapi.DefaultStreamMinRate
	}
	return l
}

// Streams returns the streaming routes' limits for httpapi.Deps.Streams.
func (c HTTPConfig) Streams() httpapi.StreamLimits {
	l := c.limits()
	return httpapi.StreamLimits{Window: l.StreamWindow, MinRate: l.StreamMinRate}
}

// validate refuses negative limits (zero means the default).
func (l HTTPLimits) validate() []error {
	var errs []error
	for _, d := range []struct {
		setting string
		v       time.Duration
	}{
		{"STOCKADE_HTTP_READ_HEADER_TIMEOUT", l.ReadHeaderTimeout},
		{"STOCKADE_HTTP_READ_TIMEOUT", l.ReadTimeout},
		{"STOCKADE_HTTP_WRITE_TIMEOUT", l.WriteTimeout},
		{"STOCKADE_HTTP_IDLE_TIMEOUT", l.IdleTimeout},
		{"STOCKADE_HTTP_STREAM_WINDOW", l.StreamWindow},
	} {
		if d.v < 0 {
			errs = append(errs, problem(d.setting, "must not be negative, got %s", d.v))
		}
	}
	for _, n := range []struct {
		setting string
		v       int64
	}{
		{"STOCKADE_HTTP_MAX_HEADER_BYTES", int64(l.MaxHeaderBytes)},
		{"STOCKADE_HTTP_MAX_CONNECTIONS", int64(l.MaxConnections)},
		{"STOCKADE_HTTP_STREAM_MIN_RATE", l.StreamMinRate},
	} {
		if n.v < 0 {
			errs = append(errs, problem(n.setting, "must not be negative, got %d", n.v))
		}
	}
	return errs
}
