package web_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/ports"
	"github.com/stockadehq/stockade/stockadetest"
)

// auditMember creates a member of the shop with role and returns their
// e-mail address and password.
func (s *site) auditMember(t *testing.T, role ports.Role) (email, password string) {
	t.Helper()
	email = "a-" + strings.ToLower(rand.Text()) + "@example.com"
	password = rand.Text() + "-Aa1!"
	u, err := s.e.Auth.CreateUser(t.Context(), email, "Audrey "+string(role), password)
	require.NoError(t, err)
	err = s.e.Store.InShop(t.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Memberships().Add(ctx, u.ID, role)
		return err
	})
	require.NoError(t, err)
	return email, password
}

// auditSeed appends n events to the shop's log, actions alternating
// between "seed.even" and "seed.odd", actor "system:seed", and returns
// their seqs in order.
func (s *site) auditSeed(t *testing.T, n int) []int64 {
	t.Helper()
	var seqs []int64
	err := s.e.Store.InShop(t.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		for i := range n {
			action := "seed.even"
			if i%2 == 1 {
				action = "seed.odd"
			}
			e, err := tx.Audit().Append(ctx, ports.AuditEvent{ID: ports.NewEventID(), Time: time.Now(), Actor: "system:seed",
				Action: action, Target: fmt.Sprintf("thing:%d", i), Outcome: ports.OutcomeSuccess, IP: "192.0.2.7"})
			if err != nil {
				return err
			}
			seqs = append(seqs, e.Seq)
		}
		return nil
	})
	require.NoError(t, err)
	return seqs
}

// auditTamper runs stmts on the site's SQLite file with the audit
// tables' triggers dropped, as someone who can write the file would, and
// puts the triggers back. newSite keeps its data directory in a
// temporary directory of the test, found here by its file name.
func (s *site) auditTamper(t *testing.T, stmts ...string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(filepath.Dir(t.TempDir()), "*", "data", "stockade.db"))
	require.NoError(t, err)
	require.Len(t, files, 1, "the site's database file")
	db := sqlx.MustOpen("sqlite", "file:"+files[0]+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)")
	defer db.Close()
	var triggers []struct {
		Name string `db:"name"`
		SQL  string `db:"sql"`
	}
	require.NoError(t, db.Select(&triggers, `SELECT name, sql FROM sqlite_master
		WHERE type = 'trigger' AND tbl_name IN ('audit_events', 'audit_heads', 'audit_checkpoints')`))
	require.NotEmpty(t, triggers)
	var all []string
	for _, tr := range triggers {
		all = append(all, `DROP TRIGGER `+tr.Name)
	}
	all = append(all, stmts...)
	for _, tr := range triggers {
		all = append(all, tr.SQL)
	}
	tx := db.MustBegin()
	defer tx.Rollback()
	for _, stmt := range all {
		_, err := tx.Exec(stmt)
		require.NoError(t, err, stmt)
	}
	require.NoError(t, tx.Commit())
}

var (
	auditRowSeq = regexp.MustCompile(`<tr data-seq="(\d+)"`)
	auditOlder  = regexp.MustCompile(`<a href="([^"]*)" rel="next"`)
	auditNewer  = regexp.MustCompile(`<a href="([^"]*)" rel="prev"`)
	auditCSV    = regexp.MustCompile(`<a href="([^"]*)" download>Download as CSV`)
)

