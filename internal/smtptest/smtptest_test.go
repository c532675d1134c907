package smtptest_test

import (
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/internal/smtptest"
)

const raw = "From: a@example.test\r\nTo: b@example.test\r\nSubject: =?utf-8?q?Caf=C3=A9?=\r\n" +
	"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=XYZ\r\n\r\n" +
	"--XYZ\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCaf=C3=A9 =\r\nau lait\r\n" +
	"--XYZ\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nPHA+SGk8L3A+\r\n" +
	"--XYZ--\r\n"

// send speaks SMTP with go-smtp's own client, independent of the adapter
// under test elsewhere.
func send(t *testing.T, srv *smtptest.Server, tlsConf *tls.Config, auth sasl.Client) error {
	t.Helper()
	dial := smtp.Dial
	if tlsConf != nil {
		dial = func(addr string) (*smtp.Client, error) { return smtp.DialStartTLS(addr, tlsConf) }
	}
	c, err := dial(srv.Addr())
	if err != nil {
		return err
	}
	defer c.Close()
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	return c.SendMail("a@example.test", []string{"b@example.test", "c@example.test"}, strings.NewReader(raw))
}

func TestRecordsEnvelopeHeadersAndBody(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	require.NoError(t, send(t, srv, nil, nil))
	msgs := srv.Messages()
	require.Len(t, msgs, 1)
	m := msgs[0]
	assert.Equal(t, "a@example.test", m.From)
	assert.Equal(t, []string{"b@example.test", "c@example.test"}, m.To)
	assert.Equal(t, 1, m.N)
	assert.False(t, m.TLS)
	assert.Equal(t, raw, string(m.Raw))
	p, err := m.Parse()
	require.NoError(t, err)
	assert.Equal(t, "Café", p.Subject)
	assert.Equal(t, "Café au lait", p.Text, "the CRLF before a boundary belongs to the boundary")
	assert.Equal(t, "<p>Hi</p>", p.HTML)
	assert.Equal(t, "b@example.test", p.Header.Get("To"))
}

func TestSTARTTLSAndAuth(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{TLS: true, RequireTLS: true, Username: "mailer", Password: "s3cret"})
	trust := &tls.Config{RootCAs: srv.RootCAs(), ServerName: "localhost"}

	t.Run("plain text is refused", func(t *testing.T) {
		err := send(t, srv, nil, nil)
		var se *smtp.SMTPError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 530, se.Code)
	})
	t.Run("AUTH is not offered before STARTTLS", func(t *testing.T) {
		err := send(t, srv, nil, sasl.NewPlainClient("", "mailer", "s3cret"))
		require.Error(t, err)
	})
	t.Run("an untrusted certificate fails the handshake", func(t *testing.T) {
		err := send(t, srv, &tls.Config{ServerName: "localhost"}, nil)
		require.Error(t, err)
	})
	t.Run("wrong password", func(t *testing.T) {
		err := send(t, srv, trust, sasl.NewPlainClient("", "mailer", "guess"))
		var se *smtp.SMTPError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 535, se.Code)
	})
	t.Run("TLS without AUTH", func(t *testing.T) {
		err := send(t, srv, trust, nil)
		var se *smtp.SMTPError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 530, se.Code)
	})
	assert.Empty(t, srv.Messages(), "nothing was accepted so far")
	require.NoError(t, send(t, srv, trust, sasl.NewPlainClient("", "mailer", "s3cret")))
	msgs := srv.Messages()
	require.Len(t, msgs, 1)
	assert.True(t, msgs[0].TLS)
	assert.Equal(t, "mailer", msgs[0].User)
}

func TestFaults(t *testing.T) {
	tests := []struct {
		fault    smtptest.Fault
		wantCode int // 0: no SMTP reply at all
		kept     bool
	}{
		{smtptest.FaultTempFail, 451, false},
		{smtptest.FaultRateLimit, 451, false},
		{smtptest.FaultPermFail, 554, false},
		{smtptest.FaultDrop, 0, false},
		{smtptest.FaultDropAfterAccept, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			srv := smtptest.Start(t, smtptest.Options{})
			require.NoError(t, send(t, srv, nil, nil))
			srv.Fail(2, tt.fault)
			err := send(t, srv, nil, nil)
			require.Error(t, err)
			var se *smtp.SMTPError
			if tt.wantCode != 0 {
				require.ErrorAs(t, err, &se)
				assert.Equal(t, tt.wantCode, se.Code)
			} else {
				assert.False(t, errors.As(err, &se), "no reply, only a broken connection: %v", err)
			}
			want := 1
			if tt.kept {
				want = 2
			}
			assert.Len(t, srv.Messages(), want)
			assert.Equal(t, 2, srv.DataCount())
			require.NoError(t, send(t, srv, nil, nil), "the fault hit one DATA only")
			assert.Len(t, srv.Messages(), want+1)
		})
	}
}

func TestFailNextAndFailAll(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	srv.FailNext(smtptest.FaultTempFail)
	require.Error(t, send(t, srv, nil, nil))
	require.NoError(t, send(t, srv, nil, nil))
	srv.FailAll(smtptest.FaultPermFail)
	require.Error(t, send(t, srv, nil, nil))
	require.Error(t, send(t, srv, nil, nil))
	srv.FailAll(smtptest.FaultNone)
	require.NoError(t, send(t, srv, nil, nil))
	assert.Len(t, srv.Messages(), 2)
	assert.Equal(t, 5, srv.DataCount())
}

func TestStallHoldsTheReplyUntilTheClientGivesUp(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	srv.FailNext(smtptest.FaultStall)
	conn, err := net.Dial("tcp", srv.Addr())
	require.NoError(t, err)
	c := smtp.NewClient(conn)
	c.CommandTimeout, c.SubmissionTimeout = 300*time.Millisecond, 300*time.Millisecond
	defer c.Close()
	err = c.SendMail("a@example.test", []string{"b@example.test"}, strings.NewReader(raw))
	var ne net.Error
	require.ErrorAs(t, err, &ne)
	assert.True(t, ne.Timeout())
	assert.Empty(t, srv.Messages())
}

func TestClosedServerRefusesConnections(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	require.NoError(t, send(t, srv, nil, nil))
	srv.Close()
	require.Error(t, send(t, srv, nil, nil))
	assert.Len(t, srv.Messages(), 1, "messages stay readable")
	srv.Close() // twice is harmless
}

func TestConnectionsAndDrop(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	c, err := smtp.Dial(srv.Addr())
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SendMail("a@example.test", []string{"b@example.test"}, strings.NewReader(raw)))
	require.NoError(t, c.SendMail("a@example.test", []string{"b@example.test"}, strings.NewReader(raw)))
	assert.Equal(t, 1, srv.Connections(), "two messages over one connection")
	srv.DropConnections()
	assert.Error(t, c.Noop(), "the dropped connection is dead")
	require.NoError(t, send(t, srv, nil, nil), "the server still listens")
	assert.Equal(t, 2, srv.Connections())
	assert.Len(t, srv.Messages(), 3)
}
