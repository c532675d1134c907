package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"runtime/debug"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/stockadehq/stockade/adapters/passhash"
	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/app/web"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/audit"
	"github.com/stockadehq/stockade/core/auth"
	"github.com/stockadehq/stockade/core/authmail"
	"github.com/stockadehq/stockade/core/billing"
	"github.com/stockadehq/stockade/core/capability"
	"github.com/stockadehq/stockade/core/export"
	"github.com/stockadehq/stockade/core/publish"
	"github.com/stockadehq/stockade/core/scim"
	"github.com/stockadehq/stockade/core/tenancy"
	"github.com/stockadehq/stockade/ports"
)

// StoreOpenTimeout bounds opening (and migrating) the store at start, so an
// unreachable database fails start with a clear error instead of hanging.
// Give fx a longer start timeout than this, or its bare "context deadline
// exceeded" replaces the store's error.
const StoreOpenTimeout = 10 * time.Second

// New returns the Stockade fx application for cfg (which must be valid, see
// Config.Validate), with extra options appended: fx.Decorate or fx.Replace
// swap any piece, WithLogOutput redirects the logs. Call Err, then Start
// and Stop.
func New(cfg Config, extra ...fx.Option) *fx.App {
	return fx.New(Module(cfg), fx.Options(extra...))
}

// Module is every Stockade module for cfg, plus fx's own logs routed to
// the zap logger at debug level. Fx's error events are logged at debug too:
// each of them is also returned by App.Err, Start or Stop, and the caller
// reports it once.
func Module(cfg Config) fx.Option {
	return fx.Options(
		ConfigModule(cfg),
		LogModule(),
		StoreModule(),
		AccessModule(),
		EventsModule(),
		SendersModule(),
		AuthMailModule(),
		AuthModule(),
		StorageModule(),
		TenancyModule(),
		LinksModule(),
		BillingModule(),
		JobsModule(),
		ExportModule(),
		WebhooksModule(),
		MessagingModule(),
		HousekeepingModule(),
		HTTPModule(),
		MetricsModule(),
		TracingModule(),
		fx.WithLogger(func(log *zap.Logger) fxevent.Logger {
			l := &fxevent.ZapLogger{Logger: log.Named("fx")}
			l.UseLogLevel(zapcore.DebugLevel)
			l.UseErrorLevel(zapcore.DebugLevel)
			return l
		}),
	)
}

// ConfigModule supplies cfg as a Config.
func ConfigModule(cfg Config) fx.Option {
	return fx.Module("stockade.config", fx.Supply(cfg))
}

// LogOutput is where LogModule's logger writes; see WithLogOutput.
type LogOutput struct{ io.Writer }

// WithLogOutput makes the logger write to w instead of os.Stderr.
func WithLogOutput(w io.Writer) fx.Option { return fx.Supply(LogOutput{Writer: w}) }

type logParams struct {
	fx.In
	Config    Config
	Output    LogOutput `optional:"true"`
	Lifecycle fx.Lifecycle
}

// LogModule provides the *zap.Logger (see NewLogger), synced in OnStop,
// and a *slog.Logger over the same core (see SlogLogger).
func LogModule() fx.Option {
	return fx.Module("stockade.log", fx.Provide(SlogLogger), fx.Provide(func(p logParams) (*zap.Logger, error) {
		log, err := NewLogger(p.Config, p.Output.Writer)
		if err != nil {
			return nil, err
		}
		p.Lifecycle.Append(fx.StopHook(func() { _ = log.Sync() })) // stderr cannot always sync; nothing to do about it
		return log, nil
	}))
}

