package app

import (
	"log/slog"
	"net/http"

	"go.uber.org/fx"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/jobs"
	"github.com/stockadehq/stockade/core/webhooks"
	"github.com/stockadehq/stockade/ports"
)

// WebhooksParts are the pieces NewWebhooks builds on.
type WebhooksParts struct {
	Store ports.Store      // required
	Keys  ports.KeyManager // required: seals the endpoints' secrets (Storage.Keys)
	Clock ports.Clock
	// Logger gets one line per delivery attempt (never the secret or
	// the body).
	Logger *slog.Logger
	// Access is the permission matrix; nil is the default.
	Access *access.Policy
	// Client posts deliveries; nil is the default client, which reaches
	// public addresses only (see webhooks.Deps.Client).
	Client *http.Client
}

// NewWebhooks builds the outbound webhook service without fx and, when
// runner is not nil, registers its delivery handler for
// webhooks.JobKind. App code emits events with Service.Emit inside its
// unit of work.
func NewWebhooks(p WebhooksParts, runner *jobs.Runner) (*webhooks.Service, error) {
	svc, err := webhooks.New(webhooks.Deps{Store: p.Store, Keys: p.Keys, Policy: p.Access, Clock: p.Clock, Logger: p.Logger, Client: p.Client})
	if err != nil {
		return nil, err
	}
	if runner != nil {
		runner.HandleOutside(webhooks.JobKind, svc.Deliver)
	}
	return svc, nil
}

// webhooksHTTP is the webhook service HTTPModule serves the endpoint
// routes with, when the graph has one (WebhooksModule).
type webhooksHTTP struct {
	fx.In
	Service *webhooks.Service `optional:"true"`
}

// WebhooksModule provides the *webhooks.Service over the store and the
// storage's key manager, and registers its deliveries with the job
// runner (JobsModule); HTTPModule then serves the endpoint routes
// (/webhook-endpoints). Deliveries use the default client, which reaches
// public addresses only (an *http.Client in the graph is not picked up:
// it could lift that guard by accident); NewWebhooks takes another.
func WebhooksModule() fx.Option {
	type params struct {
		fx.In
		Store   ports.Store
		Storage *Storage
		Runner  *jobs.Runner
		Logger  *slog.Logger
		Access  *access.Policy
	}
	return fx.Module("stockade.webhooks", fx.Provide(func(p params) (*webhooks.Service, error) {
		return NewWebhooks(WebhooksParts{Store: p.Store, Keys: p.Storage.Keys, Logger: p.Logger.With("component", "webhooks"),
			Access: p.Access}, p.Runner)
	}), fx.Invoke(func(*webhooks.Service) {}))
}
