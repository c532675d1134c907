package web

import (
	"context"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// Paths of the operator console beyond ConsolePath and ConsoleSignInPath,
// all on the platform's own host.
const (
	// ConsoleTOTPPath is the operator's authenticator-app enrolment: an
	// operator who signed in without a factor may do nothing else.
	ConsoleTOTPPath = "/console/totp"
	// ConsoleImpersonatePath starts an impersonation (a form post with
	// shop, user and reason) and answers the hand-off page.
	ConsoleImpersonatePath = "/console/impersonate"
	// ConsoleSignOutPath ends the operator session.
	ConsoleSignOutPath = "/console/signout"
)

// ConsoleMembersShown is how many members the console's member list of a
// shop shows at most: the first by joining. The page says how many more
// there are; the e-mail lookup finds any of them.
const ConsoleMembersShown = 200

// consoleRoutes registers the operator console on the platform's host:
//
//	GET  /console/signin        e-mail, password and authenticator code
//	POST /console/signin        auth.Service.OperatorSignIn → operator cookie, 303 to /console
//	                            (to /console/totp for an operator without a factor)
//	GET  /console/totp          "Set up an authenticator app" (operator session, any assurance)
//	POST /console/totp          EnrolOperatorTOTP: QR code, secret and a code field
//	POST /console/totp/confirm  {code} ConfirmOperatorTOTP: the recovery codes, shown once
//	GET  /console               find a shop (?shop=slug) and a member (?email=…); AAL2 only;
//	                            ?members=1 lists the shop's members (audited, ConsoleMembersShown)
//	POST /console/impersonate   {shop, user, reason} StartImpersonation → the hand-off page
//	POST /console/signout       OperatorSignOut, 303 to /console/signin
//
// Every console page is served only on the platform's host (a shop's
// host gets 404), with the pages' headers (no-store among them); every
// post passes the cross-origin protection; a request without a valid
// operator session is redirected to the console's sign-in page.
func (p *Pages) consoleRoutes(mux *http.ServeMux, g guards) {
	op, op2 := p.operator(false), p.operator(true)
	on, csrf := g.onPlatform, g.csrf
	mux.Handle("GET "+ConsoleSignInPath, p.chain(p.consoleSignInPage, on))
	mux.Handle("POST "+ConsoleSignInPath, p.chain(p.consoleSignIn, on, csrf))
	mux.Handle("GET "+ConsoleTOTPPath, p.chain(p.consoleTOTPPage, on, op))
	mux.Handle("POST "+ConsoleTOTPPath, p.chain(p.consoleEnrolTOTP, on, csrf, op))
	mux.Handle("POST "+ConsoleTOTPPath+"/confirm", p.chain(p.consoleConfirmTOTP, on, csrf, op))
	mux.Handle("GET "+ConsolePath, p.chain(p.consolePage, on, op2))
	mux.Handle("POST "+ConsoleImpersonatePath, p.chain(p.consoleImpersonate, on, csrf, op2))
	mux.Handle("POST "+ConsoleSignOutPath, p.chain(p.consoleSignOut, on, csrf, op))
}

type operatorKey struct{}

// operatorFrom returns the operator principal operator put in ctx.
func operatorFrom(ctx context.Context) auth.OperatorPrincipal {
	o, _ := ctx.Value(operatorKey{}).(auth.OperatorPrincipal)
	return o
}

// operator returns the guard that serves next only with a valid operator
// session (auth.Service.AuthenticateOperator), redirecting any other
// request to the console's sign-in page; with aal2 an operator session
// that has not used its second factor is sent to the enrolment page.
func (p *Pages) operator(aal2 bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			o, err := p.d.Auth.AuthenticateOperator(r.Context(), httpapi.OperatorCookie(r))
			if errors.Is(err, ports.ErrUnauthenticated) {
				if httpapi.OperatorCookie(r) != "" {
					httpapi.ClearOperatorCookie(w)
				}
				http.Redirect(w, r, ConsoleSignInPath, http.StatusSeeOther)
				return
			}
			if err != nil {
				p.fail(w, r, err)
				return
			}
			if aal2 && o.AAL < ports.AAL2 {
				http.Redirect(w, r, ConsoleTOTPPath, http.StatusSeeOther)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), operatorKey{}, o)))
		})
	}
}

func (p *Pages) consoleSignInPage(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "console-signin", view{Title: "Operator sign-in"})
}

