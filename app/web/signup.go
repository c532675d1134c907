package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"go.uber.org/zap"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/core/tenancy"
	"github.com/stockadehq/stockade/ports"
)

// SignUpMode is what confirming a sign-up's mailed link does (see
// Options.SignUp).
type SignUpMode int

const (
	// SignUpCreatesShop (the zero value): the verification page asks for
	// the new shop's name and address; confirming creates the account,
	// an org and its first shop with the account as Owner, and lands on
	// the new shop's sign-in page. Without Deps.Tenancy the pages behave
	// as SignUpAccountOnly.
	SignUpCreatesShop SignUpMode = iota
	// SignUpAccountOnly: confirming only creates the account and shows
	// "your account is ready"; the embedding app adds it to a shop.
	SignUpAccountOnly
)

// signUpActor names the system scope the verification page creates the
// new org and shop under (the new account is not a member of any shop
// yet, so it has no scope of its own); the audit event "shop.created"
// names the new account as the shop's owner.
const signUpActor = "web-signup"

// The one answer to every well-formed sign-up and reset request, whether
// or not the address has an account: the pages are no account oracle.
const (
	signUpSent = "Check your mailbox: we sent a link to this address. Follow it to finish signing up."
	resetSent  = "If this address has an account, a link to reset its password is on its way. Check your mailbox."
)

// signInNotices are the messages a redirect to the sign-in page may ask
// for (?done=…); any other value shows nothing.
var signInNotices = map[string]string{
	"account-ready":  "Your account is ready, sign in.",
	"password-reset": "Your password is set, and you are signed out everywhere. Sign in with the new password.",
}

// signUpRoutes registers sign-up with mailbox verification, password
// reset and invitation acceptance:
//
//	GET  /signup                   the sign-up form (platform host and shop hosts)
//	POST /signup                   {name, email, password} → "check your mailbox", always
//	GET  /signup/verify?token=…    the mailed link (platform host): the token in a form, and the new shop's fields
//	POST /signup/verify            {token, shop_name, slug} → the account, an org and its shop; links to the shop's /signin
//	GET  /password-reset           the reset request form (platform host and shop hosts)
//	POST /password-reset           {email} → "a link is on its way", always
//	GET  /password-reset/new?token=…   the mailed link: the token in a form and the new password
//	POST /password-reset/new       {token, new_password} → the password is set; 303 to /signin on a shop host
//	GET  /invitation?token=…       the mailed invitation (shop host): the shop, the role, the form to accept
//	POST /invitation               {token, name, password} → member, signed in; 303 to /account/security
//	GET  /org/invitation?token=…   the mailed org invitation (shop host): what accepting means, accept (signed in) or decline
//	POST /org/invitation           {token}, the invitee's session → the org role; the page says so
//	POST /org/invitation/decline   {token} → declined; the page says so
func (p *Pages) signUpRoutes(mux *http.ServeMux, g guards) {
	anyHost := p.onAnyHost
	mux.Handle("GET "+SignUpPath, p.chain(p.signUpPage, anyHost))
	mux.Handle("POST "+SignUpPath, p.chain(p.signUp, g.csrf, anyHost))
	mux.Handle("GET "+VerifyPath, p.chain(p.verifyPage, g.onPlatform))
	mux.Handle("POST "+VerifyPath, p.chain(p.verify, g.csrf, g.onPlatform))
	mux.Handle("GET "+ResetRequestPath, p.chain(p.resetRequestPage, anyHost))
	mux.Handle("POST "+ResetRequestPath, p.chain(p.requestReset, g.csrf, anyHost))
	mux.Handle("GET "+ResetPath, p.chain(p.resetPage, anyHost))
	mux.Handle("POST "+ResetPath, p.chain(p.reset, g.csrf, anyHost))
	if p.d.Tenancy != nil {
		mux.Handle("GET "+InvitationPath, p.chain(p.invitationPage, g.onShop))
		mux.Handle("POST "+InvitationPath, p.chain(p.acceptInvitation, g.csrf, g.onShop))
		mux.Handle("GET "+OrgInvitationPath, p.chain(p.orgInvitationPage, g.onShop, p.optionalSession(g.sess), g.banner))
		mux.Handle("POST "+OrgInvitationPath, p.chain(p.acceptOrgInvitation, g.csrf, g.onShop, g.sess, g.banner))
		mux.Handle("POST "+OrgInvitationDeclinePath, p.chain(p.declineOrgInvitation, g.csrf, g.onShop))
	}
}

