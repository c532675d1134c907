package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/internal/testinfra"
	"github.com/stockadehq/stockade/ports"
)

// browserPage is one page as a person reaches it in the browser, for the
// accessibility checks (TestA11yPages) and the screenshots
// (TestScreenshots). A page another area adds is one more line in
// browserPages.
type browserPage struct {
	// name names the subtest and the screenshot file.
	name string
	// as is who looks at the page: one of the keys of browserVisitors
	// ("" signed out).
	as string
	// path is the page to open, on the shop's host.
	path string
	// host, when set, replaces the shop's host ("nosuch.localhost" for an
	// unknown shop, "localhost" for the platform's); the port stays the
	// site's.
	host string
	// at, when set, is the page's whole URL instead of path and host,
	// made for the site (e.g. the console with a shop found, or an app's
	// public page on its own server).
	at func(t *testing.T, s *site) string
	// on names the site the page is seen on (see a11ySites): "" the
	// plain one, "billing" one with billing configured (against
	// stripe-mock), "crew" one whose shop has only a11yCrew, so that the
	// members page and the audit log show the same people every run.
	on string
	// fill types text into fields (CSS selector → text) once the page
	// is open, and submit, when set, is the action of the form whose
	// submit button is then clicked (e.g. web.TOTPPath).
	fill   map[string]string
	submit string
	// then, when set, runs once the form is submitted (e.g. to answer
	// the next step from what the page shows).
	then func(t *testing.T, ctx context.Context)
	// ready is the CSS selector of an element the finished page shows.
	ready string
	// shot puts the page among the screenshots of docs/screenshots.
	shot bool
}