// consoleSignIn signs an operator in: with a confirmed factor's code the
// session is AAL2 and lands on the console; a first sign-in whose code
// confirmed the factor enrolled by the CLI shows the recovery codes once;
// an operator without a factor lands on the enrolment page.
func (p *Pages) consoleSignIn(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	email := f.Get("email")
	is, err := p.d.Auth.OperatorSignIn(r.Context(), auth.OperatorSignInInput{
		Email: email, Password: f.Get("password"), Code: strings.TrimSpace(f.Get("code")),
		Client: p.client(r), Replace: httpapi.OperatorCookie(r),
	})
	if err != nil {
		msg, fields := formErrors(err, nil)
		p.render(w, r, httpapi.StatusOf(err), "console-signin", view{Title: "Operator sign-in", Form: "signin", Error: msg, FieldErrors: fields, Email: email})
		return
	}
	httpapi.SetOperatorCookie(w, is)
	switch {
	case len(is.RecoveryCodes) > 0:
		p.render(w, r, http.StatusOK, "console-totp", view{Title: "Your recovery codes", Data: consoleTOTPData{RecoveryCodes: is.RecoveryCodes}})
	case is.Principal.AAL < ports.AAL2:
		http.Redirect(w, r, ConsoleTOTPPath, http.StatusSeeOther)
	default:
		http.Redirect(w, r, ConsolePath, http.StatusSeeOther)
	}
}

// consoleTOTPData is the operator enrolment page's data.
type consoleTOTPData struct {
	// QR is the enrolment's QR code as a data: URL, Secret its secret;
	// both empty before the operator starts an enrolment.
	QR            template.URL
	Secret        string
	RecoveryCodes []string
}

func (d consoleTOTPData) enrolment() (template.URL, string) { return d.QR, d.Secret }

func (p *Pages) consoleTOTPPage(w http.ResponseWriter, r *http.Request) {
	if operatorFrom(r.Context()).AAL >= ports.AAL2 {
		http.Redirect(w, r, ConsolePath, http.StatusSeeOther)
		return
	}
	p.render(w, r, http.StatusOK, "console-totp", view{Title: "Set up an authenticator app", Data: consoleTOTPData{}})
}

func (p *Pages) consoleEnrolTOTP(w http.ResponseWriter, r *http.Request) {
	en, err := p.d.Auth.EnrolOperatorTOTP(r.Context(), httpapi.OperatorCookie(r))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "console-totp", view{Title: "Set up an authenticator app", Data: consoleTOTPData{
		QR:     template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(en.QRPNG)), // #nosec G203: a data: URL of our own PNG
		Secret: en.Secret,
	}})
}

func (p *Pages) consoleConfirmTOTP(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	codes, _, err := p.d.Auth.ConfirmOperatorTOTP(r.Context(), httpapi.OperatorCookie(r), strings.TrimSpace(f.Get("code")))
	if err != nil {
		msg, fields := formErrors(err, nil)
		if _, ok := fields["code"]; !ok && httpapi.StatusOf(err) < 500 {
			fields["code"] = msg
		}
		p.render(w, r, httpapi.StatusOf(err), "console-totp", view{Title: "Set up an authenticator app", Form: "confirm", Error: msg, FieldErrors: fields, Data: consoleTOTPData{}})
		return
	}
	p.render(w, r, http.StatusOK, "console-totp", view{Title: "Your recovery codes", Data: consoleTOTPData{RecoveryCodes: codes}})
}

// consoleData is the console page's data: the operator, and the shop and
// member found so far.
type consoleData struct {
	Operator auth.OperatorPrincipal
	// ShopQuery and EmailQuery are what was searched for.
	ShopQuery  string
	EmailQuery string
	Shop       *ports.Shop
	Member     *ports.User
	Reason     string
	// Members is the shop's member list when the operator asked for it
	// (?members=1), nil otherwise.
	Members *auth.ShopMembers
}

// More is how many members the list leaves out.
func (d consoleData) More() int {
	if d.Members == nil {
		return 0
	}
	return d.Members.Total - len(d.Members.Members)
}

