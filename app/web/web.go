// Package web is Stockade's server-rendered pages for people: sign-in
// (password, magic link, passkey, SSO), sign-up with mailbox verification,
// password reset, invitation acceptance, the second-factor challenge and
// enrolment, account security and "Confirm it's you" on a shop's host; the
// shop settings, the audit log and the access review for Owners and
// Admins; the operator console on the platform's own host; and the shell
// of a public capability page (PublicShell). They are plain HTML forms
// rendered with html/template (contextual escaping) from templates and one
// stylesheet embedded in the binary: no build step, no inline script or
// style. The one script, /stockade/passkey.js (embedded, same origin),
// only adds the passkey buttons (WebAuthn needs it); every form works
// without it.
//
// Every page is served with a strict Content-Security-Policy (see CSP),
// Referrer-Policy: no-referrer and X-Content-Type-Options: nosniff, and
// every form post passes the same cross-origin protection as the API's
// routes (net/http.CrossOriginProtection): a post a browser marks as
// cross-origin is refused with 403. Sessions are the API's: the pages
// resolve the shop from the Host, authenticate the session cookie with
// httpapi.RequireSession (impersonation auditing included) and call the
// same use cases as the JSON routes, which check the caller's
// permissions.
//
// An error on these pages is an HTML page (see the "error.html"
// template), never a problem document; a page that needs a session
// redirects a browser without one to /signin, and a sensitive post whose
// authentication is too old shows "Confirm it's you".
//
// The embedding app restyles the pages by passing its own fs.FS in
// Options.Overlay: a file there replaces the embedded file of the same
// name — any of "templates/*.html" (one per page, plus "layout.html" and
// "banner.html") and "static/stockade.css".
//
// While the session is an operator's impersonation (AUD-5) every page
// served under it shows the impersonation banner at the top: the
// operator, the member, the shop, the time left and an Exit form. The
// embedding app shows the same banner on its own pages with
// Impersonation and Banner. See docs/web.md.
package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/template/parse"
	"time"

	"go.uber.org/zap"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/core/billing"
	"github.com/stockadehq/stockade/core/tenancy"
	"github.com/stockadehq/stockade/ports"
)

