package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"

	"go.uber.org/fx"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/core/capability"
	"github.com/stockadehq/stockade/core/tenancy"
	"github.com/stockadehq/stockade/ports"
)

// appRoutesGroup is the value group Route adds to.
const appRoutesGroup = "stockade.app_routes"

// Route registers an embedding app's own routes with HTTPModule, served
// behind Stockade's guards (see httpapi.AppRoute): r is an
// httpapi.AppRoute or a []httpapi.AppRoute, or an fx constructor
// returning one of them (and optionally an error) whose parameters the
// graph supplies, e.g.
//
//	app.Route(func(q *quoting.Quotes) []httpapi.AppRoute { … })
//
// The app starts with an error when a route has no permission, one the
// graph's *access.Policy does not know, or a path of Stockade's.
func Route(r any) fx.Option { return grouped(appRoutesGroup, r, reflect.TypeFor[httpapi.AppRoute]()) }

// grouped adds v to the value group of want: v itself when it is a want
// or a []want, or the first result of v when v is a constructor returning
// one of them.
func grouped(group string, v any, want reflect.Type) fx.Option {
	t := reflect.TypeOf(v)
	many := reflect.SliceOf(want)
	switch {
	case t == want:
		return fx.Supply(fx.Annotated{Group: group, Target: v})
	case t == many:
		return fx.Supply(fx.Annotated{Group: group + ",flatten", Target: v})
	case t != nil && t.Kind() == reflect.Func && t.NumOut() >= 1 && t.Out(0) == want:
		return fx.Provide(fx.Annotate(v, fx.ResultTags(`group:"`+group+`"`)))
	case t != nil && t.Kind() == reflect.Func && t.NumOut() >= 1 && t.Out(0) == many:
		return fx.Provide(fx.Annotate(v, fx.ResultTags(`group:"`+group+`,flatten"`)))
	}
	return fx.Error(fmt.Errorf("app: %s: want a %s or a constructor returning one, got %v", group, want, t))
}

// Landing is where a browser lands after a form or redirect signs it in:
// a path on the shop's host or an absolute URL. Empty AfterSignIn means
// Stockade's account security page (/account/security, see package
// app/web), empty AfterAccept "/". Supply it with WithLanding.
type Landing struct {
	// AfterSignIn follows a magic link's form post (the page's,
	// web.Deps.AfterSignIn, once no second factor is due, and the API's
	// POST /auth/magic-link/consume) and an OpenID Connect callback
	// (httpapi.AuthDeps.AfterSignIn).
	AfterSignIn string
	// AfterAccept follows an invitation accepted with a form post
	// (httpapi.TenancyDeps.AfterAccept).
	AfterAccept string
}

// WithLanding makes HTTPModule redirect browsers to l's pages instead of
// Stockade's defaults (see Landing).
func WithLanding(l Landing) fx.Option { return fx.Supply(l) }

// embedHTTP is what an embedding app adds to HTTPModule.
type embedHTTP struct {
	fx.In
	Routes  []httpapi.AppRoute `group:"stockade.app_routes"`
	Landing Landing            `optional:"true"`
}

// Services are Stockade's parts an embedding app's routes and link kinds
// are built on (see Embedding.App). The store is opened when the app
// starts; until then its methods fail with ports.ErrUnavailable.
type Services struct {
	Store  ports.Store
	Policy *access.Policy
}

// AppParts are what an embedding app adds without fx: its public link
// record types, their public routes, and its own guarded routes.
type AppParts struct {
	LinkKinds  []capability.Kind
	LinkRoutes []httpapi.LinkRoute
	Routes     []httpapi.AppRoute
}