// auditSeqs returns the seqs of the audit table's rows, in page order.
func auditSeqs(page string) []string {
	var out []string
	for _, m := range auditRowSeq.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

// auditLink returns the first link re finds in page, unescaped, or "".
func auditLink(page string, re *regexp.Regexp) string {
	m := re.FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

func auditGet(t *testing.T, s *site, path, cookie string) (int, string) {
	t.Helper()
	res := s.do(t, http.MethodGet, path, "", "", cookie, nil)
	return res.StatusCode, body(t, res)
}

// TestAuditLogPagination: newest first, AuditPageSize a page, Older and
// Newer walking the log without gaps or repeats, and the chain intact.
func TestAuditLogPagination(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.auditMember(t, ports.RoleOwner)
	cookie := s.apiSignIn(t, email, password)
	seeded := s.auditSeed(t, 2*web.AuditPageSize+10)
	last := seeded[len(seeded)-1]

	status, page := auditGet(t, s, web.AuditLogPath, cookie)
	require.Equal(t, http.StatusOK, status, page)
	first := auditSeqs(page)
	require.Len(t, first, web.AuditPageSize)
	require.Equal(t, fmt.Sprint(last), first[0], "newest first")
	require.Contains(t, page, "Chain intact")
	require.Contains(t, page, "each linked to the event before it")
	require.Empty(t, auditLink(page, auditNewer), "no newer page on the first")
	older := auditLink(page, auditOlder)
	require.Equal(t, fmt.Sprintf("%s?before=%d", web.AuditLogPath, last-web.AuditPageSize+1), older)

	status, page = auditGet(t, s, older, cookie)
	require.Equal(t, http.StatusOK, status, page)
	second := auditSeqs(page)
	require.Len(t, second, web.AuditPageSize)
	require.Equal(t, fmt.Sprint(last-web.AuditPageSize), second[0], "continues where the first page ended")
	require.Contains(t, page, "Chain intact")

	newer := auditLink(page, auditNewer)
	require.NotEmpty(t, newer)
	_, back := auditGet(t, s, newer, cookie)
	require.Equal(t, first, auditSeqs(back), "Newer leads back to the first page")

	// Walk to the end: every event once, in order.
	all := append(first, second...)
	for next := auditLink(page, auditOlder); next != ""; next = auditLink(page, auditOlder) {
		_, page = auditGet(t, s, next, cookie)
		all = append(all, auditSeqs(page)...)
	}
	require.Len(t, all, int(last))
	for i, seq := range all {
		require.Equal(t, fmt.Sprint(last-int64(i)), seq)
	}
	require.Contains(t, page, "1 to ", "the last page reaches the first event")
}

// TestAuditLogFilters: the filter form narrows the table, the pages and
// the export link keep it, and a bad value is tied to its field.
func TestAuditLogFilters(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.auditMember(t, ports.RoleAdmin)
	cookie := s.apiSignIn(t, email, password)
	s.auditSeed(t, 2*web.AuditPageSize+10) // 55 seed.odd

	status, page := auditGet(t, s, web.AuditLogPath+"?action=seed.odd&since="+time.Now().UTC().Format(time.DateOnly), cookie)
	require.Equal(t, http.StatusOK, status, page)
	require.Len(t, auditSeqs(page), web.AuditPageSize)
	require.NotContains(t, page, "seed.even")
	require.Contains(t, page, `value="seed.odd"`, "the form shows the filter")
	require.Contains(t, page, "links between events are not checked while a filter is set")
	older := auditLink(page, auditOlder)
	require.Contains(t, older, "action=seed.odd")
	require.Contains(t, older, "since=")
	_, page = auditGet(t, s, older, cookie)
	require.Len(t, auditSeqs(page), 5, "the rest of the 55")
	require.NotContains(t, page, "seed.even")
	require.Empty(t, auditLink(page, auditOlder))

	csv := auditLink(page, auditCSV)
	u, err := url.Parse(csv)
	require.NoError(t, err)
	require.Equal(t, "/audit/export", u.Path)
	require.Equal(t, "seed.odd", u.Query().Get("action"))
	_, err = time.Parse(time.RFC3339, u.Query().Get("since"))
	require.NoError(t, err, "the export gets an RFC 3339 time")

	// A prefix pattern.
	_, page = auditGet(t, s, web.AuditLogPath+"?action=seed.*&actor=system:seed", cookie)
	require.Len(t, auditSeqs(page), web.AuditPageSize)

	// Refusals: tied to the field, no table.
	for _, tc := range []struct{ query, field string }{
		{"since=yesterday", "audit-since"},
		{"action=seed*", "audit-action"},
		{"since=2026-12-02&until=2026-12-01", "audit-since"},
	} {
		status, page = auditGet(t, s, web.AuditLogPath+"?"+tc.query, cookie)
		require.Equal(t, http.StatusBadRequest, status, tc.query)
		require.Regexp(t, `id="`+tc.field+`"[^>]*aria-describedby="[^"]*`+tc.field+`-error"[^>]* aria-invalid="true"`, page, tc.query)
		require.Contains(t, page, `id="`+tc.field+`-error"`, tc.query)
		require.Empty(t, auditSeqs(page), tc.query)
	}
	status, _ = auditGet(t, s, web.AuditLogPath+"?before=x", cookie)
	require.Equal(t, http.StatusBadRequest, status)
}

// TestAuditLogExportLink: the page's export link works with the page's
// session cookie, and the export is itself recorded.
func TestAuditLogExportLink(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.auditMember(t, ports.RoleOwner)
	cookie := s.apiSignIn(t, email, password)
	s.auditSeed(t, 4)

	_, page := auditGet(t, s, web.AuditLogPath+"?action=seed.even", cookie)
	csv := auditLink(page, auditCSV)
	require.NotEmpty(t, csv)
	res := s.do(t, http.MethodGet, csv, "", "", cookie, nil)
	out := body(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, out)
	require.Contains(t, res.Header.Get("Content-Type"), "text/csv")
	require.Equal(t, 2, strings.Count(out, "seed.even"), out)
	require.NotContains(t, out, "seed.odd")

	_, page = auditGet(t, s, web.AuditLogPath+"?action=audit.exported", cookie)
	require.Len(t, auditSeqs(page), 2, "the export's attempt and its outcome")
}

// TestAuditLogChainStatus: a row edited below the application shows the
// chain broken at that event; untouched, it shows intact.
func TestAuditLogChainStatus(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.auditMember(t, ports.RoleOwner)
	cookie := s.apiSignIn(t, email, password)
	seqs := s.auditSeed(t, 10)

	_, page := auditGet(t, s, web.AuditLogPath, cookie)
	require.Contains(t, page, "Chain intact")
	require.NotContains(t, page, "Chain broken")

	// A deleted row is a gap the unfiltered page sees.
	gone := seqs[7]
	s.auditTamper(t, fmt.Sprintf(`DELETE FROM audit_events WHERE shop_id = '%s' AND seq = %d`, s.shop.ID, gone))
	_, page = auditGet(t, s, web.AuditLogPath, cookie)
	require.Contains(t, page, fmt.Sprintf("Chain broken at event %d</strong>: events %d to %d are missing (deleted)", gone, gone, gone))

	// An edited row no longer hashes; being older, it is the one named.
	victim := seqs[4]
	s.auditTamper(t, fmt.Sprintf(`UPDATE audit_events SET actor = 'user:evil' WHERE shop_id = '%s' AND seq = %d`, s.shop.ID, victim))
	_, page = auditGet(t, s, web.AuditLogPath, cookie)
	require.Contains(t, page, fmt.Sprintf("Chain broken at event %d</strong>: its stored fields no longer match its hash (edited)", victim))
	require.Contains(t, page, fmt.Sprintf(`<tr data-seq="%d" class="st-row-broken">`, victim))
	require.NotContains(t, page, "Chain intact")
	// The filtered view still recomputes each event's hash.
	_, page = auditGet(t, s, web.AuditLogPath+"?actor=user:evil", cookie)
	require.Contains(t, page, fmt.Sprintf("Chain broken at event %d", victim))
}

// TestAuditPagesRefused: a Viewer gets the 403 page, no session and
// another shop's session are sent to sign in, on both pages.
func TestAuditPagesRefused(t *testing.T) {
	s := newSite(t, web.Options{})
	viewerEmail, viewerPassword := s.member(t, "Vera Viewer")
	viewer := s.apiSignIn(t, viewerEmail, viewerPassword)
	other := *s
	other.shop = stockadetest.NewShop(t, s.e.Store)
	oEmail, oPassword := other.auditMember(t, ports.RoleOwner)
	otherCookie := other.apiSignIn(t, oEmail, oPassword)
	ownerEmail, ownerPassword := s.auditMember(t, ports.RoleOwner)
	owner := s.apiSignIn(t, ownerEmail, ownerPassword)
	s.auditSeed(t, 3)

	for _, path := range []string{web.AuditLogPath, web.AccessReviewPath} {
		status, page := auditGet(t, s, path, viewer)
		require.Equal(t, http.StatusForbidden, status, path)
		require.Contains(t, page, `class="st-error"`, path)
		require.NotContains(t, page, "seed.even", path)

		for name, cookie := range map[string]string{"no session": "", "another shop's session": otherCookie} {
			res := s.do(t, http.MethodGet, path, "", "", cookie, nil)
			require.Equal(t, http.StatusSeeOther, res.StatusCode, "%s %s", name, path)
			require.Equal(t, web.SignInPath, res.Header.Get("Location"), "%s %s", name, path)
		}
		status, _ = auditGet(t, s, path, owner)
		require.Equal(t, http.StatusOK, status, path)
		status, _ = auditGet(t, &other, path, otherCookie)
		require.Equal(t, http.StatusOK, status, "the other shop's owner on their own host: %s", path)
	}
	// The other shop's owner sees none of this shop's events on their page.
	_, page := auditGet(t, &other, web.AuditLogPath, otherCookie)
	require.NotContains(t, page, "seed.even")
}

// TestAccessReviewPage: the default period is the last 90 days, a period
// can be chosen, the export link works, and a bad period is refused.
func TestAccessReviewPage(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.auditMember(t, ports.RoleOwner)
	cookie := s.apiSignIn(t, email, password)
	old := time.Now().Add(-120 * 24 * time.Hour)
	err := s.e.Store.InShop(t.Context(), s.shop.ID, func(ctx context.Context, tx ports.ShopTx) error {
		for _, e := range []ports.AuditEvent{
			{Time: old, Actor: "operator:olga", Action: "impersonation.started", Target: "user:1", After: []byte(`{"reason":"Ticket 17: old"}`)},
			{Time: time.Now(), Actor: "operator:olga", Action: "impersonation.started", Target: "user:1", After: []byte(`{"reason":"Ticket 22: recent"}`)},
			{Time: time.Now(), Actor: "user:1", Action: "member.own_doing"},
		} {
			e.ID, e.Outcome = ports.NewEventID(), ports.OutcomeSuccess
			if _, err := tx.Audit().Append(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)

	status, page := auditGet(t, s, web.AccessReviewPath, cookie)
	require.Equal(t, http.StatusOK, status, page)
	require.Contains(t, page, "Ticket 22: recent")
	require.NotContains(t, page, "Ticket 17: old", "older than the default 90 days")
	require.NotContains(t, page, "member.own_doing", "a member's own doing is not an outside access")
	require.Contains(t, page, `value="`+time.Now().UTC().Add(-web.AccessReviewDefault).Format(time.DateOnly)+`"`)

	since := old.UTC().Add(-24 * time.Hour).Format(time.DateOnly)
	_, page = auditGet(t, s, web.AccessReviewPath+"?since="+since+"&until="+time.Now().UTC().Format(time.DateOnly), cookie)
	require.Contains(t, page, "Ticket 17: old")
	require.Contains(t, page, "Ticket 22: recent", "the until date is included")

	csv := auditLink(page, auditCSV)
	u, err := url.Parse(csv)
	require.NoError(t, err)
	require.Equal(t, "/audit/access-review", u.Path)
	res := s.do(t, http.MethodGet, csv, "", "", cookie, nil)
	out := body(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, out)
	require.Contains(t, out, "Ticket 17: old")
	require.Contains(t, out, "Ticket 22: recent")

	status, page = auditGet(t, s, web.AccessReviewPath+"?since=2026-12-02&until=2026-12-01", cookie)
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, page, `id="review-since-error"`)
	status, page = auditGet(t, s, web.AccessReviewPath+"?until=soon", cookie)
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, page, `id="review-until-error"`)
}

// publicServer serves page through a PublicShell on the shops' hosts of
// s, as an app's capability-link route would.
func publicServer(t *testing.T, s *site, o web.Options, page web.PublicPage) *httptest.Server {
	t.Helper()
	shell, err := web.NewPublicShell(o)
	require.NoError(t, err)
	h := httpapi.OnShopHost(mustShops(t, s))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		shell.Render(w, r, http.StatusOK, page)
	}))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

var publicBody = template.Must(template.New("quote").Parse(
	`<p class="quote-customer">{{.Customer}}</p><script>window.appScript=1</script><p id="app-handler" onclick="window.appScript=2">Accept</p>`))

func publicPage(t *testing.T, title, customer string) web.PublicPage {
	t.Helper()
	var b strings.Builder
	require.NoError(t, publicBody.Execute(&b, map[string]string{"Customer": customer}))
	return web.PublicPage{Title: title, Body: template.HTML(b.String())}
}

// TestPublicShell: the capability page shell sets the pages' headers,
// no cookie, shows the shop's name but no navigation or sign-out, and
// escapes the title.
func TestPublicShell(t *testing.T) {
	s := newSite(t, web.Options{})
	srv := publicServer(t, s, web.Options{}, publicPage(t, `Quote <b>#7</b>`, "Ada <Lovelace>"))
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/p/quotes/7?token=x", nil)
	require.NoError(t, err)
	req.Host = s.host()
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	out := body(t, res)
	require.Equal(t, http.StatusOK, res.StatusCode, out)
	require.Equal(t, web.CSP, res.Header.Get("Content-Security-Policy"))
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	require.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"))
	require.Equal(t, "noindex, nofollow", res.Header.Get("X-Robots-Tag"))
	require.Empty(t, res.Header.Values("Set-Cookie"), "the shell sets no session")
	require.NotContains(t, out, "st-nav")
	require.NotContains(t, out, "signout")
	require.NotContains(t, out, "st-impersonation")
	require.Contains(t, out, "<h1>Quote &lt;b&gt;#7&lt;/b&gt;</h1>")
	require.Contains(t, out, `<p class="quote-customer">Ada &lt;Lovelace&gt;</p>`)
	require.Contains(t, out, `<p class="st-brand">Shop `+strings.ReplaceAll(s.shop.ID.String(), "-", "")+`</p>`)

	// An overlay's templates apply to the shell too.
	shell, err := web.NewPublicShell(web.Options{Overlay: fstest.MapFS{"templates/capability.html": {Data: []byte(
		`{{define "title"}}{{.Data.Title}}{{end}}{{define "content"}}<article class="brand">{{.Data.Body}}</article>{{end}}`)}}})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	shell.Render(rec, httptest.NewRequest(http.MethodGet, "/p/quotes/7", nil), http.StatusOK, publicPage(t, "Quote 7", "Ada"))
	require.Contains(t, rec.Body.String(), `<article class="brand"><p class="quote-customer">Ada</p>`)
	require.Equal(t, web.CSP, rec.Header().Get("Content-Security-Policy"))
}

// TestBrowserPublicShellScriptInert: an app body carrying a script and
// an inline handler stays inert under the shell's CSP, in Chromium.
func TestBrowserPublicShellScriptInert(t *testing.T) {
	s := newSite(t, web.Options{})
	srv := publicServer(t, s, web.Options{}, publicPage(t, "Quote 7", "Ada"))
	_, port, _ := strings.Cut(strings.TrimPrefix(srv.URL, "http://"), ":")
	ctx := browser(t)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(fmt.Sprintf("http://%s.localhost:%s/p/quotes/7?token=x", s.shop.Slug, port)),
		chromedp.WaitVisible(chromedp.CSS("#app-handler")),
		chromedp.Click(chromedp.CSS("#app-handler")),
	))
	require.Equal(t, 1, eval[int](t, ctx, `document.querySelectorAll("main script").length`), "the app's script is in the page")
	require.Equal(t, "undefined", eval[string](t, ctx, `typeof window.appScript`), "the CSP kept it and the handler from running")
	require.Equal(t, "Quote 7", text(t, ctx, "h1"))
	require.Equal(t, 0, eval[int](t, ctx, `document.querySelectorAll("nav, form").length`), "no navigation, no forms")
	require.Equal(t, "", eval[string](t, ctx, `document.cookie`))
}