// CSP is the Content-Security-Policy of every page: nothing but the
// stylesheet, images and scripts from the page's own origin (the one
// script is the passkey enhancement, PasskeyScriptPath, which calls the
// API on the same origin: connect-src 'self'), forms posting only to it,
// no framing, no <base>. No inline script or event handler runs, nor a
// script from another origin.
const CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Paths of the pages (on a shop's host) and of the stylesheet (any host).
const (
	SignInPath    = "/signin"
	MagicLinkPath = "/signin/magic-link"
	SecurityPath  = "/account/security"
	// SecondFactorPath is the second-factor challenge a password sign-in
	// of a user with a confirmed factor lands on.
	SecondFactorPath = "/signin/second-factor"
	// TOTPPath is the authenticator-app enrolment: GET shows the "Set up"
	// button (where a member whose shop requires a factor lands), POST
	// starts an enrolment and shows its QR code and secret.
	TOTPPath       = "/account/security/totp"
	StylesheetPath = "/stockade/stockade.css"
)

//go:embed templates/*.html static/stockade.css static/passkey.js
var embedded embed.FS

// Deps is what the pages need: the auth service whose use cases they
// call and the host → shop resolver the API uses.
type Deps struct {
	Auth  *auth.Service
	Shops *httpapi.HostShops
	// TrustForwardedFor is as httpapi.AuthDeps.TrustForwardedFor.
	TrustForwardedFor bool
	// AfterSignIn is where a browser lands after the magic link page
	// signs it in without a second factor still due: a path on the
	// shop's host or an absolute URL, as httpapi.AuthDeps.AfterSignIn;
	// empty means the account security page (SecurityPath).
	AfterSignIn string
	// Tenancy serves the shop settings pages (members, roles,
	// invitations) and the invitation acceptance page; nil leaves them
	// out.
	Tenancy *tenancy.Service
	// Audit serves the audit log and access review pages; nil leaves them
	// out.
	Audit *audit.Reader
	// Billing, when set, adds the billing link to the shop settings.
	Billing *billing.Service
	// Policy is the role → permission table; with it the navigation
	// shows only the pages the member's role may open.
	Policy *access.Policy
	// Logger receives the pages' access log (httpapi.AccessLog) and the
	// failures and panics of serving them; nil logs nothing.
	Logger *zap.Logger
	// Requests, when set, is told of every request a page or the
	// stylesheet serves, with the page's route pattern ("/signin",
	// "/settings/members") as route (see httpapi.RequestObserver): the
	// same observer as the API's httpapi.Deps.Requests, so the pages are
	// in the same HTTP metrics. A request no page matches is not reported
	// here; the API it is handed to reports it.
	Requests httpapi.RequestObserver
}

// Options customise the pages.
type Options struct {
	// Overlay, when set, is searched before the embedded files: any
	// "templates/<page>.html", "templates/layout.html",
	// "templates/banner.html" or "static/stockade.css" it holds replaces
	// Stockade's (it cannot add pages). A replaced page template must
	// define "title" and "content" as the embedded one does; the layout
	// executes them. A replaced banner must define "banner", and a
	// replaced layout must execute it ({{with .Banner}}{{template "banner"
	// .}}{{end}}): New refuses a layout that does not show the
	// impersonation banner.
	Overlay fs.FS
	// SignUp is what confirming a sign-up's mailed link does: the zero
	// value (SignUpCreatesShop) asks for the new shop's name and address
	// and makes the new account its Owner; SignUpAccountOnly only
	// creates the account, for apps that add members themselves.
	SignUp SignUpMode
}

// Pages serves the pages; see Handler.
type Pages struct {
	d     Deps
	pages map[string]*template.Template
	css   []byte
	mux   *http.ServeMux
	// signUpMode is Options.SignUp.
	signUpMode SignUpMode
	// banner is the Impersonation middleware with the pages' banner
	// template.
	banner func(http.Handler) http.Handler
}

// New parses the templates (the overlay's where it has them) and returns
// the pages. A template that does not parse is an error.
func New(d Deps, o Options) (*Pages, error) {
	if d.Auth == nil || d.Shops == nil {
		return nil, errors.New("web: Deps.Auth and Deps.Shops are required")
	}
	if d.Logger == nil {
		d.Logger = zap.NewNop()
	}
	fsys := filesOf(o)
	p := &Pages{d: d, pages: map[string]*template.Template{}, signUpMode: o.SignUp}
	names, err := pageNames()
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		t, err := template.New("layout.html").Funcs(funcs).
			ParseFS(fsys, append(append([]string{"templates/layout.html", "templates/banner.html"}, partialFiles...), "templates/"+name+".html")...)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		if t.Lookup("banner") == nil {
			return nil, errors.New(`web: templates/banner.html does not define "banner"`)
		}
		if !callsTemplate(t.Tree.Root, "banner") {
			return nil, errors.New(`web: templates/layout.html must show the impersonation banner: {{with .Banner}}{{template "banner" .}}{{end}}`)
		}
		p.pages[name] = t
	}
	banner, err := parseBanner(fsys)
	if err != nil {
		return nil, err
	}
	p.banner = impersonation(d.Auth, banner, time.Now)
	css, err := fs.ReadFile(fsys, "static/stockade.css")
	if err != nil {
		return nil, fmt.Errorf("web: stylesheet: %w", err)
	}
	p.css = css
	p.routes()
	return p, nil
}

// funcs are the functions every template may call.
var funcs = template.FuncMap{
	"stylesheet": func() string { return StylesheetPath },
	"path":       func(name string) string { return navPaths[name] },
}

// partials are the templates every page may execute beside the layout
// and the banner, each from its own file, "templates/<name>.html", which
// defines it; an overlay may replace such a file, as a page's. They are
// not pages.
var partials = []string{"totp-enrol"}

// partialFiles are the partials' files.
var partialFiles = func() []string {
	out := make([]string, len(partials))
	for i, n := range partials {
		out[i] = "templates/" + n + ".html"
	}
	return out
}()

// pageNames are the pages: every embedded "templates/*.html" but the
// layout, the banner and the partials. An overlay replaces pages; it does not add any.
func pageNames() ([]string, error) {
	entries, err := fs.ReadDir(embedded, "templates")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	var names []string
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".html")
		if name == "layout" || name == "banner" || slices.Contains(partials, name) || name == e.Name() {
			continue
		}
		names = append(names, name)
	}
	return names, nil
}

