package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/ports"
)

// consoleMail is the console provider's log entry of the last e-mail in
// logs (nil when none).
func consoleMail(logs string) map[string]any {
	var entry map[string]any
	for line := range strings.Lines(logs) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "email (console adapter, not sent)" {
			entry = rec
		}
	}
	return entry
}

// TestConsoleMailDefaultDependsOnTheEnvironment: with no redaction
// setting the console e-mail provider prints the whole mail, link
// included, in development (its purpose: a developer signs in with the
// link), and only the envelope in production; an explicit setting in
// development is honoured. Before the fix development redacted the body
// too.
func TestConsoleMailDefaultDependsOnTheEnvironment(t *testing.T) {
	const link = "https://acme.localhost:8080/auth/magic-link?token=dev-link-token-0123456789"
	mail := ports.Email{From: "a@example.test", To: "b@example.test", Subject: "Your sign-in link", Text: "Sign in: " + link, HTML: `<a href="` + link + `">Sign in</a>`}
	for _, c := range []struct {
		name     string
		edit     func(*app.Config)
		wantBody bool
	}{
		{"development default", func(*app.Config) {}, true},
		{"production default", func(c *app.Config) { c.Env, c.Email.AllowConsole = app.EnvProduction, true }, false},
		{"development asking for bodies", func(c *app.Config) { c.Email.ConsoleRedact = "bodies" }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := app.Default()
			c.edit(&cfg)
			require.NoError(t, cfg.Validate())
			logs := &syncBuffer{}
			s, err := app.NewSenders(cfg, app.SendersParts{Logger: zap.New(zapcoreJSON(logs))})
			require.NoError(t, err)
			_, err = s.Email.SendEmail(context.Background(), mail)
			require.NoError(t, err)
			entry := consoleMail(logs.String())
			require.NotNil(t, entry, "the console wrote the mail: %s", logs.String())
			assert.Equal(t, "b@example.test", entry["to"])
			assert.Equal(t, "Your sign-in link", entry["subject"])
			if c.wantBody {
				assert.Equal(t, mail.Text, entry["text"], "the mail is printed, link included")
				assert.Equal(t, mail.HTML, entry["html"])
				return
			}
			assert.Regexp(t, `^\[redacted: \d+ bytes\]$`, entry["text"], "envelope only")
			assert.NotContains(t, logs.String(), "dev-link-token", "no link")
		})
	}
}

// TestConsoleMailInDevelopmentPrintsTheLink is the README's first run:
// `stockade serve` on the embedded default (STOCKADE_ENV unset, console
// e-mail). A magic link requested over HTTP is printed in the log, and
// the link read from there signs in. Before the fix the console wrote
// only "[redacted: N bytes]", so a new user could not sign in.
func TestConsoleMailInDevelopmentPrintsTheLink(t *testing.T) {
	w := startMailWorldIn(t, false, mailToDevelopmentConsole)
	res, _ := w.call(http.MethodPost, "/auth/magic-link", map[string]string{"email": "ann@example.com"}, "")
	require.Equal(t, http.StatusAccepted, res.StatusCode)
	n, err := w.worker.RunOnce(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n, "the magic link's mail")

	entry := consoleMail(w.devLog.String())
	require.NotNil(t, entry, "the console wrote the mail")
	assert.Equal(t, "ann@example.com", entry["to"])
	text, _ := entry["text"].(string)
	var link *url.URL
	for _, field := range strings.Fields(text) {
		if strings.HasPrefix(field, "http://") || strings.HasPrefix(field, "https://") {
			link, err = url.Parse(field)
			require.NoError(t, err)
		}
	}
	require.NotNil(t, link, "the log holds the link: %q", text)
	assert.Empty(t, w.smtp.Messages(), "nothing was sent")
	token := link.Query().Get("token")
	res, _ = w.call(http.MethodPost, "/auth/magic-link/consume", map[string]string{"token": token}, "")
	assert.Equal(t, http.StatusOK, res.StatusCode, "the link from the log signs in")
}