// onAnyHost serves the platform's own host as it is and a shop's host
// with its shop in the context (httpapi.OnShopHost: an unknown or
// suspended shop is refused).
func (p *Pages) onAnyHost(next http.Handler) http.Handler {
	onShop := httpapi.OnShopHost(p.d.Shops)(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.d.Shops.IsPublicHost(r.Host) {
			next.ServeHTTP(w, r)
			return
		}
		onShop.ServeHTTP(w, r)
	})
}

// createsShop reports whether confirming a sign-up creates a shop.
func (p *Pages) createsShop() bool {
	return p.signUpMode == SignUpCreatesShop && p.d.Tenancy != nil
}

// linkToken reads a mailed link's token from the query; a missing or
// oversized one is ErrInvalid. The token is never logged: the access log
// records the path only.
func linkToken(v url.Values) (string, error) {
	token := v.Get("token")
	if token == "" || len(token) > 64 {
		return "", ports.Invalid("token", "is missing or malformed; open the link from the message again")
	}
	return token, nil
}

// postedToken reads a token page's posted form and its token; on a form
// or token that does not parse it answers the error page and returns
// false.
func (p *Pages) postedToken(w http.ResponseWriter, r *http.Request) (url.Values, string, bool) {
	f, err := readForm(w, r)
	var token string
	if err == nil {
		token, err = linkToken(f)
	}
	if err != nil {
		p.fail(w, r, err)
		return nil, "", false
	}
	return f, token, true
}

// signUpData is the sign-up page's data.
type signUpData struct {
	Name string
	Sent bool
}

func (p *Pages) signUpPage(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "signup", view{Title: "Create an account", Data: signUpData{}})
}

func (p *Pages) signUp(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	email, name := f.Get("email"), f.Get("name")
	err = p.d.Auth.SignUp(r.Context(), auth.SignUpInput{
		Email: email, Name: name, Password: f.Get("password"), Client: p.client(r),
		LinkPrefix: p.d.Shops.TokenLink("", VerifyPath),
	})
	if err != nil {
		msg, fields := formErrors(err, nil)
		p.render(w, r, httpapi.StatusOf(err), "signup", view{Title: "Create an account", Form: "signup", Error: msg, FieldErrors: fields, Email: email, Data: signUpData{Name: name}})
		return
	}
	p.render(w, r, http.StatusAccepted, "signup", view{Title: "Check your mailbox", Notice: signUpSent, Data: signUpData{Sent: true}})
}

// verifyData is the verification page's data.
type verifyData struct {
	Token      string
	CreateShop bool
	ShopName   string
	Slug       string
	// Host is the platform's host a shop's address is a label of.
	Host string
	// Done: the account exists; with CreateShop, SignInURL is the new
	// shop's sign-in page (empty when the shop could not be created:
	// Error says why).
	Done      bool
	SignInURL string
}

func (p *Pages) verifyData(token string) verifyData {
	host := ""
	if u, err := url.Parse(p.d.Shops.PublicURL("/")); err == nil {
		host = u.Host
	}
	return verifyData{Token: token, CreateShop: p.createsShop(), Host: host}
}

func (p *Pages) verifyPage(w http.ResponseWriter, r *http.Request) {
	token, err := linkToken(r.URL.Query())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "verify", view{Title: "Finish signing up", Data: p.verifyData(token)})
}

