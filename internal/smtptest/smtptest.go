// Package smtptest runs a real SMTP server in-process for tests, built on
// github.com/emersion/go-smtp's server: the client under test speaks the
// protocol for real (EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA) over a
// loopback TCP port, and the server records every message it accepted.
//
//	srv := smtptest.Start(t, smtptest.Options{TLS: true, Username: "u", Password: "p"})
//	// point the client at srv.Host(), srv.Port(), trusting srv.RootCAs()
//	srv.Fail(2, smtptest.FaultDropAfterAccept) // the 2nd DATA: kept, but the reply is lost
//	…
//	msgs := srv.Messages()
//
// A message is recorded before the server answers its DATA, so once the
// client's send has returned, Messages holds it: no polling needed.
//
// Faults are injected per DATA command, counted from 1 since the server
// started (DataCount tells how many it has seen), which makes "kill the
// worker after the provider accepted" reproducible: FaultDropAfterAccept
// keeps the message and closes the connection before the 250 reply, so the
// client cannot tell it was delivered.
package smtptest

import (
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/mail"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options configure a Server. The zero value is a plain server on
// 127.0.0.1 without TLS or authentication.
type Options struct {
	// TLS offers STARTTLS with a fresh self-signed certificate for
	// localhost, 127.0.0.1 and ::1; clients trust it through RootCAs.
	TLS bool
	// CertHosts are the names and IP addresses the test certificate is
	// made for; default localhost, 127.0.0.1 and ::1.
	CertHosts []string
	// ImplicitTLS speaks TLS from the first byte (SMTPS, as on port 465)
	// with the same test certificate; STARTTLS is then not offered.
	ImplicitTLS bool
	// RequireTLS refuses MAIL FROM (530 5.7.0) on a connection that has
	// not done STARTTLS. It needs TLS.
	RequireTLS bool
	// Username and Password, when Username is set, make AUTH PLAIN
	// mandatory before MAIL FROM (530 5.7.0 otherwise); wrong credentials
	// get 535 5.7.8. With TLS on, AUTH is offered only after STARTTLS.
	Username, Password string
	// MaxMessageBytes caps a message (552 above it); 0 means 10 MiB.
	MaxMessageBytes int64
}

// Fault is how the server fails one DATA command.
type Fault int

// The faults Fail injects. Each names what the client sees and whether
// the message was kept.
const (
	// FaultNone answers normally (250) and keeps the message.
	FaultNone Fault = iota
	// FaultTempFail answers 451 4.3.0 (transient: retry later); not kept.
	FaultTempFail
	// FaultRateLimit answers 451 4.7.1 "rate limited"; not kept.
	FaultRateLimit
	// FaultPermFail answers 554 5.6.0 (permanent rejection); not kept.
	FaultPermFail
	// FaultDrop closes the connection after reading the message, before
	// any reply; not kept.
	FaultDrop
	// FaultDropAfterAccept keeps the message, then closes the connection
	// before the 250 reply: the provider has it, the client sees an error.
	// This is the duplicate window of a transport without idempotency
	// keys.
	FaultDropAfterAccept
	// FaultStall keeps the connection open without replying until the
	// client gives up (its timeout) or the server closes; not kept.
	FaultStall
)

// Message is one message the server accepted.
type Message struct {
	From string   // MAIL FROM address
	To   []string // RCPT TO addresses, in order
	Raw  []byte   // the message as received (headers and body, CRLF line ends)
	// TLS reports whether the message came over a STARTTLS connection.
	TLS bool
	// User is the authenticated user name, "" without AUTH.
	User string
	// N is the number of the DATA command that carried the message
	// (1-based, counted since the server started).
	N int
}

// Header parses the message's header.
func (m Message) Header() (mail.Header, error) {
	msg, err := mail.ReadMessage(newBytesReader(m.Raw))
	if err != nil {
		return nil, err
	}
	return msg.Header, nil
}

// Server is a running in-process SMTP server. Its methods are safe for
// concurrent use.
type Server struct {
	srv  *smtp.Server
	ln   net.Listener
	opts Options
	cert *testCert

	mu       sync.Mutex
	conns    map[net.Conn]bool // open connections
	accepted int
	messages []Message
	data     int
	faults   map[int]Fault
	closed   chan struct{}
	done     chan struct{}
	arrived  chan struct{} // signalled (never blocking) when a message is kept
}

// Start runs a server on a free loopback port and stops it when the test
// ends. It fails the test if the server cannot start.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// New runs a server on a free loopback port; Close stops it. Tests use
// Start; New is for benchmarks and programs.
func New(opts Options) (*Server, error) {
	if opts.RequireTLS && !opts.TLS && !opts.ImplicitTLS {
		return nil, errors.New("RequireTLS needs TLS or ImplicitTLS")
	}
	if opts.TLS && opts.ImplicitTLS {
		return nil, errors.New("TLS (STARTTLS) and ImplicitTLS exclude each other")
	}
	s := &Server{opts: opts, faults: map[int]Fault{}, conns: map[net.Conn]bool{}, closed: make(chan struct{}), done: make(chan struct{}),
		arrived: make(chan struct{}, 1)}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "localhost"
	srv.MaxMessageBytes = opts.MaxMessageBytes
	if srv.MaxMessageBytes == 0 {
		srv.MaxMessageBytes = 10 << 20
	}
	srv.MaxRecipients = 50
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.AllowInsecureAuth = !opts.TLS
	if opts.TLS || opts.ImplicitTLS {
		c, err := newTestCert(opts.CertHosts)
		if err != nil {
			return nil, err
		}
		s.cert = c
	}
	if opts.TLS {
		srv.TLSConfig = s.cert.serverConfig()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.srv, s.ln = srv, ln
	var serve net.Listener = &trackingListener{Listener: ln, s: s}
	if opts.ImplicitTLS {
		serve = tls.NewListener(serve, s.cert.serverConfig())
	}
	go func() {
		defer close(s.done)
		_ = srv.Serve(serve) // returns when Close closes the listener
	}()
	return s, nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host is the server's IP address, "127.0.0.1".
func (s *Server) Host() string { return s.ln.Addr().(*net.TCPAddr).IP.String() }

// Port is the server's TCP port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Close stops the server: new connections are refused (a "down" mail
// server) and open ones are closed. Messages stays readable. Calling
// Close again does nothing.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.closed:
		s.mu.Unlock()
		return
	default:
		close(s.closed)
	}
	s.mu.Unlock()
	_ = s.srv.Close()
	_ = s.ln.Close() // Serve may not have registered the listener yet
	<-s.done
}

// Fail makes the n-th DATA command (1-based, counted since the server
// started) fail with f. Use DataCount()+1 for the next one.
func (s *Server) Fail(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[n] = f
}

// FailNext makes the next DATA command fail with f.
func (s *Server) FailNext(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[s.data+1] = f
}

// FailAll makes every later DATA command fail with f (FaultNone clears
// the faults not yet reached).
func (s *Server) FailAll(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for n := range s.faults {
		if n > s.data {
			delete(s.faults, n)
		}
	}
	s.faults[-1] = f
}

// Connections is the number of connections accepted so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// DropConnections closes every open connection without a word, as a
// server does to clients that idle too long. The server keeps listening.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// trackingListener counts and remembers the server's connections.
type trackingListener struct {
	net.Listener
	s *Server
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, s: l.s}
	l.s.mu.Lock()
	l.s.accepted++
	l.s.conns[tc] = true
	l.s.mu.Unlock()
	return tc, nil
}