// Embedding is what Embed adds to Stockade for an app that does not use
// fx. Every field is optional.
type Embedding struct {
	// Policy replaces the default permission matrix, e.g.
	// access.NewPolicy with the app's own grants.
	Policy *access.Policy
	// Schemas are the app's migrations and tenant tables, applied after
	// Stockade's when Start opens the store (see AppSchema).
	Schemas []AppSchema
	// App builds the app's parts over Stockade's services; it is called
	// once, while Embed assembles.
	App func(Services) (AppParts, error)
	// Landing is where browsers land after form sign-ins (see Landing).
	Landing Landing
	// LogOutput, when set, receives the logs instead of os.Stderr.
	LogOutput io.Writer
	// Web customises Stockade's pages (see WithWeb), e.g. restyles them.
	Web web.Options
}

// Embedded is Stockade assembled by Embed: the same graph as New, with
// the app's parts registered. Start opens (and migrates) the store and
// starts the server on cfg.HTTP.Addr; Stop undoes both. API can also be
// mounted on the app's own server.
type Embedded struct {
	API *httpapi.API
	// Handler is what Server serves: API behind Stockade's pages (see
	// package app/web). Mount Handler rather than API to serve the pages.
	Handler http.Handler
	Store   ports.Store
	Policy  *access.Policy
	Auth    *auth.Service
	Tenancy *tenancy.Service
	Links   *capability.Service
	Server  *Server

	app *fx.App
}

// Embed assembles Stockade for cfg (which must be valid, see
// Config.Validate) with e's additions, without the caller writing fx: it
// is New(cfg, …) with e turned into the options Route, LinkKind,
// LinkRoute, AppMigrations and WithLanding. Any assembly error (an
// unguarded app route among them) is returned.
func Embed(cfg Config, e Embedding) (*Embedded, error) {
	out := &Embedded{}
	var pages *web.Pages
	opts := []fx.Option{
		fx.Populate(&out.API, &pages, &out.Store, &out.Policy, &out.Auth, &out.Tenancy, &out.Links, &out.Server),
		WithLanding(e.Landing),
		WithWeb(e.Web),
	}
	if e.Policy != nil {
		opts = append(opts, fx.Decorate(func(*access.Policy) *access.Policy { return e.Policy }))
	}
	for _, s := range e.Schemas {
		opts = append(opts, AppMigrations(s.Name, s.Postgres, s.SQLite, s.Tables...))
	}
	if e.LogOutput != nil {
		opts = append(opts, WithLogOutput(e.LogOutput))
	}
	if e.App != nil {
		opts = append(opts,
			fx.Provide(func(st ports.Store, p *access.Policy) (AppParts, error) {
				parts, err := e.App(Services{Store: st, Policy: p})
				if err != nil {
					return AppParts{}, fmt.Errorf("app parts: %w", err)
				}
				return parts, nil
			}),
			fx.Provide(
				fx.Annotate(func(p AppParts) []capability.Kind { return p.LinkKinds }, fx.ResultTags(`group:"`+linkKindsGroup+`,flatten"`)),
				fx.Annotate(func(p AppParts) []httpapi.LinkRoute { return p.LinkRoutes }, fx.ResultTags(`group:"`+linkRoutesGroup+`,flatten"`)),
				fx.Annotate(func(p AppParts) []httpapi.AppRoute { return p.Routes }, fx.ResultTags(`group:"`+appRoutesGroup+`,flatten"`)),
			),
		)
	}
	out.app = New(cfg, opts...)
	if err := out.app.Err(); err != nil {
		return nil, err
	}
	out.Handler = pages.Handler(out.API)
	return out, nil
}

// Start opens the store and starts serving (see Embedded).
func (e *Embedded) Start(ctx context.Context) error { return e.app.Start(ctx) }

// Stop shuts the server down and closes the store.
func (e *Embedded) Stop(ctx context.Context) error { return e.app.Stop(ctx) }

// newAPI is httpapi.New(d), returning as an error the panic New raises
// when an app route collides with a route already registered.
func newAPI(d httpapi.Deps) (api *httpapi.API, err error) {
	defer func() {
		if r := recover(); r != nil {
			api, err = nil, fmt.Errorf("app: the HTTP API cannot be assembled: %v", r)
		}
	}()
	return httpapi.New(d), nil
}
