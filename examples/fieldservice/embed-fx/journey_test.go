package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/stockadetest"
)

// journey is the app started for TestBrowserJourney: Stockade with the
// field-service module on a known loopback port, its public URL
// http://localhost:<port> (a shop's host is <slug>.localhost:<port>), its
// mail sent by SMTP to an in-process server.
type journey struct {
	port  int
	smtp  *stockadetest.MailServer
	store ports.Store
	users *auth.Service
}

// journeyServe starts the app as boardServe does, with SMTP mail.
func journeyServe(t *testing.T) *journey {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })  // if the server never took it
	port := l.Addr().(*net.TCPAddr).Port // held until the server serves it: released, another process could take it
	mail := stockadetest.StartMailServer(t, stockadetest.MailOptions{})
	cfg := config(t)
	cfg.HTTP.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	cfg.HTTP.PublicURL = fmt.Sprintf("http://localhost:%d", port)
	cfg.Email = app.EmailConfig{Provider: "smtp", SMTPHost: "127.0.0.1", SMTPPort: mail.Port(), SMTPTLS: "none"}
	mod, err := Module()
	require.NoError(t, err)
	j := &journey{port: port, smtp: mail}
	var srv *app.Server
	a := app.New(cfg, mod, app.WithLogOutput(io.Discard), fx.Populate(&j.store, &j.users, &srv))
	require.NoError(t, a.Err())
	srv.UseListener(l)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	require.NoError(t, a.Start(ctx))
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	return j
}

// journeyLink waits for the nth message (1-based) to address to arrive by
// SMTP and returns the first link in its text.
func (j *journey) journeyLink(t *testing.T, to string, n int) string {
	t.Helper()
	for k := 1; ; k++ {
		msgs := j.smtp.WaitForMessages(t, k, 15*time.Second)
		seen := 0
		for _, m := range msgs {
			if len(m.To) != 1 || m.To[0] != to {
				continue
			}
			if seen++; seen < n {
				continue
			}
			p, err := m.Parse()
			require.NoError(t, err)
			for _, field := range strings.Fields(p.Text) {
				if strings.HasPrefix(field, "http://") || strings.HasPrefix(field, "https://") {
					return field
				}
			}
			t.Fatalf("no link in the mail %q", p.Subject)
		}
		k = len(msgs)
	}
}

// journeyAPI sends method path with a JSON body to host over the loopback
// connection, with cookie when not empty, and returns the status and the
// session cookie the answer sets (empty when none).
func (j *journey) journeyAPI(t *testing.T, host, method, path string, body any, cookie string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		r = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(t.Context(), method, fmt.Sprintf("http://127.0.0.1:%d%s", j.port, path), r)
	require.NoError(t, err)
	req.Host = host
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	set := ""
	for _, ck := range res.Cookies() {
		if ck.Name == auth.SessionCookieName && ck.Value != "" {
			set = ck.Name + "=" + ck.Value
		}
	}
	return res.StatusCode, set
}

// journeySession signs email in on host through the API with password and
// steps up with a recovery code, and returns the full session's cookie.
func (j *journey) journeySession(t *testing.T, host, email, password, recovery string) string {
	t.Helper()
	status, cookie := j.journeyAPI(t, host, http.MethodPost, "/auth/signin", map[string]string{"email": email, "password": password}, "")
	require.Equal(t, http.StatusOK, status, "API sign-in of %s", email)
	require.NotEmpty(t, cookie)
	status, stepped := j.journeyAPI(t, host, http.MethodPost, "/auth/2fa/step-up", map[string]string{"recovery_code": recovery}, cookie)
	require.Equal(t, http.StatusOK, status, "step-up with a recovery code")
	if stepped != "" {
		cookie = stepped
	}
	status, _ = j.journeyAPI(t, host, http.MethodGet, "/auth/sessions", nil, cookie)
	require.Equal(t, http.StatusOK, status, "the session is a full one")
	return cookie
}

