package smtp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"
	"go.uber.org/zap"

	"github.com/stockadehq/stockade/internal/scrub"
	"github.com/stockadehq/stockade/ports"
)

// Sender submits e-mail over SMTP. It keeps up to Config.MaxIdle
// connections open for reuse. Safe for concurrent use; Close it when done.
type Sender struct {
	cfg    Config
	client *gomail.Client

	mu     sync.Mutex
	idle   []conn
	closed bool
}

// conn is one open connection: the SMTP client and the network
// connection under it, which a cancelled context closes (go-mail's own
// Close waits for the command in flight).
type conn struct {
	c     *gosmtp.Client
	raw   net.Conn
	since time.Time // when it went idle
}

var _ ports.EmailSender = (*Sender)(nil)

// New checks cfg and returns a Sender. It does not connect: the first
// send does, so a mail server that is down does not stop the app from
// starting. Errors match ports.ErrInvalid.
func New(cfg Config) (*Sender, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	tlsConfig := &tls.Config{ServerName: cfg.Host, RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
	opts := []gomail.Option{
		gomail.WithPort(cfg.Port),
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithTLSConfig(tlsConfig),
		gomail.WithDialContextFunc(dialer(cfg, tlsConfig)),
	}
	switch {
	case cfg.ImplicitTLS:
		// The dialer has done (and verified) the TLS handshake; go-mail
		// sees a *tls.Conn and counts the connection as encrypted.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case cfg.InsecurePlaintextLoopback:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if cfg.Username != "" {
		// The strongest mechanism both sides offer; over plain text to a
		// loopback relay, PLAIN (go-mail's discovery offers only
		// challenge-response mechanisms without TLS, which local relays
		// rarely speak).
		mech := gomail.SMTPAuthAutoDiscover
		if cfg.InsecurePlaintextLoopback {
			mech = gomail.SMTPAuthPlain
		}
		opts = append(opts, gomail.WithSMTPAuth(mech),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password.Reveal()))
	}
	if cfg.HELO != "" {
		opts = append(opts, gomail.WithHELO(cfg.HELO))
	}
	client, err := gomail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, ports.Invalid("smtp", err.Error())
	}
	return &Sender{cfg: cfg, client: client}, nil
}

// SendEmail validates m (ports.Email.Validate), builds a MIME message
// (text and/or HTML as multipart/alternative, the extra headers written
// exactly as given, Message-ID derived from m.IdempotencyKey) and submits
// it. It returns once the server answered 250 to the message; Sent's
// ProviderID is the Message-ID (without angle brackets).
//
// Errors: ErrInvalid for a malformed message, nothing sent, or when the
// server permanently refuses the recipient or the message (a 5xx reply:
// retrying cannot help). ErrUnavailable when the server cannot be
// reached, refuses TLS or the credentials, answers 4xx (busy, rate
// limited, try later) or the connection breaks — retry later.
//
// Duplicate window: if the connection breaks after the server took the
// final "." of a message but before its 250 reached us, the message was
// delivered and SendEmail reports ErrUnavailable; the retry delivers a
// second copy. Both copies carry the same Message-ID (when
// IdempotencyKey is set), so they are recognisable. SMTP offers no way to
// close this window.
func (s *Sender) SendEmail(ctx context.Context, m ports.Email) (ports.Sent, error) {
	if err := m.Validate(); err != nil {
		return ports.Sent{}, err
	}
	if err := ctx.Err(); err != nil {
		return ports.Sent{}, err
	}
	msg, id, err := s.build(m)
	if err != nil {
		return ports.Sent{}, err
	}
	for attempt := 0; ; attempt++ {
		c, reused, err := s.conn(ctx)
		if err != nil {
			return ports.Sent{}, s.fail(ctx, "connect", err)
		}
		stop := context.AfterFunc(ctx, func() { _ = c.raw.Close() })
		err = s.client.SendWithSMTPClient(c.c, msg)
		cancelled := !stop()
		if err == nil && !cancelled {
			s.put(c)
			s.cfg.Logger.Debug("email sent", zap.String("message_id", id))
			return ports.Sent{ProviderID: id}, nil
		}
		_ = c.raw.Close()
		if err == nil {
			// Sent, but the context ended as we finished: report success,
			// the message is with the server.
			s.cfg.Logger.Debug("email sent", zap.String("message_id", id))
			return ports.Sent{ProviderID: id}, nil
		}
		// A kept connection the server has dropped fails its NOOP check
		// before anything is sent: dial afresh once.
		var se *gomail.SendError
		if reused && attempt == 0 && errors.As(err, &se) && se.Reason == gomail.ErrConnCheck && !cancelled {
			continue
		}
		if cancelled {
			return ports.Sent{}, fmt.Errorf("smtp: %w (%w)", ctx.Err(), ports.ErrUnavailable)
		}
		return ports.Sent{}, s.fail(ctx, "send", err)
	}
}