// consolePage finds a shop by its slug (?shop=) and, in it, a user by
// e-mail address (?email=); whether they are a member of the shop is
// checked, and audited, by StartImpersonation. With ?members=1 it lists
// the shop's members (auth.Service.ShopMembersForOperator, audited in the
// shop's log, at most ConsoleMembersShown), each with a link back here
// with their e-mail address, which opens the impersonation form.
func (p *Pages) consolePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := consoleData{Operator: operatorFrom(r.Context()), ShopQuery: strings.TrimSpace(q.Get("shop")), EmailQuery: strings.TrimSpace(q.Get("email"))}
	v := view{Title: "Operator console"}
	status := http.StatusOK
	if d.ShopQuery != "" {
		shop, err := p.d.Auth.ShopBySlug(r.Context(), strings.ToLower(d.ShopQuery))
		if err != nil {
			status = p.consoleRefusal(&v, "shop", err)
		} else {
			d.Shop = &shop
		}
	}
	if d.Shop != nil && d.EmailQuery != "" {
		user, err := p.d.Auth.UserByEmail(r.Context(), d.EmailQuery)
		if errors.Is(err, ports.ErrNotFound) {
			err = ports.Invalid("email", "no user has this e-mail address")
		}
		if err != nil {
			status = p.consoleRefusal(&v, "email", err)
		} else {
			d.Member = &user
		}
	}
	if d.Shop != nil && q.Get("members") != "" && status == http.StatusOK {
		ms, err := p.d.Auth.ShopMembersForOperator(r.Context(), httpapi.OperatorCookie(r), d.Shop.Slug, ConsoleMembersShown, p.client(r))
		if err != nil {
			p.fail(w, r, err)
			return
		}
		d.Members = &ms
	}
	v.Data = d
	p.render(w, r, status, "console", v)
}

// consoleRefusal ties err to the form field of the console page and
// returns the status to answer with.
func (p *Pages) consoleRefusal(v *view, field string, err error) int {
	msg, fields := formErrors(err, nil)
	if _, ok := fields[field]; !ok {
		fields[field] = msg
	}
	v.Form, v.Error, v.FieldErrors = field, msg, fields
	return httpapi.StatusOf(err)
}

// handoffData is the hand-off page's data: the form that carries the
// one-time code to the shop's host.
type handoffData struct {
	Shop        ports.Shop
	MemberEmail string
	Action      string
	Code        string
	ExpiresAt   time.Time
}

// consoleImpersonate starts an impersonation (a reason is required) and
// answers the hand-off page: a form, with no script, whose button posts
// the one-time code to the shop's POST /auth/impersonation/enter. The
// page's CSP lets forms post to that one origin beside its own.
func (p *Pages) consoleImpersonate(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d := consoleData{Operator: operatorFrom(r.Context()), ShopQuery: strings.TrimSpace(f.Get("shop")), EmailQuery: strings.TrimSpace(f.Get("user")), Reason: f.Get("reason")}
	st, err := p.d.Auth.StartImpersonation(r.Context(), httpapi.OperatorCookie(r), auth.StartImpersonationInput{
		Shop: d.ShopQuery, User: d.EmailQuery, Reason: d.Reason, Client: p.client(r),
	})
	if err != nil {
		v := view{Title: "Operator console"}
		field := "reason"
		if errors.Is(err, ports.ErrNotFound) {
			field = "email"
		}
		status := p.consoleRefusal(&v, field, err)
		// Show the shop and member again so the operator can correct the
		// form; a lookup failure leaves them out.
		if shop, err := p.d.Auth.ShopBySlug(r.Context(), strings.ToLower(d.ShopQuery)); err == nil {
			d.Shop = &shop
			if user, err := p.d.Auth.UserByEmail(r.Context(), d.EmailQuery); err == nil {
				d.Member = &user
			}
		}
		v.Data = d
		p.render(w, r, status, "console", v)
		return
	}
	action := p.d.Shops.URL(st.Shop.Slug, "/auth/impersonation/enter")
	if u, err := url.Parse(action); err == nil {
		origin := u.Scheme + "://" + u.Host
		w.Header().Set("Content-Security-Policy", strings.Replace(CSP, "form-action 'self'", "form-action 'self' "+origin, 1))
	}
	p.render(w, r, http.StatusCreated, "console-handoff", view{Title: "Continue to " + st.Shop.Name, Data: handoffData{
		Shop: st.Shop, MemberEmail: d.EmailQuery, Action: action, Code: st.Code, ExpiresAt: st.ExpiresAt.UTC(),
	}})
}

func (p *Pages) consoleSignOut(w http.ResponseWriter, r *http.Request) {
	if err := p.d.Auth.OperatorSignOut(r.Context(), httpapi.OperatorCookie(r)); err != nil && !errors.Is(err, ports.ErrUnauthenticated) {
		p.fail(w, r, err)
		return
	}
	httpapi.ClearOperatorCookie(w)
	http.Redirect(w, r, ConsoleSignInPath, http.StatusSeeOther)
}