// journeyTab opens a tab on alloc, in a browser context of its own (its
// own cookie jar) when isolated, bounded by three minutes.
func journeyTab(t *testing.T, alloc context.Context, isolated bool) context.Context {
	t.Helper()
	var opts []chromedp.ContextOption
	if isolated {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	tab, cancelTab := chromedp.NewContext(alloc, opts...)
	t.Cleanup(cancelTab)
	require.NoError(t, chromedp.Do(tab), "open a tab")
	ctx, cancel := context.WithTimeout(tab, 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// journeyText returns the trimmed text of the first element css selects.
func journeyText(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	require.NoError(t, err, "text of %s", css)
	return strings.TrimSpace(v)
}

// journeyEval evaluates expr in the page.
func journeyEval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, "evaluate %s", expr)
	return v
}

// journeyLocation is the tab's URL.
func journeyLocation(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	return loc
}

// journeyCookie is the session cookie the tab holds for u, as a Cookie
// header value.
func journeyCookie(t *testing.T, ctx context.Context, u string) string {
	t.Helper()
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{u}})
	require.NoError(t, err)
	for _, c := range cookies.Cookies {
		if c.Name == auth.SessionCookieName && c.Value != "" {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatalf("no session cookie for %s", u)
	return ""
}

// TestBrowserJourney is issue 22's first acceptance as one journey in one
// Chromium: a person signs up on the platform's host, proves the mailbox
// with the mailed link, creates a shop and signs in on its host; enrols
// TOTP; signs out another session of theirs (its cookie stops working);
// changes the password (the other sessions end, the new password signs
// in); invites a member, who accepts in a browser context of their own;
// an operator impersonates that member and the banner shows on every page
// visited, Stockade's and the embedding app's, until Exit ends the
// session; the Owner's audit log shows each of those events.
func TestBrowserJourney(t *testing.T) {
	j := journeyServe(t)
	platform := fmt.Sprintf("http://localhost:%d", j.port)
	email := "owner-" + strings.ToLower(rand.Text()[:12]) + "@example.com"
	password := rand.Text() + "-Aa1!"
	slug := "journey-" + strings.ToLower(rand.Text()[:8])
	shopHost := fmt.Sprintf("%s.localhost:%d", slug, j.port)
	shopURL := func(path string) string { return "http://" + shopHost + path }

	ch := stockadetest.StartBrowser(t, "MAP *.localhost 127.0.0.1")
	alloc, cancelAlloc := remote.NewAllocator(context.Background(), ch.WebSocketURL)
	t.Cleanup(cancelAlloc)
	owner := journeyTab(t, alloc, true)

	// 1. Sign up, prove the mailbox, create the shop, sign in on its host.
	require.NoError(t, chromedp.Do(owner,
		chromedp.Navigate(platform+web.SignUpPath),
		chromedp.WaitVisible(chromedp.CSS("#su-email")),
		chromedp.SendKeys(chromedp.CSS("#su-name"), "Jo Journey"),
		chromedp.SendKeys(chromedp.CSS("#su-email"), email),
		chromedp.SendKeys(chromedp.CSS("#su-password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/signup"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-notice")),
	))
	require.Contains(t, journeyText(t, owner, "h1"), "Check your mailbox")
	require.NoError(t, chromedp.Do(owner,
		chromedp.Navigate(j.journeyLink(t, email, 1)),
		chromedp.WaitVisible(chromedp.CSS("#shop-name")),
		chromedp.SendKeys(chromedp.CSS("#shop-name"), "Journey Plumbing"),
		chromedp.SendKeys(chromedp.CSS("#shop-slug"), slug),
		chromedp.Click(chromedp.CSS(`form[action="/signup/verify"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("a.st-signin-link")),
		chromedp.Click(chromedp.CSS("a.st-signin-link")),
		chromedp.WaitVisible(chromedp.CSS("#pw-email")),
	))
	require.Equal(t, shopURL(web.SignInPath+"?done=account-ready"), journeyLocation(t, owner))
	require.NoError(t, chromedp.Do(owner,
		chromedp.SendKeys(chromedp.CSS("#pw-email"), email),
		chromedp.SendKeys(chromedp.CSS("#pw-password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-sessions")),
	))
	require.Equal(t, shopURL(web.SecurityPath), journeyLocation(t, owner))
	require.Equal(t, "Jo Journey", journeyText(t, owner, ".st-user-name"))

	// 2. Enrol TOTP with the secret the page shows.
	require.NoError(t, chromedp.Do(owner,
		chromedp.Click(chromedp.CSS(`form[action="/account/security/totp"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#totp-secret")),
	))
	secret := journeyText(t, owner, "#totp-secret")
	enrolled := time.Now()
	code, err := auth.TOTPCode(secret, enrolled)
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(owner,
		chromedp.SendKeys(chromedp.CSS("#totp-code"), code),
		chromedp.Click(chromedp.CSS(`form[action="/account/security/totp/confirm"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-recovery-codes")),
	))
	recovery := journeyEval[[]string](t, owner, `[...document.querySelectorAll(".st-recovery-codes code")].map(c => c.textContent.trim())`)
	require.GreaterOrEqual(t, len(recovery), 4, "recovery codes are shown")
	next := func() string { c := recovery[0]; recovery = recovery[1:]; return c }

	// 3. Another session of the same person; "Sign out this session" on
	// account security ends it.
	other := j.journeySession(t, shopHost, email, password, next())
	require.NoError(t, chromedp.Do(owner,
		chromedp.Navigate(shopURL(web.SecurityPath)),
		chromedp.WaitVisible(chromedp.CSS(".st-session:not(.st-current) form button")),
	))
	require.Equal(t, 2, journeyEval[int](t, owner, `document.querySelectorAll(".st-session").length`))
	require.NoError(t, chromedp.Do(owner,
		chromedp.Click(chromedp.CSS(`.st-session:not(.st-current) form[action="/account/security/sessions/revoke"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".st-notice")),
	))
	require.Equal(t, shopURL(web.SecurityPath+"?done=revoked"), journeyLocation(t, owner))
	require.Equal(t, 1, journeyEval[int](t, owner, `document.querySelectorAll(".st-session").length`), "the other session is gone from the list")
	status, _ := j.journeyAPI(t, shopHost, http.MethodGet, "/auth/me", nil, other)
	require.Equal(t, http.StatusUnauthorized, status, "the signed-out session's cookie stops working")

	// 4. Change the password: every other session ends, the new one signs in.
	third := j.journeySession(t, shopHost, email, password, next())
	fourth := j.journeySession(t, shopHost, email, password, next())
	newPassword := rand.Text() + "-Bb2?"
	require.NoError(t, chromedp.Do(owner,
		chromedp.Navigate(shopURL(web.SecurityPath)),
		chromedp.WaitVisible(chromedp.CSS("#new-password")),
	))
	require.NoError(t, chromedp.Do(owner,
		chromedp.SendKeys(chromedp.CSS("#current-password"), password),
		chromedp.SendKeys(chromedp.CSS("#new-password"), newPassword),
		chromedp.Click(chromedp.CSS(`form[action="/account/security/password"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-notice")),
	))
	require.Equal(t, shopURL(web.SecurityPath+"?done=password"), journeyLocation(t, owner), "the session signed in minutes ago needs no new confirmation")
	for _, c := range []string{third, fourth} {
		status, _ := j.journeyAPI(t, shopHost, http.MethodGet, "/auth/me", nil, c)
		require.Equal(t, http.StatusUnauthorized, status, "a password change ends the other sessions")
	}
	status, _ = j.journeyAPI(t, shopHost, http.MethodGet, "/auth/me", nil, journeyCookie(t, owner, shopURL("/")))
	require.Equal(t, http.StatusOK, status, "the browser that changed it stays signed in")
	status, _ = j.journeyAPI(t, shopHost, http.MethodPost, "/auth/signin", map[string]string{"email": email, "password": password}, "")
	require.Equal(t, http.StatusUnauthorized, status, "the old password no longer signs in")
	j.journeySession(t, shopHost, email, newPassword, next())

	// 5. The Owner invites a tech, who accepts in a cookie jar of their own.
	techEmail := "tech-" + strings.ToLower(rand.Text()[:12]) + "@example.com"
	techPassword := rand.Text() + "-Cc3#"
	require.NoError(t, chromedp.Do(owner,
		chromedp.Navigate(shopURL(web.InvitationsPath)),
		chromedp.WaitVisible(chromedp.CSS("#invite-email")),
	))
	require.NoError(t, chromedp.Do(owner,
		chromedp.SendKeys(chromedp.CSS("#invite-email"), techEmail),
		chromedp.SetValue(chromedp.CSS("#invite-role"), string(ports.RoleTech)),
		chromedp.Click(chromedp.CSS(`form[action="/settings/invitations"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-notice")),
	))
	require.Equal(t, shopURL(web.InvitationsPath+"?done=invited"), journeyLocation(t, owner))
	require.Equal(t, techEmail, journeyText(t, owner, ".st-invitation-email"))
	invitation := j.journeyLink(t, techEmail, 1)
	link, err := url.Parse(invitation)
	require.NoError(t, err)
	require.Equal(t, shopHost, link.Host, "the invitation opens on the shop's host")
	tech := journeyTab(t, alloc, true)
	require.NoError(t, chromedp.Do(tech,
		chromedp.Navigate(invitation),
		chromedp.WaitVisible(chromedp.CSS("#inv-password")),
	))
	require.Equal(t, "tech", journeyText(t, tech, ".st-role"))
	require.NoError(t, chromedp.Do(tech,
		chromedp.SendKeys(chromedp.CSS("#inv-name"), "Tia Tech"),
		chromedp.SendKeys(chromedp.CSS("#inv-password"), techPassword),
		chromedp.Click(chromedp.CSS(`form[action="`+web.InvitationPath+`"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-sessions")),
	))
	require.Equal(t, shopURL(web.SecurityPath), journeyLocation(t, tech), "the invited member lands signed in")
	require.Equal(t, "Tia Tech", journeyText(t, tech, ".st-user-name"))

	// 6. An operator impersonates the tech: the banner on every page
	// visited, Stockade's and the app's; Exit ends the session.
	op := "op-" + strings.ToLower(rand.Text()) + "@ops.example.com"
	opPassword := rand.Text() + "-Aa1!"
	_, err = j.users.CreateOperator(t.Context(), op, "Olga Ops", opPassword)
	require.NoError(t, err)
	en, err := j.users.EnrolOperatorTOTPByEmail(t.Context(), op)
	require.NoError(t, err)
	opCode, err := auth.TOTPCode(en.Secret, time.Now())
	require.NoError(t, err)
	const reason = "Ticket #22: the journey's tech cannot see the board"
	operator := journeyTab(t, alloc, true)
	require.NoError(t, chromedp.Do(operator,
		impersonateFromConsole(platform, op, opPassword, opCode, slug, techEmail, reason),
		chromedp.WaitVisible(chromedp.CSS("h1.fx-board")), // the hand-off lands where a sign-in does: the app's board
	))
	banner := func(page string) {
		t.Helper()
		require.Equal(t, op, journeyText(t, operator, ".st-impersonation .st-imp-operator"), "the banner's operator on %s", page)
		require.Contains(t, journeyText(t, operator, ".st-impersonation .st-imp-member"), techEmail, "the banner's member on %s", page)
	}
	banner("the hand-off's landing")
	for _, page := range []struct{ path, wait string }{
		{web.SecurityPath, ".st-sessions"},
		{BoardPath, "h1.fx-board"},
		{web.SettingsPath, "main .st-error"}, // a tech may not: the refusal page carries the banner too
		{web.SecurityPath, ".st-sessions"},
	} {
		require.NoError(t, chromedp.Do(operator,
			chromedp.Navigate(shopURL(page.path)),
			chromedp.WaitVisible(chromedp.CSS(page.wait)),
			chromedp.WaitVisible(chromedp.CSS(".st-impersonation")),
		), "visit %s", page.path)
		banner(page.path)
	}
	impersonation := journeyCookie(t, operator, shopURL("/"))
	status, _ = j.journeyAPI(t, shopHost, http.MethodGet, BoardPath, nil, impersonation)
	require.Equal(t, http.StatusOK, status, "the impersonation works before Exit")
	status, _ = j.journeyAPI(t, shopHost, http.MethodGet, web.SettingsPath, nil, impersonation)
	require.Equal(t, http.StatusForbidden, status, "the settings page visited above was a refusal: the member is a tech")
	require.NoError(t, chromedp.Do(operator,
		chromedp.Click(chromedp.CSS(`.st-impersonation form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#pw-email")),
	))
	require.Equal(t, shopURL(web.SignInPath), journeyLocation(t, operator), "Exit lands on the sign-in page")
	for _, path := range []string{BoardPath, "/auth/me"} {
		status, _ = j.journeyAPI(t, shopHost, http.MethodGet, path, nil, impersonation)
		require.Equal(t, http.StatusUnauthorized, status, "after Exit %s refuses the impersonation's cookie", path)
	}

	// 7. The Owner signs in again in a fresh cookie jar, with the new
	// password and a code of the authenticator app (its enrolment spent
	// the code of its time step, so a code of the next step when the
	// journey is still in that one: within the allowed skew, never a
	// replay), and reads the audit log: it shows the journey's events (the
	// action names are those core/tenancy and core/auth record; the filter
	// keeps each on the first page whatever else the journey recorded).
	const step = 30 * time.Second // RFC 6238's period, as core/auth uses it
	at := time.Now()
	if at.Truncate(step).Equal(enrolled.Truncate(step)) {
		at = at.Add(step)
	}
	code, err = auth.TOTPCode(secret, at)
	require.NoError(t, err)
	owner = journeyTab(t, alloc, true)
	require.NoError(t, chromedp.Do(owner,
		chromedp.Navigate(shopURL(web.SignInPath)),
		chromedp.WaitVisible(chromedp.CSS("#pw-email")),
		chromedp.SendKeys(chromedp.CSS("#pw-email"), email),
		chromedp.SendKeys(chromedp.CSS("#pw-password"), newPassword),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#sf-code")),
	))
	require.Equal(t, shopURL(web.SecondFactorPath), journeyLocation(t, owner), "a password alone no longer signs the Owner in")
	require.NoError(t, chromedp.Do(owner,
		chromedp.SendKeys(chromedp.CSS("#sf-code"), code),
		chromedp.Click(chromedp.CSS(`form:has(#sf-code) button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-sessions")),
	))
	require.Equal(t, shopURL(web.SecurityPath), journeyLocation(t, owner))
	for _, want := range []struct{ action, actor, target string }{
		{"shop.created", "system:web-signup", "shop:"},
		{auth.ActionTOTPEnrolmentStarted, "user:", "user:"},
		{auth.ActionTOTPConfirmed, "user:", "user:"},
		{"auth.session.revoked", "user:", "session:"},
		{"auth.password.changed", "user:", "user:"},
		{"invitation.created", "user:", "invitation:"},
		{"invitation.accepted", "user:", "invitation:"},
		{auth.ActionImpersonationStart, "operator:", "user:"},
		{auth.ActionImpersonationEntered, "(impersonated by operator:", "session:"},
		{auth.ActionImpersonationEnded, "(impersonated by operator:", "impersonation:"},
	} {
		require.NoError(t, chromedp.Do(owner,
			chromedp.Navigate(shopURL(web.AuditLogPath+"?action="+url.QueryEscape(want.action))),
			chromedp.WaitVisible(chromedp.CSS("#events-heading")),
		), "audit log filtered by %s", want.action)
		rows := journeyEval[[][]string](t, owner, `[...document.querySelectorAll(".st-audit-events tbody tr")].map(r => [...r.cells].map(c => c.textContent.replace(/\s+/g, " ").trim()))`)
		require.NotEmpty(t, rows, "the audit log shows %s", want.action)
		row := rows[0] // #, time, actor, action, target, IP, outcome
		require.Len(t, row, 7)
		require.Equal(t, want.action, row[3], "the row's action cell")
		require.Contains(t, row[2], want.actor, "the actor of %s", want.action)
		require.True(t, strings.HasPrefix(row[4], want.target), "the target of %s: %q", want.action, row[4])
		require.Equal(t, "success", row[6], "the outcome of %s", want.action)
	}
}