// build makes the go-mail message and returns its Message-ID.
func (s *Sender) build(m ports.Email) (*gomail.Msg, string, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	from, _ := mail.ParseAddress(m.From) // Validate parsed it
	msg.FromMailAddress(from)
	to, _ := mail.ParseAddress(m.To)
	msg.ToMailAddress(to)
	if m.ReplyTo != "" {
		rt, _ := mail.ParseAddress(m.ReplyTo)
		msg.ReplyToMailAddress(rt)
	}
	msg.Subject(m.Subject)
	msg.SetDateWithValue(s.cfg.Clock.Now())
	id := messageID(m.IdempotencyKey, s.domain(from.Address))
	msg.SetMessageIDWithValue(id)
	for name, v := range m.Headers {
		// Validate allowed printable ASCII on one line only, so the value
		// goes out exactly as given (RFC 8058 needs List-Unsubscribe-Post
		// verbatim).
		msg.SetGenHeaderPreformatted(gomail.Header(name), v)
	}
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.Text != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	default:
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, id, nil
}

func (s *Sender) domain(fromAddr string) string {
	if s.cfg.MessageIDDomain != "" {
		return s.cfg.MessageIDDomain
	}
	return fromAddr[strings.LastIndexByte(fromAddr, '@')+1:]
}

// messageID returns the Message-ID (without brackets) of a message: for a
// key, the first 128 bits of its SHA-256 in hex, so every retry of one
// message carries the same ID and the key itself is not disclosed; without
// a key, 128 random bits.
func messageID(key, domain string) string {
	if key == "" {
		b := make([]byte, 16)
		rand.Read(b) // never fails since Go 1.24
		return hex.EncodeToString(b) + "@" + domain
	}
	sum := sha256.Sum256([]byte("stockade/message-id/v1\x00" + key))
	return hex.EncodeToString(sum[:16]) + "@" + domain
}

// fail logs a failure (without the message) and maps it to a ports error.
func (s *Sender) fail(ctx context.Context, stage string, err error) error {
	mapped := classify(err, s.credentials()...)
	if ctx.Err() != nil {
		mapped = fmt.Errorf("smtp %s: %w (%w)", stage, ctx.Err(), ports.ErrUnavailable)
	}
	s.cfg.Logger.Warn("email not sent", zap.String("stage", stage), zap.Error(mapped))
	return mapped
}

// credentials are the password as it is and as AUTH PLAIN and AUTH LOGIN
// send it (base64), for classify to mask.
func (s *Sender) credentials() []string {
	pw := s.cfg.Password.Reveal()
	if pw == "" {
		return nil
	}
	enc := base64.StdEncoding.EncodeToString
	return []string{enc([]byte("\x00" + s.cfg.Username + "\x00" + pw)), enc([]byte(s.cfg.Username + "\x00" + s.cfg.Username + "\x00" + pw)), enc([]byte(pw)), pw}
}

// classify maps a go-mail error: a 5xx reply to the recipient or the
// message is permanent (ErrInvalid), everything else can succeed later
// (ErrUnavailable).
// The text of a SendError names the recipient, so only its reason and
// reply code are kept. Any other error's text (a refused AUTH, a dial
// error) may quote the server's reply: it passes scrub.ProviderText with
// secrets (see credentials), so a server echoing the credentials leaks
// nothing.
func classify(err error, secrets ...string) error {
	var se *gomail.SendError
	if !errors.As(err, &se) {
		return fmt.Errorf("smtp: %s: %w", scrub.ProviderText(err.Error(), secrets...), ports.ErrUnavailable)
	}
	code := se.ErrorCode()
	if code >= 500 && code < 600 && !se.IsTemp() {
		switch se.Reason {
		case gomail.ErrSMTPRcptTo, gomail.ErrSMTPDataClose, gomail.ErrSMTPData, gomail.ErrSMTPMailFrom:
			return fmt.Errorf("smtp: %s: the server refused permanently (%d %s): %w", se.Reason, code, se.EnhancedStatusCode(), ports.ErrInvalid)
		}
	}
	if code == 0 {
		return fmt.Errorf("smtp: %s: connection failed: %w", se.Reason, ports.ErrUnavailable)
	}
	return fmt.Errorf("smtp: %s: the server answered %d %s: %w", se.Reason, code, se.EnhancedStatusCode(), ports.ErrUnavailable)
}