type trackedConn struct {
	net.Conn
	s    *Server
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
	})
	return c.Conn.Close()
}

// DataCount is the number of DATA commands received so far.
func (s *Server) DataCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// Messages returns a copy of the messages accepted so far, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Reset forgets the messages accepted so far (the DATA count and the
// faults stay).
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = nil
}

// take counts one DATA command and returns its number and fault.
func (s *Server) take() (int, Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data++
	f, ok := s.faults[s.data]
	if !ok {
		f = s.faults[-1]
	}
	return s.data, f
}

func (s *Server) keep(m Message) {
	s.mu.Lock()
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	select {
	case s.arrived <- struct{}{}:
	default:
	}
}

// WaitForMessages returns the messages accepted so far once there are at
// least n, woken by each arrival; it fails the test if they have not
// arrived within timeout.
func (s *Server) WaitForMessages(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if got := s.Messages(); len(got) >= n {
			return got
		}
		select {
		case <-s.arrived:
		case <-deadline.C:
			t.Fatalf("smtptest: %d message(s) arrived within %s, want %d", len(s.Messages()), timeout, n)
			return nil
		}
	}
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, c: c}, nil
}

// session is one SMTP transaction state of one connection.
type session struct {
	s    *Server
	c    *smtp.Conn
	user string
	from string
	to   []string
}

var (
	errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	errTLSRequired  = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Must issue a STARTTLS command first"}
	errAuthFailed   = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
)

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || ss.s.opts.Username == "" {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.opts.Username || password != ss.s.opts.Password || (identity != "" && identity != username) {
			return errAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if _, isTLS := ss.c.TLSConnectionState(); ss.s.opts.RequireTLS && !isTLS {
		return errTLSRequired
	}
	if ss.s.opts.Username != "" && ss.user == "" {
		return errAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	n, fault := ss.s.take()
	_, isTLS := ss.c.TLSConnectionState()
	m := Message{From: ss.from, To: append([]string(nil), ss.to...), Raw: raw, TLS: isTLS, User: ss.user, N: n}
	switch fault {
	case FaultTempFail:
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure (injected)"}
	case FaultRateLimit:
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Rate limited, try again later (injected)"}
	case FaultPermFail:
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message rejected (injected)"}
	case FaultDrop:
		_ = ss.c.Conn().Close()
		return errors.New("connection dropped (injected)")
	case FaultDropAfterAccept:
		ss.s.keep(m)
		_ = ss.c.Conn().Close()
		return errors.New("connection dropped after accepting (injected)")
	case FaultStall:
		<-ss.s.closed
		return errors.New("server closed")
	}
	ss.s.keep(m)
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

// String names a fault for test messages.
func (f Fault) String() string {
	switch f {
	case FaultNone:
		return "none"
	case FaultTempFail:
		return "temp-fail"
	case FaultRateLimit:
		return "rate-limit"
	case FaultPermFail:
		return "perm-fail"
	case FaultDrop:
		return "drop"
	case FaultDropAfterAccept:
		return "drop-after-accept"
	case FaultStall:
		return "stall"
	}
	return "fault(" + strconv.Itoa(int(f)) + ")"
}