// filesOf is the embedded files under o.Overlay's.
func filesOf(o Options) fs.FS {
	if o.Overlay != nil {
		return overlay{top: o.Overlay, base: embedded}
	}
	return embedded
}

// callsTemplate reports whether the tree under n executes the template
// name ({{template "name" …}}), in any branch.
func callsTemplate(n parse.Node, name string) bool {
	switch n := n.(type) {
	case *parse.TemplateNode:
		return n.Name == name
	case *parse.ListNode:
		if n == nil {
			return false
		}
		for _, c := range n.Nodes {
			if callsTemplate(c, name) {
				return true
			}
		}
	case *parse.IfNode:
		return callsTemplate(n.List, name) || callsTemplate(n.ElseList, name)
	case *parse.WithNode:
		return callsTemplate(n.List, name) || callsTemplate(n.ElseList, name)
	case *parse.RangeNode:
		return callsTemplate(n.List, name) || callsTemplate(n.ElseList, name)
	}
	return false
}

// overlay is an fs.FS that opens a name in top, and in base when top does
// not have it.
type overlay struct{ top, base fs.FS }

func (o overlay) Open(name string) (fs.File, error) {
	f, err := o.top.Open(name)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return o.base.Open(name)
}

// Handler serves the pages and the stylesheet, and hands every other
// request to next (the API):
//
//	GET  /signin                           sign-in page: password and magic-link forms (shop's host)
//	POST /signin                           {email, password} → session cookie, 303 to /account/security
//	                                       (to /signin/second-factor for a user with a confirmed factor,
//	                                       to /account/security/totp for a member who must enrol one)
//	GET  /signin/second-factor             the challenge: a code from the authenticator app or a recovery code
//	POST /signin/second-factor             {code} | {recovery_code} → the session steps up (AAL2), 303 to /account/security
//	POST /signin/magic-link                {email} → a sign-in link is mailed; the page says so
//	POST /signin/sso                       {email} → the SSO state cookie and a link to the org's identity provider
//	GET  /account/security                 sessions (device, IP, last seen), sign-out forms, change password
//	POST /account/security/sessions/revoke {session} end one of my sessions
//	POST /account/security/sessions/revoke-others   end my other sessions
//	POST /account/security/password        {current_password, new_password} (needs a recent authentication)
//	GET  /account/security/totp            "Set up an authenticator app" (also for a member who must enrol)
//	POST /account/security/totp            starts an enrolment: QR code, secret and a code field to confirm
//	POST /account/security/totp/confirm    {code} → the factor counts, the session is AAL2; the recovery codes, shown once
//	POST /account/security/totp/disable    removes the factor and its recovery codes (needs a recent authentication)
//	POST /account/security/recovery-codes  ten new recovery codes, shown once (needs a recent authentication with the factor)
//	POST /account/security/passkeys/rename {passkey, name}
//	POST /account/security/passkeys/remove {passkey} (needs a recent authentication)
//	GET  /account/reauth                   "Confirm it's you" ?next=PATH (a page of this site)
//	POST /account/reauth                   {next, password | code | recovery_code} → re-authenticated now, 303 to next
//	POST /account/signout                  end this session
//	POST /account/impersonation/exit       end the impersonation behind this session, 303 to /signin
//	GET  /stockade/stockade.css            the stylesheet (any host)
//	GET  /stockade/passkey.js              the passkey script (any host)
//
// The API's GET /auth/sso/callback and GET /auth/oidc/{provider}/callback,
// where an org's IdP or a provider sends the browser back, are served by
// the API behind the pages' headers: their session cookie and 303 pass
// through, and a refusal is the HTML error page (with a link to sign in
// again) rather than a problem document.
//
// A sensitive post refused because the session's authentication is too
// old shows the "Confirm it's you" page rather than an error.
func (p *Pages) Handler(next http.Handler) http.Handler {
	pages := httpapi.RequestID(httpapi.ObservedAccessLog(p.d.Logger, p.d.Requests)(httpapi.Recover(p.d.Logger)(p.mux)))
	callback := headers(p.problemsAsErrorPages(next))
	callbacks := http.NewServeMux() // a browser's way back from an IdP
	callbacks.Handle("GET "+SSOCallbackPath, callback)
	callbacks.Handle("GET "+OIDCCallbackPattern, callback)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, pattern := callbacks.Handler(r); pattern != "" {
			h.ServeHTTP(w, r)
			return
		}
		if _, pattern := p.mux.Handler(r); pattern == "" {
			next.ServeHTTP(w, r)
			return
		}
		pages.ServeHTTP(w, r)
	})
}