// StoreModule provides the ports.Store that Config selects. It is opened
// (and migrated, see OpenStore) in OnStart within StoreOpenTimeout, and
// closed in OnStop; outside start..stop its methods fail with
// ports.ErrUnavailable. When the graph has a non-nil *Metrics
// (MetricsModule, enabled), its units of work are counted and timed; when
// it has a non-nil *Tracing (TracingModule), each runs in a span.
//
// The migrations of every AppMigrations option are applied after
// Stockade's (see OpenStore).
func StoreModule() fx.Option {
	type params struct {
		fx.In
		Lifecycle fx.Lifecycle
		Config    Config
		Logger    *zap.Logger
		Apps      []AppSchema `group:"stockade.app_migrations"`
		Metrics   *Metrics    `optional:"true"`
		Tracing   *Tracing    `optional:"true"`
	}
	return fx.Module("stockade.store", fx.Provide(func(p params) ports.Store {
		lc, log, cfg, apps := p.Lifecycle, p.Logger, p.Config, p.Apps
		s := &startedStore{}
		lc.Append(fx.Hook{
			OnStart: func(ctx context.Context) error {
				ctx, cancel := context.WithTimeoutCause(ctx, StoreOpenTimeout,
					fmt.Errorf("no answer within %s", StoreOpenTimeout))
				defer cancel()
				return s.open(ctx, cfg, log, apps...)
			},
			OnStop: func(context.Context) error { return s.Close() },
		})
		if p.Metrics != nil || p.Tracing != nil {
			return observedStore{startedStore: s, m: p.Metrics, tr: p.Tracing}
		}
		return s
	}))
}

// AccessModule provides the permission matrix (*access.Policy) every
// service's guard checks: the default one. An embedding app adds its own
// permissions with fx.Decorate and access.NewPolicy.
func AccessModule() fx.Option {
	return fx.Module("stockade.access", fx.Provide(access.DefaultPolicy))
}

// TenancyModule provides the *tenancy.Service (see NewTenancy).
func TenancyModule() fx.Option {
	type params struct {
		fx.In
		Config Config
		Store  ports.Store
		Auth   *auth.Service
		Mail   *authmail.Outbox
		Logger *slog.Logger
		Access *access.Policy
		Events *publish.Publisher `optional:"true"`
	}
	return fx.Module("stockade.tenancy", fx.Provide(func(p params) (*tenancy.Service, error) {
		return NewTenancy(p.Config, TenancyParts{Store: p.Store, Auth: p.Auth, Mail: p.Mail, Logger: p.Logger, Access: p.Access, Events: p.Events})
	}))
}

// Value groups through which an embedding app adds its record types to
// capability links (see LinkKind and LinkRoute).
const (
	linkKindsGroup  = "stockade.link_kinds"
	linkRoutesGroup = "stockade.link_routes"
)

// LinkKind registers an embedding app's record type for capability links
// (CAP-1) with LinksModule, e.g. quotes that links may let a customer
// "view" and "accept".
// k is a capability.Kind, or an fx constructor returning one (and
// optionally an error) whose parameters the graph supplies.
func LinkKind(k any) fx.Option {
	return grouped(linkKindsGroup, k, reflect.TypeFor[capability.Kind]())
}

// LinkRoute registers an embedding app's public route for one of its
// record types (see httpapi.LinkRoute) with HTTPModule: the router
// resolves the link and checks the record and action before the
// handler runs.
// r is an httpapi.LinkRoute, or an fx constructor returning one.
func LinkRoute(r any) fx.Option {
	return grouped(linkRoutesGroup, r, reflect.TypeFor[httpapi.LinkRoute]())
}

// LinksModule provides the *capability.Service (see NewLinks): file links
// plus every kind registered with LinkKind.
func LinksModule() fx.Option {
	type params struct {
		fx.In
		Config Config
		Store  ports.Store
		Access *access.Policy
		Kinds  []capability.Kind `group:"stockade.link_kinds"`
	}
	return fx.Module("stockade.links", fx.Provide(func(p params) (*capability.Service, error) {
		return NewLinks(p.Config, LinksParts{Store: p.Store, Access: p.Access, Kinds: p.Kinds})
	}))
}

// linkRoutes are the capability-link service and the app's public link
// routes, for HTTPModule.
type linkRoutes struct {
	fx.In
	Service *capability.Service
	Routes  []httpapi.LinkRoute `group:"stockade.link_routes"`
}

