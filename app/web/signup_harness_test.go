package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/internal/smtptest"
)

// signupSite is a site whose auth mail goes by SMTP to an in-process
// server, and whose public URL is http://localhost:<port>, so the mailed
// links reach the running server (the platform's host is localhost, a
// shop's host is <slug>.localhost).
type signupSite struct {
	*site
	smtp *smtptest.Server
}

// signupNewSite starts Stockade as newSite does, with SMTP mail and a
// public URL on its own port.
func signupNewSite(t *testing.T, opts web.Options) *signupSite {
	t.Helper()
	mail := smtptest.Start(t, smtptest.Options{})
	s := startSite(t, siteOptions{Web: opts, OwnPort: true, Edit: func(cfg *app.Config) {
		cfg.Email = app.EmailConfig{Provider: "smtp", SMTPHost: "127.0.0.1", SMTPPort: mail.Port(), SMTPTLS: "none"}
	}})
	return &signupSite{site: s, smtp: mail}
}

// platform is the platform's own host with the server's port.
func (s *signupSite) platform() string { return fmt.Sprintf("localhost:%d", s.port) }

// doOn sends method path to host (a Host header) over the loopback
// connection, as a same-origin request, with the cookie when not empty.
func (s *signupSite) doOn(t *testing.T, host, method, path string, form url.Values, cookie string) *http.Response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, fmt.Sprintf("http://127.0.0.1:%d%s", s.port, path), body)
	require.NoError(t, err)
	req.Host = host
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	req.Header.Set("Accept", "text/html")
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { res.Body.Close() })
	return res
}

// signupMail waits for the nth message (1-based) to address to arrive by
// SMTP and returns its subject and text.
func (s *signupSite) signupMail(t *testing.T, to string, n int) (subject, text string) {
	t.Helper()
	for k := 1; ; k++ {
		msgs := s.smtp.WaitForMessages(t, k, 15*time.Second)
		seen := 0
		for _, m := range msgs {
			if len(m.To) == 1 && m.To[0] == to {
				seen++
				if seen == n {
					p, err := m.Parse()
					require.NoError(t, err)
					return p.Subject, p.Text
				}
			}
		}
		k = len(msgs)
	}
}

// signupLink returns the link in the nth message to address and its
// token.
func (s *signupSite) signupLink(t *testing.T, to string, n int) (*url.URL, string) {
	t.Helper()
	subject, text := s.signupMail(t, to, n)
	for _, field := range strings.Fields(text) {
		if strings.HasPrefix(field, "http://") || strings.HasPrefix(field, "https://") {
			u, err := url.Parse(field)
			require.NoError(t, err)
			return u, u.Query().Get("token")
		}
	}
	t.Fatalf("no link in the mail %q", subject)
	return nil, ""
}

// signupCookie returns the session cookie res sets, as a Cookie header
// value.
func signupCookie(t *testing.T, res *http.Response) string {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == "__Host-stockade_session" && c.Value != "" {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatal("no session cookie was set")
	return ""
}