// CheckRoutes returns an error naming the first of routes (the API's,
// the embedding app's among them) that a page would hide: the pages are
// served in front of the API, so an app route at a page's method and path
// (GET /signin, POST /account/signout, …) would never be reached. The
// server's assembly calls it, so such a route stops the app at start
// rather than vanishing.
func (p *Pages) CheckRoutes(routes []httpapi.Route) error {
	for _, rt := range routes {
		path := strings.NewReplacer("{", "", "}", "", "...", "").Replace(rt.Path)
		r := &http.Request{Method: rt.Method, Host: "shop.invalid", URL: &url.URL{Path: path}}
		if _, pattern := p.mux.Handler(r); pattern != "" {
			return fmt.Errorf("web: route %s %s is hidden by the page %q served in front of the API: move it", rt.Method, rt.Path, pattern)
		}
	}
	return nil
}

// guards are the middleware the pages' routes are built from.
type guards struct {
	csrf       func(http.Handler) http.Handler
	onShop     func(http.Handler) http.Handler
	onPlatform func(http.Handler) http.Handler
	sess       func(http.Handler) http.Handler
	// pending also serves a session that must still step up or enrol:
	// only in front of the pages that let it do so.
	pending func(http.Handler) http.Handler
	recent  func(http.Handler) http.Handler
	// banner puts the impersonation banner's data in the context.
	banner func(http.Handler) http.Handler
}

// chain wraps h in mws (outermost first), each inside the catcher that
// turns their problem answers into HTML pages, with the pages' headers.
func (p *Pages) chain(h http.HandlerFunc, mws ...func(http.Handler) http.Handler) http.Handler {
	var out http.Handler = h
	for i := len(mws) - 1; i >= 0; i-- {
		out = mws[i](out)
	}
	return headers(p.problemsAsPages(out))
}

func (p *Pages) routes() {
	mux := http.NewServeMux()
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.fail(w, r, fmt.Errorf("cross-origin request refused: %w", ports.ErrForbidden))
	}))
	g := guards{
		csrf:       csrf.Handler,
		onShop:     httpapi.OnShopHost(p.d.Shops),
		onPlatform: httpapi.OnPlatformHost(p.d.Shops),
		sess:       httpapi.RequireSession(p.d.Auth, p.d.TrustForwardedFor),
		pending:    httpapi.RequirePendingSession(p.d.Auth, p.d.TrustForwardedFor),
		// recent shows the "Confirm it's you" page to a session whose
		// authentication is too old for a sensitive post (see reauth.go).
		recent: p.requireRecent,
		banner: p.banner,
	}
	mux.Handle("GET "+StylesheetPath, http.HandlerFunc(p.stylesheet))
	p.accountRoutes(mux, g)
	p.signUpRoutes(mux, g)
	p.settingsRoutes(mux, g)
	p.auditRoutes(mux, g)
	p.consoleRoutes(mux, g)
	p.mux = mux
}