// verify confirms a sign-up. With SignUpCreatesShop the shop's fields
// (and that its address is free) are checked before the token is spent,
// so a refused shop shows the form again with the link still valid; then
// the account is created (auth.Service.ConfirmSignUp) and the org with
// its first shop (tenancy.Service.CreateOrg under a system scope, the new
// account its owner); the page then links to the new shop's sign-in page,
// which shows "Your account is ready, sign in". These are two units of
// work, as the use cases are: if the shop cannot be created after the
// account was (its address taken in between), the page says the account
// is ready and the shop is not.
func (p *Pages) verify(w http.ResponseWriter, r *http.Request) {
	f, token, ok := p.postedToken(w, r)
	if !ok {
		return
	}
	data := p.verifyData(token)
	if !data.CreateShop {
		if _, err := p.d.Auth.ConfirmSignUp(r.Context(), token, p.client(r)); err != nil {
			p.fail(w, r, err)
			return
		}
		data.Done = true
		p.render(w, r, http.StatusOK, "verify", view{Title: "Your account is ready", Notice: "Your account is ready.", Data: data})
		return
	}
	data.ShopName, data.Slug = strings.TrimSpace(f.Get("shop_name")), strings.TrimSpace(f.Get("slug"))
	sys := access.With(r.Context(), access.Scope{System: signUpActor})
	in := tenancy.NewOrg{Name: data.ShopName, Slug: data.Slug, ShopName: data.ShopName}
	slug, err := p.d.Tenancy.CheckNewOrg(sys, in)
	if err != nil {
		msg, fields := formErrors(err, map[string]string{"name": "shop_name"})
		if errors.Is(err, ports.ErrConflict) {
			fields["slug"] = "is taken by another shop; choose another"
		}
		p.render(w, r, httpapi.StatusOf(err), "verify", view{Title: "Finish signing up", Form: "verify", Error: msg, FieldErrors: fields, Data: data})
		return
	}
	user, err := p.d.Auth.ConfirmSignUp(r.Context(), token, p.client(r))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	in.Slug, in.Owner = slug, user.ID
	_, shop, err := p.d.Tenancy.CreateOrg(sys, in)
	if err != nil {
		p.d.Logger.Warn("web: sign-up confirmed, shop not created", zap.String("slug", slug), zap.Error(err))
		msg, _ := formErrors(err, nil)
		data.Done = true
		p.render(w, r, httpapi.StatusOf(err), "verify", view{Title: "Your account is ready", Form: "verify",
			Error: "Your account is ready, but the shop could not be created: " + msg, Data: data})
		return
	}
	// Not a redirect: the pages' CSP (form-action 'self') stops a
	// browser from following a form post's redirect to another origin,
	// and the new shop's host is one. The page links to its sign-in.
	data.Done, data.ShopName, data.SignInURL = true, shop.Name, p.d.Shops.URL(shop.Slug, SignInPath)+"?done=account-ready"
	p.render(w, r, http.StatusCreated, "verify", view{Title: "Your account is ready", Data: data})
}

// resetData is the password reset pages' data.
type resetData struct {
	Token string
	Sent  bool
	Done  bool
}

func (p *Pages) resetRequestPage(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "reset-request", view{Title: "Reset your password", Data: resetData{}})
}

// requestReset mails a reset link. Asked on a shop's host, the link opens
// the reset page on that host (and lands on its sign-in page); asked on
// the platform's host, on the platform's host, as the API's link does.
func (p *Pages) requestReset(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	shop, _ := httpapi.ShopFrom(r.Context()) // none on the platform's host: Slug ""
	email := f.Get("email")
	err = p.d.Auth.RequestPasswordReset(r.Context(), auth.ResetRequest{Email: email, LinkPrefix: p.d.Shops.TokenLink(shop.Slug, ResetPath), Client: p.client(r)})
	if err != nil {
		msg, fields := formErrors(err, nil)
		p.render(w, r, httpapi.StatusOf(err), "reset-request", view{Title: "Reset your password", Form: "reset-request", Error: msg, FieldErrors: fields, Email: email, Data: resetData{}})
		return
	}
	p.render(w, r, http.StatusAccepted, "reset-request", view{Title: "Check your mailbox", Notice: resetSent, Data: resetData{Sent: true}})
}

