package smtp_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/stockadehq/stockade/adapters/smtp"
	"github.com/stockadehq/stockade/internal/canary"
	"github.com/stockadehq/stockade/internal/smtptest"
	"github.com/stockadehq/stockade/ports"
)

// echoingServer is a hostile or broken SMTP server on loopback: it offers
// AUTH PLAIN and answers the AUTH command (or, with atData, the message)
// with reply, in which "%s" is replaced by what the client sent there.
func echoingServer(t *testing.T, reply string, atData bool) (host string, port int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(conn)
				say := func(s string) { _, _ = conn.Write([]byte(s + "\r\n")) }
				say("220 echo.test ESMTP")
				var body strings.Builder
				inData := false
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					line = strings.TrimRight(line, "\r\n")
					if inData {
						if line == "." {
							say(strings.ReplaceAll(reply, "%s", body.String()))
							inData = false
							continue
						}
						body.WriteString(line + " ")
						continue
					}
					switch cmd := strings.ToUpper(strings.SplitN(line, " ", 2)[0]); cmd {
					case "EHLO", "HELO":
						say("250-echo.test")
						say("250 AUTH PLAIN")
					case "AUTH":
						if atData {
							say("235 2.7.0 ok")
						} else {
							say(strings.ReplaceAll(reply, "%s", line))
						}
					case "MAIL", "RCPT", "RSET", "NOOP":
						say("250 ok")
					case "DATA":
						say("354 go on")
						inData = true
					case "QUIT":
						say("221 bye")
						return
					default:
						say("502 no")
					}
				}
			}()
		}
	}()
	addr := ln.Addr().(*net.TCPAddr)
	return "127.0.0.1", addr.Port
}

// TestServerRepliesEchoingSecretsLeakNothing is issue 16's canary over
// the SMTP adapter: a server whose reply to AUTH echoes the credentials
// (plain and base64, as sent), or whose reply to the message quotes its
// text and links, a refused password, and no server at all leave the
// password and the mail's link token out of the adapter's log and error.
func TestServerRepliesEchoingSecretsLeakNothing(t *testing.T) {
	const password = "smtp-Canary-pw-0123"
	const text = "Sign in: https://acme.example.test/auth/magic-link?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	for _, c := range []struct {
		name string
		dial func(t *testing.T) (string, int)
	}{
		{"AUTH refused, echoed", func(t *testing.T) (string, int) {
			return echoingServer(t, "535 5.7.8 credentials %s ("+password+") refused", false)
		}},
		{"message refused, quoted", func(t *testing.T) (string, int) {
			return echoingServer(t, "554 5.6.0 message refused: %s", true)
		}},
		{"message deferred, quoted", func(t *testing.T) (string, int) {
			return echoingServer(t, "451 4.3.0 try later: %s", true)
		}},
		{"wrong password", func(t *testing.T) (string, int) {
			srv := smtptest.Start(t, smtptest.Options{Username: "mailer", Password: "another-password-1"})
			return srv.Host(), srv.Port()
		}},
		{"no server", func(t *testing.T) (string, int) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			port := ln.Addr().(*net.TCPAddr).Port
			require.NoError(t, ln.Close())
			return "127.0.0.1", port
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink := canary.New(t)
			sink.Secret("the SMTP password", password)
			sink.Secret("the SMTP AUTH PLAIN credential", base64.StdEncoding.EncodeToString([]byte("\x00mailer\x00"+password)))
			host, port := c.dial(t)
			s, err := smtp.New(smtp.Config{Host: host, Port: port, InsecurePlaintextLoopback: true, Username: "mailer", Password: smtp.Secret(password),
				Timeout: 5 * time.Second, Logger: zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(sink), zapcore.DebugLevel))})
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.Close() })
			_, err = s.SendEmail(context.Background(), ports.Email{From: "a@example.test", To: "b@example.test", Subject: "Your sign-in link", Text: text})
			require.Error(t, err)
			sink.SeenError("the error of SendEmail", err)
		})
	}
}