// AuthModule provides the *auth.Service (see NewAuth) over the store, the
// slog logger, the auth mail outbox (AuthMailModule), the storage's key
// manager when StorageModule is in the graph (for second factors), and the
// *passhash.Hasher it also provides (see NewPasswordHasher). OpenID Connect discovery runs when
// the service is built, bounded by StoreOpenTimeout; the dummy hash of
// Service.Warm is computed in the background once the app starts.
func AuthModule() fx.Option {
	type params struct {
		fx.In
		Config Config
		Store  ports.Store
		Logger *slog.Logger
		Mail   *authmail.Outbox
		Access *access.Policy
		Hasher *passhash.Hasher
		// Storage, when in the graph, lends its key manager to seal
		// second-factor secrets (one key manager per key directory).
		Storage *Storage           `optional:"true"`
		Events  *publish.Publisher `optional:"true"`
	}
	return fx.Module("stockade.auth", fx.Provide(NewPasswordHasher), fx.Provide(func(p params, lc fx.Lifecycle) (*auth.Service, error) {
		ctx, cancel := context.WithTimeout(context.Background(), StoreOpenTimeout)
		defer cancel()
		var factorKeys ports.KeyManager
		if p.Storage != nil {
			factorKeys = p.Storage.Keys
		}
		svc, err := NewAuth(ctx, p.Config, AuthParts{Store: p.Store, Mail: p.Mail, Logger: p.Logger, Access: p.Access, Hasher: p.Hasher, FactorKeys: factorKeys, Events: p.Events})
		if err != nil {
			return nil, err
		}
		// Warm the dummy hash beside start-up rather than before readiness:
		// one Argon2id hash would add its time to every start.
		lc.Append(fx.StartHook(func() {
			go func() {
				if err := svc.Warm(context.Background()); err != nil {
					p.Logger.Warn("dummy password hash not precomputed; it is made on first use", "error", err)
				}
				// Hand the hash's ~19 MiB back to the OS now rather than
				// minutes later: an idle server should be small.
				debug.FreeOSMemory()
			}()
		}))
		return svc, nil
	}))
}

// StorageModule provides the *Storage (see NewStorage) over the store:
// the object store (an S3 bucket is checked when the service is built,
// bounded by StoreOpenTimeout), the key manager and the file service. The
// object store is closed in OnStop.
func StorageModule() fx.Option {
	type params struct {
		fx.In
		Config    Config
		Store     ports.Store
		Lifecycle fx.Lifecycle
		Objects   ports.ObjectStore `optional:"true"`
		Keys      ports.KeyManager  `optional:"true"`
		Access    *access.Policy
	}
	return fx.Module("stockade.storage", fx.Provide(func(p params) (*Storage, error) {
		ctx, cancel := context.WithTimeout(context.Background(), StoreOpenTimeout)
		defer cancel()
		s, err := NewStorage(ctx, p.Config, StorageParts{Store: p.Store, Objects: p.Objects, Keys: p.Keys, Access: p.Access})
		if err != nil {
			return nil, err
		}
		p.Lifecycle.Append(fx.StopHook(s.Close))
		return s, nil
	}))
}

// exportHTTP is the graph's *export.Delivery, nil when it has none
// (a graph without ExportModule).
type exportHTTP struct {
	fx.In
	Delivery *export.Delivery `optional:"true"`
}

// tracingParam is the graph's *Tracing, nil when it has none.
type tracingParam struct {
	fx.In
	Tracing *Tracing `optional:"true"`
}

// webOptions is the graph's web.Options (see WithWeb), zero without.
type webOptions struct {
	fx.In
	Options web.Options `optional:"true"`
}

// WithWeb makes HTTPModule's pages (package app/web) use o, e.g. an
// fs.FS overlay that restyles them.
func WithWeb(o web.Options) fx.Option { return fx.Supply(o) }