func (p *Pages) resetPage(w http.ResponseWriter, r *http.Request) {
	token, err := linkToken(r.URL.Query())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "reset", view{Title: "Choose a new password", Data: resetData{Token: token}})
}

// reset sets the new password (auth.Service.ResetPassword). A password
// the policy refuses shows the form again, the link still valid; a used
// or expired link is the error page.
func (p *Pages) reset(w http.ResponseWriter, r *http.Request) {
	f, token, ok := p.postedToken(w, r)
	if !ok {
		return
	}
	if err := p.d.Auth.ResetPassword(r.Context(), token, f.Get("new_password"), p.client(r)); err != nil {
		if !errors.Is(err, ports.ErrInvalid) {
			p.fail(w, r, err)
			return
		}
		msg, fields := formErrors(err, map[string]string{"password": "new_password"})
		p.render(w, r, httpapi.StatusOf(err), "reset", view{Title: "Choose a new password", Form: "reset", Error: msg, FieldErrors: fields, Data: resetData{Token: token}})
		return
	}
	if _, ok := httpapi.ShopFrom(r.Context()); ok {
		http.Redirect(w, r, SignInPath+"?done=password-reset", http.StatusSeeOther)
		return
	}
	p.render(w, r, http.StatusOK, "reset", view{Title: "Your password is set", Notice: signInNotices["password-reset"] + " Use your shop's sign-in page.", Data: resetData{Done: true}})
}

// invitationData is the invitation page's data.
type invitationData struct {
	Token string
	Email string
	Role  ports.Role
	// HasAccount: the invited address has an account, which the mailed
	// token signs in (as a sign-in link does); otherwise the person
	// chooses a name and a password.
	HasAccount bool
	Name       string
}

// invitationView reads the pending invitation token names in the shop of
// the request.
func (p *Pages) invitationView(r *http.Request, token string) (invitationData, error) {
	shop, _ := httpapi.ShopFrom(r.Context())
	inv, err := p.d.Tenancy.PendingInvitation(r.Context(), shop.ID, token)
	if err != nil {
		return invitationData{}, err
	}
	_, err = p.d.Auth.UserByEmail(r.Context(), inv.Email)
	if err != nil && !errors.Is(err, ports.ErrNotFound) {
		return invitationData{}, err
	}
	return invitationData{Token: token, Email: inv.Email, Role: inv.Role, HasAccount: err == nil}, nil
}

func (p *Pages) invitationPage(w http.ResponseWriter, r *http.Request) {
	token, err := linkToken(r.URL.Query())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	data, err := p.invitationView(r, token)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "invitation", view{Title: "Accept the invitation", Data: data})
}

// acceptInvitation accepts (tenancy.Service.AcceptInvitation): the
// session cookie is set and the page lands where a sign-in would
// (account security, or the second factor the shop requires).
func (p *Pages) acceptInvitation(w http.ResponseWriter, r *http.Request) {
	f, token, ok := p.postedToken(w, r)
	if !ok {
		return
	}
	data, err := p.invitationView(r, token)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	data.Name = f.Get("name")
	password := f.Get("password")
	if !data.HasAccount && password == "" {
		err = ports.Invalid("password", "choose a password")
	} else {
		shop, _ := httpapi.ShopFrom(r.Context())
		var is auth.Issued
		is, err = p.d.Tenancy.AcceptInvitation(r.Context(), tenancy.AcceptInput{
			Shop: shop.ID, Token: token, Name: data.Name, Password: password,
			Client: p.client(r), Replace: httpapi.PresentedSession(r),
		})
		if err == nil {
			httpapi.SetSessionCookie(w, is)
			http.Redirect(w, r, landing(is.Principal), http.StatusSeeOther)
			return
		}
	}
	if !errors.Is(err, ports.ErrInvalid) {
		p.fail(w, r, err)
		return
	}
	msg, fields := formErrors(err, nil)
	p.render(w, r, httpapi.StatusOf(err), "invitation", view{Title: "Accept the invitation", Form: "invitation", Error: msg, FieldErrors: fields, Data: data})
}