// accountRoutes registers sign-in, the second factor and account
// security.
func (p *Pages) accountRoutes(mux *http.ServeMux, g guards) {
	chain := p.chain
	onShop, sess, pending, recent, csrf := g.onShop, g.sess, g.pending, g.recent, g.csrf
	mux.Handle("GET "+SignInPath, chain(p.signInPage, onShop))
	mux.Handle("POST "+SignInPath, chain(p.signIn, csrf, onShop))
	mux.Handle("POST "+MagicLinkPath, chain(p.magicLink, csrf, onShop))
	mux.Handle("GET "+SignInLinkPath, chain(p.signInLinkPage, onShop))
	mux.Handle("POST "+SignInLinkPath, chain(p.consumeSignInLink, csrf, onShop))
	mux.Handle("GET "+SecurityPath, chain(p.security, onShop, pending, p.banner))
	mux.Handle("POST "+SecurityPath+"/sessions/revoke", chain(p.revokeSession, csrf, onShop, sess, p.banner))
	mux.Handle("POST "+SecurityPath+"/sessions/revoke-others", chain(p.revokeOthers, csrf, onShop, sess, p.banner))
	mux.Handle("POST "+SecurityPath+"/password", chain(p.changePassword, csrf, onShop, sess, p.banner, recent))
	mux.Handle("POST /account/signout", chain(p.signOut, csrf, onShop, pending, p.banner))
	mux.Handle("GET "+SecondFactorPath, chain(p.challengePage, onShop, pending, p.banner))
	mux.Handle("POST "+SecondFactorPath, chain(p.stepUp, csrf, onShop, pending, p.banner))
	mux.Handle("GET "+TOTPPath, chain(p.totpStartPage, onShop, pending, p.banner))
	mux.Handle("POST "+TOTPPath, chain(p.enrolTOTP, csrf, onShop, pending, p.banner))
	mux.Handle("POST "+TOTPPath+"/confirm", chain(p.confirmTOTP, csrf, onShop, pending, p.banner))
	mux.Handle("POST "+TOTPPath+"/disable", chain(p.disableTOTP, csrf, onShop, sess, p.banner, recent))
	mux.Handle("POST "+ImpersonationExitPath, chain(p.exitImpersonation, csrf, onShop, sess))
	p.passkeyRoutes(mux, g)
}

// headers sets the pages' security headers on every answer.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func (p *Pages) stylesheet(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=300")
	http.ServeContent(w, r, "stockade.css", time.Time{}, bytes.NewReader(p.css))
}

// view is what every template gets.
type view struct {
	Title  string
	Shop   ports.Shop
	Notice string
	// Error is a message about the whole form; FieldErrors maps a field's
	// name to why it was refused. Form names the form they belong to.
	Error       string
	FieldErrors map[string]string
	Form        string
	Email       string
	Data        any
	// Banner is the impersonation banner's data while the session is an
	// impersonation (the layout shows the "banner" template with it).
	Banner *ImpersonationView
	// Nav is the navigation for a signed-in member: the pages their role
	// may open, the current one marked.
	Nav []navItem
}

// TOTPEnrolView is the data of the "totp-enrol" partial
// (templates/totp-enrol.html), the authenticator-app enrolment's QR code
// and confirm form that the member's page (totp) and the operator's
// (console-totp) share: a page executes it as
// {{template "totp-enrol" (.TOTPEnrol "<id>" "<confirm action>")}}.
type TOTPEnrolView struct {
	// ID prefixes the elements' ids: ID-secret (the secret), ID-code (the
	// code field) and ID-code-error (its error).
	ID string
	// Action is the confirm form's action.
	Action string
	// QR is the enrolment's QR code as a data: URL, Secret its secret;
	// both empty before an enrolment starts.
	QR     template.URL
	Secret string
	// Confirm shows the confirm form without a secret: a refused code.
	Confirm bool
	// CodeError is why the code was refused, tied to the code field.
	CodeError string
}

// totpEnrolment is a page's data that holds an enrolment's QR code and
// secret.
type totpEnrolment interface {
	enrolment() (template.URL, string)
}

// TOTPEnrol returns the "totp-enrol" partial's data for v: the
// enrolment in v.Data (when it holds one), whether v is a refused
// confirmation, and the code field's error, with id and action.
func (v view) TOTPEnrol(id, action string) TOTPEnrolView {
	e := TOTPEnrolView{ID: id, Action: action, Confirm: v.Form == "confirm", CodeError: v.FieldErrors["code"]}
	if d, ok := v.Data.(totpEnrolment); ok {
		e.QR, e.Secret = d.enrolment()
	}
	return e
}