// HTTPModule provides the *httpapi.API (see httpapi.New), as an
// http.Handler too, and the *web.Pages (sign-in and account security,
// see package app/web and WithWeb) that the server serves in front of
// that handler, with the embedding app's routes (see Route) and
// landing pages (see WithLanding), and the *Server that serves it: bound and started in OnStart, shut down
// gracefully in OnStop within HTTP.ShutdownTimeout. The server is always
// built. Requests are reported to the graph's *Metrics when it has one,
// and traced (Tracing.Handler) when the graph has a non-nil *Tracing.
func HTTPModule() fx.Option {
	type observed struct {
		fx.In
		Metrics *Metrics `optional:"true"`
		// Events and Slog feed the SCIM service (membership webhooks and
		// its log).
		Events *publish.Publisher `optional:"true"`
		Slog   *slog.Logger       `optional:"true"`
	}
	return fx.Module("stockade.http",
		fx.Provide(
			// One host → shop resolver for the API and the pages: its cache
			// is dropped (Forget) by a rename or status change made through
			// either, and both must see it.
			func(cfg Config, st ports.Store) (*httpapi.HostShops, error) {
				return httpapi.NewHostShops(st, cfg.HTTP.PublicURL, nil)
			},
			func(st ports.Store, acc *access.Policy) *audit.Reader {
				return audit.NewReader(audit.ReaderDeps{Store: st, Policy: acc})
			},
			func(cfg Config, st ports.Store, shops *httpapi.HostShops, reader *audit.Reader, svc *auth.Service, files *Storage, ten *tenancy.Service, acc *access.Policy, links linkRoutes, bill *billing.Service, msg messagingHTTP, hooks webhooksHTTP, log *zap.Logger, obs observed, emb embedHTTP, exp exportHTTP) (*httpapi.API, error) {
				keys, err := LoadAuditKeys(cfg)
				if err != nil {
					return nil, fmt.Errorf("http: shop export: %w", err)
				}
				exporter, err := export.New(export.Deps{Store: st, Files: files.Service, Signer: keys.Signer, Verifiers: keys.Verifiers, Policy: acc})
				if err != nil {
					return nil, fmt.Errorf("http: shop export: %w", err)
				}
				fd := &httpapi.FilesDeps{Service: files.Service}
				if files.Handler != nil {
					fd.Objects, fd.ObjectsPath = files.Handler, ObjectsPath
				}
				afterSignIn := emb.Landing.AfterSignIn
				if afterSignIn == "" {
					afterSignIn = web.SecurityPath // Stockade's own page, served in front of the API
				}
				d := httpapi.Deps{
					Logger: log.Named("http"), Ready: st,
					Auth:      &httpapi.AuthDeps{Service: svc, Shops: shops, TrustForwardedFor: cfg.HTTP.TrustForwardedFor, AfterSignIn: afterSignIn},
					Files:     fd,
					Tenancy:   &httpapi.TenancyDeps{Service: ten, AfterAccept: emb.Landing.AfterAccept},
					Audit:     &httpapi.AuditDeps{Reader: reader, Exporter: exporter, Delivery: exp.Delivery},
					Links:     &httpapi.LinksDeps{Service: links.Service, Routes: links.Routes},
					Messaging: msg.deps(cfg),
					Streams:   cfg.HTTP.Streams(),
				}
				if obs.Metrics != nil { // never a typed nil in the interface
					d.Requests = obs.Metrics
				}
				provisioning, err := scim.New(scim.Deps{Store: st, Policy: acc, Logger: obs.Slog, Events: obs.Events})
				if err != nil {
					return nil, fmt.Errorf("http: scim: %w", err)
				}
				d.SCIM = &httpapi.SCIMDeps{Service: provisioning}
				if bill != nil {
					d.Billing = &httpapi.BillingDeps{Service: bill, TrustForwardedFor: cfg.HTTP.TrustForwardedFor}
				}
				if hooks.Service != nil {
					d.Webhooks = &httpapi.WebhooksDeps{Service: hooks.Service}
				}
				if len(emb.Routes) > 0 {
					d.App = &httpapi.AppDeps{Policy: acc, Routes: emb.Routes}
					if err := d.App.Validate(); err != nil {
						return nil, err
					}
				}
				return newAPI(d)
			},
			func(a *httpapi.API) http.Handler { return a },
			func(cfg Config, shops *httpapi.HostShops, reader *audit.Reader, svc *auth.Service, ten *tenancy.Service, acc *access.Policy, bill *billing.Service, log *zap.Logger, wo webOptions, api *httpapi.API, obs observed, emb embedHTTP) (*web.Pages, error) {
				d := web.Deps{
					Auth: svc, Shops: shops, TrustForwardedFor: cfg.HTTP.TrustForwardedFor, Logger: log.Named("web"),
					Tenancy: ten, Audit: reader, Billing: bill, Policy: acc,
					AfterSignIn: emb.Landing.AfterSignIn, // empty: the account security page
				}
				if obs.Metrics != nil { // never a typed nil in the interface
					d.Requests = obs.Metrics // the pages' requests, in the API's series
				}
				pages, err := web.New(d, wo.Options)
				if err != nil {
					return nil, err
				}
				// An app route a page would hide stops the app here.
				return pages, pages.CheckRoutes(api.Routes())
			},
			func(lc fx.Lifecycle, cfg Config, h http.Handler, pages *web.Pages, log *zap.Logger, tr tracingParam) *Server {
				s := NewServer(cfg, tr.Tracing.Handler(pages.Handler(h)), log)
				lc.Append(fx.StartStopHook(s.Start, s.Stop))
				return s
			},
		),
		fx.Invoke(func(*Server) {}),
	)
}