// browserPages are the pages the browser checks, one line each.
var browserPages = []browserPage{
	{name: "signin", path: web.SignInPath, ready: "#pw-email", shot: true},
	{name: "signin-wrong-password", path: web.SignInPath, ready: "#pw-error",
		fill: map[string]string{"#pw-email": "nobody@example.com", "#pw-password": "not-the-password-1!"}, submit: web.SignInPath, shot: true},
	{name: "security", as: "member", path: web.SecurityPath, ready: ".st-sessions", shot: true},
	{name: "signup", host: "localhost", path: web.SignUpPath, ready: "#su-email", shot: true},
	{name: "signup-refused", path: web.SignUpPath, ready: "#su-password[aria-invalid=true]",
		fill: map[string]string{"#su-name": "Ada", "#su-email": "ada@example.com", "#su-password": "short"}, submit: web.SignUpPath},
	{name: "signup-verify", host: "localhost", path: web.VerifyPath + "?token=a11y-not-a-real-token", ready: "#shop-name", shot: true},
	{name: "password-reset-request", path: web.ResetRequestPath, ready: "#rr-email", shot: true},
	{name: "password-reset", path: web.ResetPath + "?token=a11y-not-a-real-token", ready: "#reset-password"},
	{name: "signin-link", path: web.SignInLinkPath + "?token=a11y-not-a-real-token", ready: ".st-signin-link-form button"},
	{name: "signin-link-spent", path: web.SignInLinkPath + "?token=a11y-not-a-real-token", submit: web.SignInLinkPath, ready: "#ml-email"},
	{name: "org-invitation", at: a11yOrgInvitation, ready: ".st-org-decline-form button"},
	{name: "second-factor", as: "second-factor", path: web.SecondFactorPath, ready: "#sf-code", shot: true},
	{name: "totp", as: "member", path: web.TOTPPath, submit: web.TOTPPath, ready: ".st-qr", shot: true},
	{name: "totp-recovery-codes", as: "member", path: web.TOTPPath, submit: web.TOTPPath, then: confirmTOTPOnPage, ready: ".st-recovery-codes", shot: true},
	{name: "error", path: web.SignInPath, host: "nosuch.localhost", ready: "main h1", shot: true},
	{name: "impersonated", as: "impersonated", path: web.SecurityPath, ready: ".st-impersonation .st-imp-left", shot: true},
	{name: "signin-sso-refused", path: web.SignInPath, ready: "#sso-error",
		fill: map[string]string{"#sso-email": "nobody@no-sso.example"}, submit: web.SSOPath},
	{name: "security-passkeys", as: "totp-member", path: web.SecurityPath, ready: ".st-passkey-name", shot: true},
	{name: "recovery-codes-regenerated", as: "totp-member", path: web.SecurityPath, submit: web.RecoveryCodesPath, ready: ".st-recovery-codes"},
	{name: "reauth", as: "member", path: web.ReauthPath + "?next=" + web.SecurityPath, ready: "#ra-password", shot: true},
	{name: "reauth-wrong-password", as: "member", path: web.ReauthPath + "?next=" + web.SecurityPath, ready: "#ra-password[aria-invalid=true]",
		fill: map[string]string{"#ra-password": "not-the-password-1!"}, submit: web.ReauthPath},
	{name: "reauth-code", as: "totp-member", path: web.ReauthPath + "?next=" + web.SecurityPath, ready: "#passkey-stepup"},
	{name: "settings", on: "crew", as: "owner", path: web.SettingsPath, ready: "#shop-name", shot: true},
	{name: "settings-billing", as: "owner", on: "billing", path: web.SettingsPath, ready: "#billing-heading"},
	// The portal before any checkout: the shop is no customer yet.
	{name: "settings-billing-refused", as: "owner", on: "billing", path: web.SettingsPath, submit: web.SettingsBillingPortalPath, ready: "#billing-error"},
	{name: "settings-billing-handover", as: "owner", on: "billing", path: web.SettingsPath, submit: web.SettingsBillingCheckoutPath, ready: "#handover-heading"},
	{name: "settings-members", on: "crew", as: "admin", path: web.MembersPath, ready: ".st-members", shot: true},
	{name: "settings-invitations", on: "crew", as: "owner", path: web.InvitationsPath, ready: ".st-invitations", shot: true},
	{name: "settings-two-factor", on: "crew", as: "owner", path: web.TwoFactorPolicyPath, ready: "#scope-all", shot: true},
	{name: "audit-log", on: "crew", as: "admin", path: web.AuditLogPath, ready: "tr[data-seq]", shot: true},
	{name: "access-review", on: "crew", as: "admin", path: web.AccessReviewPath, ready: "main h1", shot: true},
	{name: "public-capability", at: a11yPublicURL, ready: ".quote-customer"},
	{name: "console-signin", host: "localhost", path: web.ConsoleSignInPath, ready: "#op-email", shot: true},
	{name: "console-signin-refused", host: "localhost", path: web.ConsoleSignInPath, ready: "#op-error",
		fill: map[string]string{"#op-email": "nobody@ops.example.com", "#op-password": "not-the-password-1!", "#op-code": "000000"}, submit: web.ConsoleSignInPath},
	{name: "console-totp", as: "new-operator", host: "localhost", path: web.ConsoleTOTPPath, submit: web.ConsoleTOTPPath, ready: ".st-qr"},
	{name: "console", on: "crew", as: "operator", at: a11yConsoleFound, ready: "#c-reason", shot: true},
	{name: "console-members", on: "crew", as: "operator", at: a11yConsoleMembers, ready: ".st-console-member-list"},
	{name: "console-handoff", on: "crew", as: "operator", at: a11yConsoleFound, ready: ".st-handoff",
		fill: map[string]string{"#c-reason": "Ticket #22: the invoice page"}, submit: web.ConsoleImpersonatePath, shot: true},
}

// browserVisitors give the Cookie header value (name=value) of a fresh
// member of s's shop in each state a page may be seen in.
var browserVisitors = map[string]func(t *testing.T, s *site) string{
	"member": func(t *testing.T, s *site) string {
		email, password := s.member(t, "Ada Lovelace")
		s.apiSignIn(t, email, password) // a second session, so the list has a sign-out form
		return s.apiSignIn(t, email, password)
	},
	"second-factor": func(t *testing.T, s *site) string {
		email, password := s.member(t, "Katherine Johnson")
		s.enrolTOTPThroughAPI(t, s.apiSignIn(t, email, password))
		res := s.do(t, http.MethodPost, web.SignInPath, formType, url.Values{"email": {email}, "password": {password}}.Encode(), "", nil)
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		require.Equal(t, web.SecondFactorPath, res.Header.Get("Location"))
		return sessionCookie(t, res)
	},
	"impersonated": func(t *testing.T, s *site) string {
		email, _ := s.member(t, "Mary Jackson")
		_, cookie := s.impersonate(t, email)
		return cookie
	},
	// A member with an authenticator app and a passkey.
	"totp-member": func(t *testing.T, s *site) string { return a11yTOTPMember(t, s, "Dorothy Vaughan") },
	// The crew's Owner and Admin (a11yShop: members, an invitation and
	// audit events seeded).
	"owner": func(t *testing.T, s *site) string { return a11yShop(t, s, ports.RoleOwner) },
	"admin": func(t *testing.T, s *site) string { return a11yShop(t, s, ports.RoleAdmin) },
	// Operators, on the platform's host: one past their second factor, one
	// who has yet to set it up.
	"operator":     a11yOperator,
	"new-operator": a11yNewOperator,
}