// render writes page with v and status as an HTML answer.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	if s, ok := httpapi.ShopFrom(r.Context()); ok {
		v.Shop = s
	}
	if b, ok := ImpersonationFrom(r.Context()); ok {
		v.Banner = &b
	}
	if v.Nav == nil {
		v.Nav = p.nav(r)
	}
	var buf bytes.Buffer
	if err := p.pages[page].Execute(&buf, v); err != nil {
		p.d.Logger.Error("web: render", zap.String("page", page), zap.Error(err))
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorView is the error page's data.
type errorView struct {
	Status    int
	Title     string
	Detail    string
	RequestID string
	SignIn    bool
}

// fail answers err as the HTML error page; a sensitive action a use case
// refused for a stale authentication shows the "Confirm it's you" page
// instead (see reauthFor).
func (p *Pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	if p.reauthFor(w, r, err) {
		return
	}
	status := httpapi.StatusOf(err)
	detail := httpapi.PublicDetail(err)
	if status >= 500 {
		p.d.Logger.Error("web: request failed", zap.Int("status", status), zap.Error(err))
		detail = "Something went wrong on our side. Try again in a moment."
	}
	p.errorPage(w, r, errorView{Status: status, Title: http.StatusText(status), Detail: detail, RequestID: httpapi.RequestIDFrom(r.Context())})
}

func (p *Pages) errorPage(w http.ResponseWriter, r *http.Request, e errorView) {
	e.SignIn = e.Status == http.StatusUnauthorized
	if e.Status == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	p.render(w, r, e.Status, "error", view{Title: e.Title, Data: e})
}

// problemsAsPages serves next, turning a problem answer written by the
// middleware in front of a page (no shop at this host, no session, a
// second factor still due, a stale authentication) into the HTML error
// page; a GET without a valid session is redirected to the sign-in page.
func (p *Pages) problemsAsPages(next http.Handler) http.Handler { return p.catchProblems(next, true) }

// problemsAsErrorPages serves next (a route of the API that a browser
// navigates to), turning a problem answer into the HTML error page; unlike
// problemsAsPages it never redirects, so a refused sign-in says why.
func (p *Pages) problemsAsErrorPages(next http.Handler) http.Handler {
	return p.catchProblems(next, false)
}

// catchProblems serves next, answering a problem document it writes with
// the HTML error page, or for a GET refused with 401 and signInOn401, a
// redirect to the sign-in page.
func (p *Pages) catchProblems(next http.Handler, signInOn401 bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &problemCatcher{w: w}
		next.ServeHTTP(c, r)
		if !c.caught {
			return
		}
		var prob httpapi.Problem
		if err := json.Unmarshal(c.buf.Bytes(), &prob); err != nil || prob.Status == 0 {
			prob = httpapi.Problem{Status: c.status, Title: http.StatusText(c.status)}
		}
		if signInOn401 && prob.Status == http.StatusUnauthorized && r.Method == http.MethodGet {
			http.Redirect(w, r, SignInPath, http.StatusSeeOther)
			return
		}
		p.errorPage(w, r, errorView{Status: prob.Status, Title: prob.Title, Detail: prob.Detail, RequestID: prob.RequestID})
	})
}

// problemCatcher passes an answer through unless it is a problem
// document (Content-Type application/problem+json), which it keeps.
type problemCatcher struct {
	w      http.ResponseWriter
	wrote  bool
	caught bool
	status int
	buf    bytes.Buffer
}

func (c *problemCatcher) Header() http.Header { return c.w.Header() }

func (c *problemCatcher) WriteHeader(code int) {
	if c.wrote {
		return
	}
	c.wrote = true
	if strings.HasPrefix(c.w.Header().Get("Content-Type"), "application/problem+json") {
		c.caught, c.status = true, code
		return
	}
	c.w.WriteHeader(code)
}

func (c *problemCatcher) Write(b []byte) (int, error) {
	if !c.wrote {
		c.WriteHeader(http.StatusOK)
	}
	if c.caught {
		return c.buf.Write(b)
	}
	return c.w.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (c *problemCatcher) Unwrap() http.ResponseWriter { return c.w }

// formErrors splits err into field errors (keyed by the form's field
// names through names, from the use case's field names) and a message for
// the whole form.
func formErrors(err error, names map[string]string) (string, map[string]string) {
	fields := map[string]string{}
	for _, fe := range httpapi.FieldErrors(err) {
		name, ok := names[fe.Field]
		if !ok {
			name = fe.Field
		}
		fields[name] = fe.Reason
	}
	if httpapi.StatusOf(err) >= 500 {
		return "Something went wrong on our side. Try again in a moment.", fields
	}
	return httpapi.PublicDetail(err), fields
}

// readForm parses a form post of at most 8 KiB.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, 8192)
	if err := r.ParseForm(); err != nil {
		return nil, ports.Invalid("body", "is not a form")
	}
	return r.PostForm, nil
}