// TestBrowserAuditLog: an Owner signs in, opens the audit log from the
// navigation, filters it with the form, pages to older events and sees
// the chain's status.
func TestBrowserAuditLog(t *testing.T) {
	s := newSite(t, web.Options{})
	email, password := s.auditMember(t, ports.RoleOwner)
	s.auditSeed(t, 2*web.AuditPageSize+10)
	ctx := browser(t)
	require.NoError(t, chromedp.Do(ctx,
		s.signInThroughPage(email, password),
		chromedp.Click(chromedp.CSS(`.st-nav a[href="`+web.AuditLogPath+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(".st-audit-events")),
	))
	require.Contains(t, text(t, ctx, ".st-chain"), "Chain intact")
	require.Equal(t, web.AuditPageSize, eval[int](t, ctx, `document.querySelectorAll(".st-audit-events tbody tr").length`))

	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#audit-action"), "seed.odd"),
		chromedp.Click(chromedp.CSS(`.st-audit-filter button[type=submit]`)),
		// The value attribute is the server's echo: the filtered page.
		chromedp.WaitVisible(chromedp.CSS(`#audit-action[value="seed.odd"]`)),
	))
	require.Equal(t, 0, eval[int](t, ctx, `[...document.querySelectorAll(".st-action")].filter(e => e.textContent !== "seed.odd").length`))
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[rel=next]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[rel=prev]`)),
	))
	require.Equal(t, 5, eval[int](t, ctx, `document.querySelectorAll(".st-audit-events tbody tr").length`))
	require.Equal(t, "seed.odd", eval[string](t, ctx, `document.querySelector("#audit-action").value`), "the filter is kept")

	// At 320 px the page does not scroll sideways (the table scrolls in
	// its own box) and every input is labelled.
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(320, 640), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(".st-audit-events"))))
	require.LessOrEqual(t, eval[int](t, ctx, `document.documentElement.scrollWidth`), 320)
	require.Zero(t, eval[int](t, ctx, `[...document.querySelectorAll("input")].filter(i => !i.labels || i.labels.length === 0).length`))
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(s.url(web.AccessReviewPath)), chromedp.WaitVisible(chromedp.CSS("#review-since"))))
	require.LessOrEqual(t, eval[int](t, ctx, `document.documentElement.scrollWidth`), 320, "the access review fits")
}
