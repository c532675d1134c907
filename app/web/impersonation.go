package web

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/auth"
)

// ImpersonationExitPath is the page form that ends the impersonation
// behind the session (auth.Service.ExitImpersonation, as
// POST /auth/impersonation/exit) and lands on /signin. The banner's Exit
// button posts here.
const ImpersonationExitPath = "/account/impersonation/exit"

// ImpersonationView is what the impersonation banner shows (AUD-5): who
// is acting as whom, in which shop, until when.
type ImpersonationView struct {
	// OperatorEmail is the e-mail address of the operator acting as the
	// member.
	OperatorEmail string
	// MemberName and MemberEmail name the member being impersonated.
	MemberName  string
	MemberEmail string
	// ShopName and ShopSlug name the shop.
	ShopName string
	ShopSlug string
	// Reason is the reason the operator gave.
	Reason string
	// ExpiresAt is the impersonation's fixed end; TimeLeft says how long
	// until then, as text ("12 minutes left"), when the page was made.
	ExpiresAt time.Time
	TimeLeft  string
	// ExitPath is where the Exit form posts (ImpersonationExitPath).
	ExitPath string
}

type bannerKey struct{}

// bannerValue is what Impersonation puts in the request's context: the
// banner's data and the template that renders it.
type bannerValue struct {
	view ImpersonationView
	tmpl *template.Template
}

// ImpersonationFrom returns the banner's data that Impersonation put in
// ctx; false when the request's session is not an impersonation (or the
// middleware did not run).
func ImpersonationFrom(ctx context.Context) (ImpersonationView, bool) {
	v, ok := ctx.Value(bannerKey{}).(bannerValue)
	return v.view, ok
}

// Banner renders the impersonation banner (the "banner" template of
// templates/banner.html, the overlay's where it has one) for r, whose
// context went through Impersonation; "" when the session is not an
// impersonation. An app calls it from its own templates, e.g. as a
// template function or a field of its view, at the top of <body>. The
// banner carries no script and no style attribute: it is styled by
// Stockade's stylesheet (class "st-impersonation"), or by the app's.
func Banner(r *http.Request) template.HTML {
	v, ok := r.Context().Value(bannerKey{}).(bannerValue)
	if !ok {
		return ""
	}
	var buf bytes.Buffer
	if err := v.tmpl.ExecuteTemplate(&buf, "banner", v.view); err != nil {
		// The banner must not silently vanish: say so in plain text.
		return template.HTML(template.HTMLEscapeString(fmt.Sprintf(
			"An operator (%s) is acting as this member until %s.", v.view.OperatorEmail, v.view.ExpiresAt.UTC().Format(time.RFC3339))))
	}
	return template.HTML(buf.String()) // #nosec G203: rendered by html/template above
}

// Impersonation returns the middleware that, for a request whose session
// (httpapi.RequireSession, which must run first) is an impersonation,
// puts the banner's data in the request's context for Banner and
// ImpersonationFrom; any other request passes through untouched. When
// the impersonation cannot be read, the request is answered with a
// problem rather than served without its banner. o.Overlay, when set,
// may replace "templates/banner.html" (it must define "banner"); a
// banner template that does not parse is an error.
func Impersonation(svc *auth.Service, o Options) (func(http.Handler) http.Handler, error) {
	if svc == nil {
		return nil, fmt.Errorf("web: Impersonation needs the auth service")
	}
	tmpl, err := parseBanner(filesOf(o))
	if err != nil {
		return nil, err
	}
	return impersonation(svc, tmpl, time.Now), nil
}

func parseBanner(fsys fs.FS) (*template.Template, error) {
	t, err := template.ParseFS(fsys, "templates/banner.html")
	if err != nil {
		return nil, fmt.Errorf("web: template banner: %w", err)
	}
	if t.Lookup("banner") == nil {
		return nil, fmt.Errorf("web: templates/banner.html does not define \"banner\"")
	}
	return t, nil
}

func impersonation(svc *auth.Service, tmpl *template.Template, now func() time.Time) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			pr, ok := httpapi.PrincipalFrom(r.Context())
			if !ok || !pr.Impersonated() {
				next.ServeHTTP(w, r)
				return
			}
			info, err := svc.Impersonation(r.Context(), pr)
			if err != nil {
				httpapi.WriteProblem(w, r, fmt.Errorf("read the impersonation for its banner: %w", err))
				return
			}
			user, err := svc.User(r.Context(), pr)
			if err != nil {
				httpapi.WriteProblem(w, r, fmt.Errorf("read the impersonated member for the banner: %w", err))
				return
			}
			shop, _ := httpapi.ShopFrom(r.Context())
			v := ImpersonationView{
				OperatorEmail: info.OperatorEmail, MemberName: user.Name, MemberEmail: user.Email,
				ShopName: shop.Name, ShopSlug: shop.Slug, Reason: info.Reason,
				ExpiresAt: info.ExpiresAt.UTC(), TimeLeft: timeLeft(info.ExpiresAt.Sub(now())),
				ExitPath: ImpersonationExitPath,
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bannerKey{}, bannerValue{view: v, tmpl: tmpl})))
		})
	}
}

// timeLeft says d as text, rounded up to the minute: "1 minute left",
// "25 minutes left", "1 h 5 min left"; "ending now" when d is not
// positive.
func timeLeft(d time.Duration) string {
	if d <= 0 {
		return "ending now"
	}
	m := int((d + time.Minute - 1) / time.Minute)
	switch {
	case m == 1:
		return "1 minute left"
	case m < 60:
		return fmt.Sprintf("%d minutes left", m)
	case m%60 == 0:
		return fmt.Sprintf("%d h left", m/60)
	default:
		return fmt.Sprintf("%d h %d min left", m/60, m%60)
	}
}

// exitImpersonation ends the impersonation behind the session, clears
// the cookie and lands on the sign-in page.
func (p *Pages) exitImpersonation(w http.ResponseWriter, r *http.Request) {
	pr, _ := httpapi.PrincipalFrom(r.Context())
	if err := p.d.Auth.ExitImpersonation(r.Context(), pr, p.client(r)); err != nil {
		p.fail(w, r, err)
		return
	}
	httpapi.ClearSessionCookie(w)
	http.Redirect(w, r, SignInPath, http.StatusSeeOther)
}