func (p *Pages) client(r *http.Request) auth.Client {
	return httpapi.ClientOf(r, p.d.TrustForwardedFor)
}

func (p *Pages) signInPage(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "signin", view{Title: "Sign in", Notice: signInNotices[r.URL.Query().Get("done")]})
}

func (p *Pages) signIn(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	shop, _ := httpapi.ShopFrom(r.Context())
	email := f.Get("email")
	is, err := p.d.Auth.SignIn(r.Context(), auth.SignInInput{
		Shop: shop.ID, Email: email, Password: f.Get("password"), Client: p.client(r), Replace: httpapi.PresentedSession(r),
	})
	if err != nil {
		msg, fields := formErrors(err, nil)
		p.render(w, r, httpapi.StatusOf(err), "signin", view{Title: "Sign in", Form: "password", Error: msg, FieldErrors: fields, Email: email})
		return
	}
	httpapi.SetSessionCookie(w, is)
	http.Redirect(w, r, landing(is.Principal), http.StatusSeeOther)
}

func (p *Pages) magicLink(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	shop, _ := httpapi.ShopFrom(r.Context())
	email := f.Get("email")
	err = p.d.Auth.RequestMagicLink(r.Context(), auth.MagicLinkRequest{
		Shop: shop.ID, ShopName: shop.Name, Email: email, Client: p.client(r),
		LinkPrefix: p.d.Shops.TokenLink(shop.Slug, SignInLinkPath),
	})
	if err != nil {
		msg, fields := formErrors(err, nil)
		p.render(w, r, httpapi.StatusOf(err), "signin", view{Title: "Sign in", Form: "magic", Error: msg, FieldErrors: fields, Email: email})
		return
	}
	p.render(w, r, http.StatusAccepted, "signin", view{Title: "Sign in", Notice: "If this address belongs to a member of this shop, a sign-in link is on its way."})
}

// signInLinkData is the data of the page a magic link opens.
type signInLinkData struct {
	// Token is the link's token, posted back by the form.
	Token string
	// Spent is set when the link could not sign in (used, expired, or
	// no longer a member's): the page offers a new link instead.
	Spent bool
}

// signInLinkSpent is what the page says when a link no longer signs in.
const signInLinkSpent = "This sign-in link has been used or has expired — ask for a new one."

// signInLinkPage serves the page a mailed magic link opens
// (SignInLinkPath?token=…): a "Sign in" button that posts the token back
// to SignInLinkPath (consumeSignInLink). Opening the page spends nothing,
// so a mail scanner that prefetches the link cannot burn it; a missing or
// malformed token is the error page (400).
func (p *Pages) signInLinkPage(w http.ResponseWriter, r *http.Request) {
	token, err := linkToken(r.URL.Query())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "signin-link", view{Title: "Sign in", Data: signInLinkData{Token: token}})
}

// consumeSignInLink spends the posted magic link token
// (auth.Service.ConsumeMagicLink, replacing the session the browser
// presents): the session cookie is set and the browser lands where a
// sign-in does, the second factor still due or else Deps.AfterSignIn. A
// token that no longer signs in (used, expired) answers the page again,
// 401, saying so with the form asking for a new link; any other refusal
// is the HTML error page. The post is same-origin only (cross-origin
// protection, as every form of the pages).
func (p *Pages) consumeSignInLink(w http.ResponseWriter, r *http.Request) {
	_, token, ok := p.postedToken(w, r)
	if !ok {
		return
	}
	shop, _ := httpapi.ShopFrom(r.Context())
	is, err := p.d.Auth.ConsumeMagicLink(r.Context(), shop.ID, token, p.client(r), httpapi.PresentedSession(r))
	if errors.Is(err, ports.ErrUnauthenticated) {
		p.render(w, r, http.StatusUnauthorized, "signin-link", view{Title: "Sign in", Form: "magic", Error: signInLinkSpent, Data: signInLinkData{Spent: true}})
		return
	} else if err != nil {
		p.fail(w, r, err)
		return
	}
	httpapi.SetSessionCookie(w, is)
	http.Redirect(w, r, p.afterSignIn(is.Principal), http.StatusSeeOther)
}

