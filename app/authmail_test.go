package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/core/authmail"
	"github.com/stockadehq/stockade/internal/canary"
	"github.com/stockadehq/stockade/internal/smtptest"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
)

// The canaries of the auth mail test: secrets the test chooses.
const (
	annPassword  = "canary-ann-Pa55word-7f3e"
	joePassword  = "canary-joe-Pa55word-91ab"
	canaryCardNo = "4000056655665556"
)

// mailWorld is the whole server (fx, HTTP on a loopback port, the auth
// mail worker) with e-mail going to an in-process SMTP server and every
// log line to a canary sink.
type mailWorld struct {
	t    *testing.T
	base string
	sink *canary.Sink
	smtp *smtptest.Server
	shop ports.Shop
	ann  ports.User
	// worker is the auth mail worker; with the console provider it polls
	// once an hour, and the test runs its rounds.
	worker *authmail.Worker
	// devLog is the server's log with mailToDevelopmentConsole.
	devLog *syncBuffer
}

// mailMode is where startMailWorld's server sends auth mail.
type mailMode int

const (
	// mailBySMTP: STOCKADE_EMAIL_PROVIDER=smtp to the world's SMTP server.
	mailBySMTP mailMode = iota
	// mailToProductionConsole: production with the console provider
	// explicitly allowed.
	mailToProductionConsole
	// mailToDevelopmentConsole: the embedded default (development, the
	// console provider, no redaction setting). The console prints links
	// there by design, so the log goes to the world's devLog, not to the
	// sink (which still sees every answer).
	mailToDevelopmentConsole
)

// startMailWorld starts the server; with console true it runs in
// production with the console e-mail provider explicitly allowed.
func startMailWorld(t *testing.T, postgres, console bool) *mailWorld {
	t.Helper()
	if console {
		return startMailWorldIn(t, postgres, mailToProductionConsole)
	}
	return startMailWorldIn(t, postgres, mailBySMTP)
}

// startMailWorldIn starts the server with auth mail going where mode says.
func startMailWorldIn(t *testing.T, postgres bool, mode mailMode) *mailWorld {
	t.Helper()
	w := &mailWorld{t: t, sink: canary.New(t), smtp: smtptest.Start(t, smtptest.Options{})}
	cfg := fxConfig(t)
	if postgres {
		pg := testinfra.StartPostgres(t)
		cfg.Database.URL, cfg.Database.MigrateURL = pg.AppURL, pg.OwnerURL
	}
	cfg.HTTP.PublicURL = "http://stockade.test"
	cfg.Log.Level = "debug"
	cfg.Email = app.EmailConfig{Provider: "smtp", SMTPHost: "127.0.0.1", SMTPPort: w.smtp.Port(), SMTPTLS: "none"}
	extra := []fx.Option{}
	var logTo io.Writer = w.sink
	switch mode {
	case mailToProductionConsole:
		cfg.Env = app.EnvProduction
		cfg.Email = app.EmailConfig{AllowConsole: true}
		extra = append(extra, fx.Supply(authmail.WorkerConfig{PollInterval: time.Hour}))
	case mailToDevelopmentConsole:
		cfg.Email = app.EmailConfig{}
		w.devLog = &syncBuffer{}
		logTo = w.devLog
		extra = append(extra, fx.Supply(authmail.WorkerConfig{PollInterval: time.Hour}))
	}
	require.NoError(t, cfg.Validate())
	var srv *app.Server
	var store ports.Store
	var svc *auth.Service
	extra = append(extra, app.WithLogOutput(logTo), fx.Populate(&srv, &store, &svc, &w.worker))
	a := app.New(cfg, extra...)
	require.NoError(t, a.Err())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, a.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		assert.NoError(t, a.Stop(ctx))
	})
	w.base = "http://" + srv.Addr().String()

	w.sink.Secret("ann's password", annPassword)
	w.sink.Secret("joe's password", joePassword)
	w.sink.Secret("a card number", canaryCardNo)
	var err error
	w.ann, err = svc.CreateUser(ctx, "ann@example.com", "Ann Owner", annPassword)
	require.NoError(t, err)
	org := ports.Org{ID: ports.NewOrgID(), Name: "Acme Holdings"}
	w.shop = ports.Shop{ID: ports.NewShopID(), OrgID: org.ID, Slug: "acme", Name: "Acme Plumbing " + canaryCardNo[:4], Status: ports.ShopActive}
	require.NoError(t, store.Global(ctx, func(ctx context.Context, tx ports.GlobalTx) error {
		if _, err := tx.Orgs().Create(ctx, org); err != nil {
			return err
		}
		_, err := tx.Shops().Create(ctx, w.shop)
		return err
	}))
	require.NoError(t, store.InShop(ctx, w.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Memberships().Add(ctx, w.ann.ID, ports.RoleOwner)
		return err
	}))
	return w
}

// call sends a JSON request to the shop's host and records the answer's
// body with the sink.
func (w *mailWorld) call(method, path string, body any, cookie string) (*http.Response, string) {
	w.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(w.t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, w.base+path, r)
	require.NoError(w.t, err)
	req.Host = w.shop.Slug + ".stockade.test"
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: auth.SessionCookieName, Value: cookie})
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(w.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(w.t, err)
	w.sink.Seen(method+" "+path+" answer", string(b))
	return res, string(b)
}