// orgInvitationData is the org invitation page's data.
type orgInvitationData struct {
	Token string
	// OrgName, Role and Email are the pending invitation's org, the org
	// role it gives and the address it was sent to.
	OrgName string
	Role    ports.OrgRole
	Email   string
	// SignedInAs is the address of the account whose session the browser
	// presents on this shop; empty when it presents none (accepting then
	// needs a sign-in first).
	SignedInAs string
	// Done is set once the invitation is accepted or declined: the page
	// shows Notice only.
	Done bool
}

// orgInvitationPage serves the page a mailed org invitation opens
// (OrgInvitationPath?token=…, the shop's host): the org, the role and the
// address it was sent to (tenancy.Service.PendingOrgInvitation), what
// accepting means, the "Accept" button when the browser presents a
// session on this shop (else a link to sign in, after which the person
// opens the link again), and "Decline". Opening it changes nothing; a
// missing or malformed token is the error page (400), a used, declined,
// revoked, expired or unknown one the error page (404).
func (p *Pages) orgInvitationPage(w http.ResponseWriter, r *http.Request) {
	token, err := linkToken(r.URL.Query())
	if err != nil {
		p.fail(w, r, err)
		return
	}
	shop, _ := httpapi.ShopFrom(r.Context())
	pv, err := p.d.Tenancy.PendingOrgInvitation(r.Context(), shop.ID, token)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	data := orgInvitationData{Token: token, OrgName: pv.Org.Name, Role: pv.Invitation.Role, Email: pv.Invitation.Email}
	if pr, ok := httpapi.PrincipalFrom(r.Context()); ok {
		if u, err := p.d.Auth.User(r.Context(), pr); err == nil {
			data.SignedInAs = u.Email
		}
	}
	p.render(w, r, http.StatusOK, "org-invitation", view{Title: "Organisation invitation", Data: data})
}

// acceptOrgInvitation accepts the posted org invitation as the session's
// account (tenancy.Service.AcceptOrgInvitation, the invitee only): the
// page says which role the account now holds. Without a session the
// request is refused (401) by the session guard, as the HTML error page
// with a link to sign in; a token that is used, revoked, expired or for
// another address is the error page too.
func (p *Pages) acceptOrgInvitation(w http.ResponseWriter, r *http.Request) {
	_, token, ok := p.postedToken(w, r)
	if !ok {
		return
	}
	m, err := p.d.Tenancy.AcceptOrgInvitation(r.Context(), token)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "org-invitation", view{Title: "Invitation accepted",
		Notice: "You accepted the invitation: you are now the organisation's " + string(m.Role) + ".", Data: orgInvitationData{Done: true}})
}

// declineOrgInvitation declines the posted org invitation
// (tenancy.Service.DeclineOrgInvitation, no session needed: the token is
// the proof); an unusable token is the HTML error page.
func (p *Pages) declineOrgInvitation(w http.ResponseWriter, r *http.Request) {
	_, token, ok := p.postedToken(w, r)
	if !ok {
		return
	}
	shop, _ := httpapi.ShopFrom(r.Context())
	if err := p.d.Tenancy.DeclineOrgInvitation(r.Context(), shop.ID, token, p.client(r)); err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "org-invitation", view{Title: "Invitation declined",
		Notice: "You declined the invitation. Nothing else changed.", Data: orgInvitationData{Done: true}})
}

// optionalSession serves a request presenting a session that
// authenticates on the shop through sess (the principal and access scope
// in its context, as for any signed-in page), and any other request, with
// no session or a stale one, as it is: for a page that shows more to a
// signed-in person but refuses no one.
func (p *Pages) optionalSession(sess func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		signedIn := sess(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := r.Cookie(auth.SessionCookieName)
			if err != nil {
				next.ServeHTTP(w, r)
				return
			}
			shop, _ := httpapi.ShopFrom(r.Context())
			if _, err := p.d.Auth.Authenticate(r.Context(), shop.ID, c.Value); err != nil {
				next.ServeHTTP(w, r)
				return
			}
			signedIn.ServeHTTP(w, r)
		})
	}
}