// afterSignIn is where a magic link's sign-in lands: the second factor
// still due, else Deps.AfterSignIn, else the account security page.
func (p *Pages) afterSignIn(pr auth.Principal) string {
	if pr.Pending != "" || p.d.AfterSignIn == "" {
		return landing(pr)
	}
	return p.d.AfterSignIn
}

// securityData is the account security page's data.
type securityData struct {
	User     ports.User
	Sessions []auth.SessionInfo
	Others   int
	Factors  auth.SecondFactorStatus
	// Passkeys are the member's passkeys on this shop.
	Passkeys []ports.Passkey
}

// notices are the messages a redirect back to the security page may ask
// for (?done=…); any other value shows nothing.
var notices = map[string]string{
	"revoked":         "That session has been signed out.",
	"revoked-others":  "Every other session has been signed out.",
	"password":        "Your password has been changed. Your other sessions have ended.",
	"totp-off":        "Your authenticator app has been removed, with its recovery codes.",
	"passkey-added":   "Your passkey has been added.",
	"passkey-renamed": "Your passkey has been renamed.",
	"passkey-removed": "Your passkey has been removed.",
}

// security serves the account security page; a session that must still
// step up or enrol is sent where it can.
func (p *Pages) security(w http.ResponseWriter, r *http.Request) {
	if pr, _ := httpapi.PrincipalFrom(r.Context()); pr.Pending != "" {
		http.Redirect(w, r, landing(pr), http.StatusSeeOther)
		return
	}
	p.securityPage(w, r, http.StatusOK, view{Notice: notices[r.URL.Query().Get("done")]})
}

func (p *Pages) securityPage(w http.ResponseWriter, r *http.Request, status int, v view) {
	pr, _ := httpapi.PrincipalFrom(r.Context())
	user, err := p.d.Auth.User(r.Context(), pr)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	list, err := p.d.Auth.ListSessions(r.Context(), pr)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	others := 0
	for _, s := range list {
		if !s.Current {
			others++
		}
	}
	factors, err := p.d.Auth.SecondFactors(r.Context(), pr)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	keys, err := p.d.Auth.Passkeys(r.Context(), pr)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v.Title = "Account security"
	v.Data = securityData{User: user, Sessions: list, Others: others, Factors: factors, Passkeys: keys}
	p.render(w, r, status, "security", v)
}

func (p *Pages) revokeSession(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pr, _ := httpapi.PrincipalFrom(r.Context())
	id, err := ports.ParseSessionID(f.Get("session"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if err := p.d.Auth.RevokeSession(r.Context(), pr, id, p.client(r)); err != nil {
		p.fail(w, r, err)
		return
	}
	if id == pr.Session {
		httpapi.ClearSessionCookie(w)
		http.Redirect(w, r, SignInPath, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, SecurityPath+"?done=revoked", http.StatusSeeOther)
}

func (p *Pages) revokeOthers(w http.ResponseWriter, r *http.Request) {
	pr, _ := httpapi.PrincipalFrom(r.Context())
	if _, err := p.d.Auth.RevokeOtherSessions(r.Context(), pr, p.client(r)); err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, SecurityPath+"?done=revoked-others", http.StatusSeeOther)
}

func (p *Pages) changePassword(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	pr, _ := httpapi.PrincipalFrom(r.Context())
	is, err := p.d.Auth.ChangePassword(r.Context(), pr, f.Get("current_password"), f.Get("new_password"), p.client(r))
	if err != nil {
		msg, fields := formErrors(err, map[string]string{"password": "new_password", "new password": "new_password", "current password": "current_password"})
		if errors.Is(err, ports.ErrUnauthenticated) {
			// A wrong current password: tie the message to that field.
			fields["current_password"] = msg
		}
		p.securityPage(w, r, httpapi.StatusOf(err), view{Form: "password", Error: msg, FieldErrors: fields})
		return
	}
	httpapi.SetSessionCookie(w, is)
	http.Redirect(w, r, SecurityPath+"?done=password", http.StatusSeeOther)
}

func (p *Pages) signOut(w http.ResponseWriter, r *http.Request) {
	pr, _ := httpapi.PrincipalFrom(r.Context())
	if err := p.d.Auth.SignOut(r.Context(), pr, p.client(r)); err != nil {
		p.fail(w, r, err)
		return
	}
	httpapi.ClearSessionCookie(w)
	http.Redirect(w, r, SignInPath, http.StatusSeeOther)
}