// lastLink waits for the nth message by SMTP and returns the link in its
// text and the link's token, registered as a canary.
func (w *mailWorld) lastLink(n int, to, name string) (*url.URL, string) {
	w.t.Helper()
	msgs := w.smtp.WaitForMessages(w.t, n, 10*time.Second)
	m := msgs[n-1]
	assert.Equal(w.t, []string{to}, m.To)
	p, err := m.Parse()
	require.NoError(w.t, err)
	for _, field := range strings.Fields(p.Text) {
		if strings.HasPrefix(field, "http://") || strings.HasPrefix(field, "https://") {
			u, err := url.Parse(field)
			require.NoError(w.t, err)
			token := u.Query().Get("token")
			w.sink.Secret(name, token)
			return u, token
		}
	}
	w.t.Fatalf("no link in the mail %q", p.Subject)
	return nil, ""
}

func sessionOf(t *testing.T, w *mailWorld, res *http.Response, name string) string {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == auth.SessionCookieName && c.Value != "" {
			w.sink.Secret(name, c.Value)
			return c.Value
		}
	}
	t.Fatalf("no session cookie")
	return ""
}

// TestAuthMailArrivesBySMTPAndLeaksNothing is issue 16's acceptance 3 for
// the magic link and the invitation, and the canary test of the whole
// server: with STOCKADE_EMAIL_PROVIDER=smtp a sign-in link and an
// invitation arrive by SMTP, both links work, and no password, link
// token, session cookie or card number appears in any log line (debug
// level) or answer body. Before the fix the console mailer wrote the
// magic link into the log and nothing reached the SMTP server.
func TestAuthMailArrivesBySMTPAndLeaksNothing(t *testing.T) {
	for _, backend := range []struct {
		name     string
		postgres bool
	}{{"sqlite", false}, {"postgres", true}} {
		t.Run(backend.name, func(t *testing.T) {
			w := startMailWorld(t, backend.postgres, false)

			res, _ := w.call(http.MethodPost, "/auth/magic-link", map[string]string{"email": "ann@example.com"}, "")
			require.Equal(t, http.StatusAccepted, res.StatusCode)
			link, token := w.lastLink(1, "ann@example.com", "the magic link token")
			assert.Equal(t, "acme.stockade.test", link.Host)
			res, _ = w.call(http.MethodPost, "/auth/magic-link/consume", map[string]string{"token": token}, "")
			require.Equal(t, http.StatusOK, res.StatusCode, "the mailed link signs in")
			annSession := sessionOf(t, w, res, "ann's session cookie")
			res, _ = w.call(http.MethodPost, "/auth/magic-link/consume", map[string]string{"token": token}, "")
			assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "once")

			res, _ = w.call(http.MethodPost, "/invitations", map[string]string{"email": "joe@example.com", "role": "tech"}, annSession)
			require.Equal(t, http.StatusCreated, res.StatusCode)
			link, token = w.lastLink(2, "joe@example.com", "the invitation token")
			assert.Equal(t, "/invitation", link.Path)
			res, _ = w.call(http.MethodPost, "/invitations/accept", map[string]string{"token": token, "name": "Joe Tech", "password": joePassword}, "")
			require.Equal(t, http.StatusOK, res.StatusCode, "the mailed invitation is accepted")
			sessionOf(t, w, res, "joe's session cookie")
			res, _ = w.call(http.MethodPost, "/auth/signin", map[string]string{"email": "ann@example.com", "password": "wrong-" + annPassword}, "")
			assert.Equal(t, http.StatusUnauthorized, res.StatusCode)

			assert.NotContains(t, w.sink.Text(), "mail (console adapter", "nothing went to the console")
		})
	}
}

// TestConsoleMailInProductionWritesOnlyTheEnvelope: with the console
// provider explicitly allowed in production, a magic link is "sent" as
// one log entry naming the recipient, subject and mail ID, and neither
// its body nor its token is in the log.
func TestConsoleMailInProductionWritesOnlyTheEnvelope(t *testing.T) {
	w := startMailWorld(t, false, true)
	res, _ := w.call(http.MethodPost, "/auth/magic-link", map[string]string{"email": "ann@example.com"}, "")
	require.Equal(t, http.StatusAccepted, res.StatusCode)
	n, err := w.worker.RunOnce(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n, "the magic link's mail")

	var entry map[string]any
	for line := range strings.Lines(w.sink.Text()) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "email (console adapter, not sent)" {
			entry = rec
		}
	}
	require.NotNil(t, entry, "the console wrote that a mail was written")
	assert.Equal(t, "ann@example.com", entry["to"])
	assert.Equal(t, "Your sign-in link for "+w.shop.Name, entry["subject"])
	assert.NotEmpty(t, entry["idempotency_key"], "the mail's ID")
	assert.Regexp(t, `^\[redacted: \d+ bytes\]$`, entry["text"], "no body")
	assert.Empty(t, w.smtp.Messages())
	// The canary sink fails the test if the link's token is in any line.
}
