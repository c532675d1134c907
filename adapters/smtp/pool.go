package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"net"

	gomail "github.com/wneessen/go-mail"
)

// rawConnKey carries, in the dial context, where the dialer leaves the
// network connection it made.
type rawConnKey struct{}

// dialer connects (and for implicit TLS, handshakes and verifies) and
// hands the network connection back through the context, so that a
// cancelled send can close it.
func dialer(cfg Config, tlsConfig *tls.Config) gomail.DialContextFunc {
	nd := &net.Dialer{Timeout: cfg.Timeout}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		var err error
		if cfg.ImplicitTLS {
			c, err = (&tls.Dialer{NetDialer: nd, Config: tlsConfig}).DialContext(ctx, network, addr)
		} else {
			c, err = nd.DialContext(ctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		if slot, ok := ctx.Value(rawConnKey{}).(*net.Conn); ok {
			*slot = c
		}
		return c, nil
	}
}

// conn returns a kept connection that has not idled too long, or a new
// one (connected, TLS and AUTH done). reused says which.
func (s *Sender) conn(ctx context.Context) (c conn, reused bool, err error) {
	now := s.cfg.Clock.Now()
	s.mu.Lock()
	for len(s.idle) > 0 {
		ic := s.idle[len(s.idle)-1]
		s.idle = s.idle[:len(s.idle)-1]
		if now.Sub(ic.since) < s.cfg.IdleTimeout {
			s.mu.Unlock()
			return ic, true, nil
		}
		s.mu.Unlock()
		_ = ic.raw.Close()
		s.mu.Lock()
	}
	s.mu.Unlock()
	var raw net.Conn
	client, err := s.client.DialToSMTPClientWithContext(context.WithValue(ctx, rawConnKey{}, &raw))
	if err != nil {
		if raw != nil {
			_ = raw.Close() // a failed STARTTLS or AUTH leaves it open
		}
		return conn{}, false, err
	}
	if raw == nil {
		_ = client.Close()
		return conn{}, false, errors.New("smtp: the dialer returned no connection")
	}
	return conn{c: client, raw: raw}, false, nil
}

// put keeps c for reuse, or says goodbye (QUIT) when enough are kept.
func (s *Sender) put(c conn) {
	s.mu.Lock()
	if !s.closed && len(s.idle) < s.cfg.MaxIdle {
		c.since = s.cfg.Clock.Now()
		s.idle = append(s.idle, c)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.quit(c)
}

func (s *Sender) quit(c conn) {
	_ = s.client.CloseWithSMTPClient(c.c)
	_ = c.raw.Close()
}

// Close says goodbye (QUIT) on the kept connections and keeps no more.
// Sends after Close still work, one connection each.
func (s *Sender) Close() error {
	s.mu.Lock()
	idle := s.idle
	s.idle, s.closed = nil, true
	s.mu.Unlock()
	for _, ic := range idle {
		s.quit(ic)
	}
	return nil
}