// open brings the browser to page pg as its visitor: the browser's
// cookies are cleared, the visitor's session cookie (if any) set for the
// page's host, the page opened, its form filled and submitted when it
// says so, and its ready element awaited.
func (s *site) open(t *testing.T, ctx context.Context, pg browserPage) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, clearCookies()))
	u := s.url(pg.path)
	switch {
	case pg.at != nil:
		u = pg.at(t, s)
	case pg.host != "":
		u = fmt.Sprintf("http://%s:%d%s", pg.host, s.port, pg.path)
	}
	if pg.as != "" {
		visitor, ok := browserVisitors[pg.as]
		require.True(t, ok, "no visitor %q", pg.as)
		require.NoError(t, chromedp.Do(ctx, setCookie(u, visitor(t, s))))
	}
	steps := []chromedp.Action[chromedp.Void]{chromedp.Navigate(u)}
	for sel, text := range pg.fill {
		steps = append(steps, chromedp.SendKeys(chromedp.CSS(sel), text))
	}
	if pg.submit != "" {
		steps = append(steps, chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action=%q] button[type=submit]`, pg.submit))))
	}
	require.NoError(t, chromedp.Do(ctx, steps...), "open %s", pg.name)
	if pg.then != nil {
		pg.then(t, ctx)
	}
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(pg.ready))), "%s shows %s", pg.name, pg.ready)
}

// confirmTOTPOnPage confirms the enrolment the page shows with a code
// from its secret, as the authenticator app would.
func confirmTOTPOnPage(t *testing.T, ctx context.Context) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#totp-secret"))))
	code, err := auth.TOTPCode(text(t, ctx, "#totp-secret"), time.Now())
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#totp-code"), code),
		chromedp.Click(chromedp.CSS(`form[action="/account/security/totp/confirm"] button[type=submit]`)),
	))
}

// clearCookies removes every cookie of the browser.
func clearCookies() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
		return chromedp.Void{}, err
	}
}

// setCookie stores cookie (a Cookie header value, name=value) in the
// browser for the origin of u, as the server sets the session cookie:
// Secure, HttpOnly, SameSite=Lax, path /, no Domain (host-only).
func setCookie(u, cookie string) chromedp.Action[chromedp.Void] {
	name, value, _ := strings.Cut(cookie, "=")
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		yes := true
		_, err := cdp.Call(ctx, t, network.SetCookie, network.SetCookieParams{
			Name: name, Value: value, URL: u, Path: "/", Secure: &yes, HTTPOnly: &yes, SameSite: network.CookieSameSiteLax,
		})
		if err != nil {
			return chromedp.Void{}, fmt.Errorf("set cookie %s for %s: %w", name, u, err)
		}
		return chromedp.Void{}, nil
	}
}

// axeViolation is one failed axe-core rule, with the nodes it failed on.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

func (v axeViolation) String() string {
	return fmt.Sprintf("%s (%s): %s — %s", v.ID, v.Impact, v.Help, strings.Join(v.Targets, ", "))
}

// axeRun is the script that runs axe-core on the page with the WCAG 2.0
// A and AA, WCAG 2.1 AA and best-practice rules and returns the
// violations of serious or critical impact.
const axeRun = `(async () => {
  const r = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa", "best-practice"]},
    resultTypes: ["violations"],
  });
  return r.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map(n => n.target.join(" "))}));
})()`

// axeViolations injects axe-core (src) into the open page and returns its
// serious and critical violations. The script goes in through the
// DevTools protocol (Runtime.evaluate), which the page's CSP does not
// govern: no CSP bypass is needed, so the page is checked as served.
func axeViolations(t *testing.T, ctx context.Context, src string) []axeViolation {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](src))
	require.NoError(t, err, "inject axe-core")
	v, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
	require.NoError(t, err, "axe.run")
	return v
}

// requireNoAxeViolations fails t listing every serious or critical
// violation on the open page.
func requireNoAxeViolations(t *testing.T, ctx context.Context, src, page string) {
	t.Helper()
	if v := axeViolations(t, ctx, src); len(v) > 0 {
		lines := make([]string, len(v))
		for i, x := range v {
			lines[i] = "  " + x.String()
		}
		t.Errorf("%s: %d serious or critical accessibility violations:\n%s", page, len(v), strings.Join(lines, "\n"))
	}
}

// TestA11yPages: axe-core finds no violation of serious or critical
// impact on any page of browserPages, at a desktop width and at 320 px.
func TestA11yPages(t *testing.T) {
	src := testinfra.AxeSource(t)
	sites := a11ySites(t, browserPages)
	tab := a11yBrowser(t)
	for _, pg := range browserPages {
		t.Run(pg.name, func(t *testing.T) {
			ctx := a11yPageBound(t, tab)
			s := sites[pg.on]
			for _, width := range []int64{1280, 320} {
				require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(width, 800)))
				s.open(t, ctx, pg)
				requireNoAxeViolations(t, ctx, src, fmt.Sprintf("%s at %d px", pg.name, width))
			}
		})
	}
}

// TestA11yAxeCatchesViolations: the check is not vacuous: an overlay's
// sign-in page with an unlabelled input and an image without a text
// alternative is reported, by rule and element.
func TestA11yAxeCatchesViolations(t *testing.T) {
	src := testinfra.AxeSource(t)
	overlay := fstest.MapFS{
		"templates/signin.html": {Data: []byte(`{{define "title"}}Sign in{{end}}{{define "content"}}<h1>Sign in</h1>` +
			`<form method="post" action="/signin"><input id="bare" name="email" type="email"><img id="noalt" src="data:,"><button type="submit">Go</button></form>{{end}}`)},
	}
	s := newSite(t, web.Options{Overlay: overlay})
	ctx := browser(t)
	s.open(t, ctx, browserPage{name: "bad-signin", path: web.SignInPath, ready: "#bare"})
	got := map[string][]string{}
	for _, v := range axeViolations(t, ctx, src) {
		require.Contains(t, []string{"serious", "critical"}, v.Impact)
		got[v.ID] = v.Targets
	}
	require.Equal(t, []string{"#bare"}, got["label"], "the unlabelled input: %v", got)
	require.Equal(t, []string{"#noalt"}, got["image-alt"], "the image without alt: %v", got)
}

// TestA11yInvitationPage: the invitation acceptance page, opened from the
// mailed link (a real token, so the form is shown), and the page that
// refuses a password too short, have no serious or critical axe
// violation at 1280 and 320 px.
func TestA11yInvitationPage(t *testing.T) {
	src := testinfra.AxeSource(t)
	s := signupNewSite(t, web.Options{})
	owner := s.signupOwner(t)
	email := signupEmail()
	s.signupInvite(t, owner, email, "tech")
	link, _ := s.signupLink(t, email, 1)
	ctx := browser(t)
	for _, width := range []int64{1280, 320} {
		require.NoError(t, chromedp.Do(ctx,
			chromedp.EmulateViewport(width, 800),
			chromedp.Navigate(link.String()),
			chromedp.WaitVisible(chromedp.CSS("#inv-password")),
		))
		requireNoAxeViolations(t, ctx, src, fmt.Sprintf("invitation at %d px", width))
		require.NoError(t, chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS("#inv-name"), "Ada"),
			chromedp.SendKeys(chromedp.CSS("#inv-password"), "short"),
			chromedp.Click(chromedp.CSS(`form[action="`+web.InvitationPath+`"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS("#inv-password[aria-invalid=true]")),
		))
		requireNoAxeViolations(t, ctx, src, fmt.Sprintf("invitation refused at %d px", width))
	}
}
