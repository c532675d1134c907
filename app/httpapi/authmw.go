package httpapi

import (
	"context"
	"errors"
	"fmt"
	"github.com/stockadehq/stockade/core/access"
	"net"
	"net/http"
	"strings"

	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/ports"
)

// AuthDeps is what the authentication routes need.
type AuthDeps struct {
	Service *auth.Service
	Shops   *HostShops
	// TrustForwardedFor takes the client address from the last
	// X-Forwarded-For entry (set it only behind one trusted proxy);
	// otherwise the connection's address is used.
	TrustForwardedFor bool
	// AfterSignIn is where a browser lands after a magic link's form post
	// or an OpenID Connect callback signs it in: a path on the shop's host
	// or an absolute URL; empty means "/".
	AfterSignIn string
}

// landing returns u, or "/" when u is empty.
func landing(u string) string {
	if u == "" {
		return "/"
	}
	return u
}

type shopKey struct{}
type principalKey struct{}

// ShopFrom returns the shop the request's host names, set by the
// authentication routes' host middleware.
func ShopFrom(ctx context.Context) (ports.Shop, bool) {
	s, ok := ctx.Value(shopKey{}).(ports.Shop)
	return s, ok
}

// PrincipalFrom returns the caller authenticated by RequireSession.
func PrincipalFrom(ctx context.Context) (auth.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(auth.Principal)
	return p, ok
}

// OnShopHost resolves the shop from the request's Host (TEN-7) and stores
// it in the context for next. A host that names no shop gets a 404 problem
// and a suspended shop a 403 problem.
func OnShopHost(shops *HostShops) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			shop, err := shops.Shop(r.Context(), r.Host)
			if err != nil {
				WriteProblem(w, r, err)
				return
			}
			if shop.Status != ports.ShopActive {
				WriteProblem(w, r, fmt.Errorf("shop %q is suspended: %w", shop.Slug, ports.ErrForbidden))
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), shopKey{}, shop)))
		})
	}
}

// RequireSession authenticates the session cookie on the shop's host (see
// auth.Service.Authenticate) and stores the principal, and the caller's
// access.Scope that the core's guard reads, in the context for next;
// without a valid session it answers a 401 problem. Put it inside
// OnShopHost. trustForwardedFor is as AuthDeps.TrustForwardedFor.
//
// Under an impersonation session (AUD-5) the scope's Impersonator names
// the operator, every answer carries the ImpersonationHeader, and a
// request with any method but GET, HEAD and OPTIONS runs only after its
// "impersonation.request" audit event has committed, its outcome appended
// after (auth.Service.AuditImpersonated); if that first append fails the
// request is answered with a problem and its handler never runs.
//
// A session that must still step up or enrol a second factor (AUTH-13) is
// answered 403 (auth.ErrStepUpRequired, auth.ErrEnrolRequired) and keeps
// its cookie; RequirePendingSession serves it, for the routes that let it
// do so.
func RequireSession(svc *auth.Service, trustForwardedFor bool) func(http.Handler) http.Handler {
	return requireSession(svc, false, trustForwardedFor)
}

// RequirePendingSession is RequireSession that also serves a session that
// must still step up or enrol a second factor (auth.Principal.Pending set):
// put it only in front of the routes that let it do that, sign out, or
// say who it is.
func RequirePendingSession(svc *auth.Service, trustForwardedFor bool) func(http.Handler) http.Handler {
	return requireSession(svc, true, trustForwardedFor)
}

// RequireRecentAuth refuses, with a 403 problem, a request whose
// principal (RequireSession) has not authenticated recently enough for a
// sensitive action, or has not used the second factor it has
// (auth.Service.RequireRecentAuth). Put it inside RequireSession.
func RequireRecentAuth(svc *auth.Service) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := PrincipalFrom(r.Context())
			if !ok {
				WriteProblem(w, r, fmt.Errorf("sign in first: %w", ports.ErrUnauthenticated))
				return
			}
			if err := svc.RequireRecentAuth(p); err != nil {
				WriteProblem(w, r, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func requireSession(svc *auth.Service, allowPending, trustForwardedFor bool) func(http.Handler) http.Handler {
	authenticate := svc.Authenticate
	if allowPending {
		authenticate = svc.AuthenticatePending
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			shop, ok := ShopFrom(r.Context())
			if !ok {
				WriteProblem(w, r, fmt.Errorf("no shop at this host: %w", ports.ErrNotFound))
				return
			}
			c, err := r.Cookie(auth.SessionCookieName)
			if err != nil {
				WriteProblem(w, r, fmt.Errorf("sign in first: %w", ports.ErrUnauthenticated))
				return
			}
			p, err := authenticate(r.Context(), shop.ID, c.Value)
			if err != nil {
				if errors.Is(err, ports.ErrUnauthenticated) {
					clearCookie(w, auth.SessionCookieName)
				}
				WriteProblem(w, r, err)
				return
			}
			cl := clientOf(r, trustForwardedFor)
			ctx := context.WithValue(r.Context(), principalKey{}, p)
			sc := access.Scope{
				Shop: p.Shop, Org: shop.OrgID, User: p.User, Role: p.Role, Session: p.Session, AAL: p.AAL,
				RequestID: cl.RequestID, IP: cl.IP, UserAgent: cl.UserAgent,
			}
			if !p.Impersonated() {
				next.ServeHTTP(w, r.WithContext(access.With(ctx, sc)))
				return
			}
			// An operator acting as the user (AUD-5): the scope names the
			// operator, every answer says so, and a state-changing request
			// is audited before it runs.
			sc.Impersonator = "operator:" + p.Impersonator.String()
			ctx = access.With(ctx, sc)
			w.Header().Set(ImpersonationHeader, impersonationHeaderValue(p))
			if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
				next.ServeHTTP(w, r.WithContext(ctx))
				return
			}
			served := false
			err = svc.AuditImpersonated(ctx, r.Method+" "+r.URL.Path, func(ctx context.Context) error {
				served = true
				return serveCounted(next, w, r.WithContext(ctx))
			})
			auditedAnswer(w, r, served, err)
		})
	}
}

// clientOf describes the request's origin for sessions and audit events.
// The User-Agent is the one header taken as free text: bytes that are not
// UTF-8 become U+FFFD here, since the audit log hashes text as stored and
// exports it as JSON, which cannot carry them (the store refuses them).
func clientOf(r *http.Request, trustForwardedFor bool) auth.Client {
	ip := r.RemoteAddr
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	if trustForwardedFor {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if last := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(last) != nil {
				ip = last
			}
		}
	}
	return auth.Client{IP: ip, UserAgent: strings.ToValidUTF8(r.UserAgent(), "\uFFFD"), RequestID: RequestIDFrom(r.Context())}
}

// setSessionCookie hands the browser an issued session: __Host- prefixed,
// Secure, HttpOnly, SameSite=Lax, host-only (no Domain) and path "/"
// (AUTH-7).
func setSessionCookie(w http.ResponseWriter, is auth.Issued) {
	http.SetCookie(w, &http.Cookie{
		Name: auth.SessionCookieName, Value: is.Cookie, Path: "/",
		Expires: is.Principal.ExpiresAt, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// clearCookie tells the browser to forget a __Host- cookie.
func clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// presented returns the value of the session cookie the request carries,
// or "".
func presented(r *http.Request) string {
	if c, err := r.Cookie(auth.SessionCookieName); err == nil {
		return c.Value
	}
	return ""
}
