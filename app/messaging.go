package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"go.uber.org/fx"

	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/messaging"
	"github.com/stockadehq/stockade/core/publish"
	"github.com/stockadehq/stockade/ports"
)

// MessagingParts are the pieces NewMessaging builds on.
type MessagingParts struct {
	Store  ports.Store // required
	Clock  ports.Clock
	Logger *slog.Logger
	// Access is the permission matrix; nil is the default.
	Access *access.Policy
	// Events publishes the service's events to hooks and webhooks; nil
	// is a publisher of its own without hooks (see NewEvents).
	Events *publish.Publisher
}

// NewMessaging builds the messaging service for cfg without fx: the
// unsubscribe keys (see UnsubscribeKeys), links on each shop's host under
// HTTP.PublicURL, and Twilio status callbacks under WebhookBaseURL.
func NewMessaging(cfg Config, p MessagingParts) (*messaging.Service, error) {
	keys, err := UnsubscribeKeys(cfg)
	if err != nil {
		return nil, fmt.Errorf("messaging: %w", err)
	}
	public, err := url.Parse(cfg.HTTP.PublicURL)
	if err != nil {
		return nil, problem("STOCKADE_HTTP_PUBLIC_URL", "not a URL")
	}
	hooks := cfg.WebhookBaseURL()
	from := cfg.Messaging.EmailFrom
	if from == "" {
		from = "no-reply@" + public.Hostname()
	}
	svc, err := messaging.New(messaging.Deps{Store: p.Store, Policy: p.Access, Clock: p.Clock, Logger: p.Logger, Events: p.Events}, messaging.Config{
		UnsubscribeKeys: keys,
		UnsubscribeURL: func(shop ports.Shop, token string) string {
			return (&url.URL{Scheme: public.Scheme, Host: shop.Slug + "." + public.Host, Path: UnsubscribePath + token}).String()
		},
		StatusCallbackURL: func(shop ports.ShopID, msg ports.MessageID) string {
			return hooks + TwilioStatusPath + shop.String() + "/" + msg.String()
		},
		DefaultMessagingServiceSID: cfg.Messaging.DefaultMessagingServiceSID,
		EmailFrom:                  from,
		DefaultCountryCode:         cfg.Messaging.DefaultCountryCode,
	})
	if err != nil {
		return nil, fmt.Errorf("messaging: %w", err)
	}
	return svc, nil
}

// The messaging routes whose URLs leave the server: the one-click
// unsubscribe link on a shop's host, and the Twilio status callback under
// the webhook base URL.
const (
	UnsubscribePath  = "/u/" // httpapi.UnsubscribeRoute
	TwilioStatusPath = "/webhooks/twilio/status/"
)

// OutboxParts are the pieces NewOutboxWorker builds on.
type OutboxParts struct {
	Service *messaging.Service // required
	// Queue is the cross-shop claim; nil means Store, which must then
	// implement ports.OutboxQueue (the SQLite and Postgres stores do).
	Queue ports.OutboxQueue
	// Store is where the worker records its outcomes; nil means the
	// service's.
	Store  ports.Store
	SMS    ports.SMSSender
	Email  ports.EmailSender
	Logger *slog.Logger
	// Observer, when set, is told each delivery attempt's outcome (see
	// messaging.Observer; *Metrics is one).
	Observer messaging.Observer
}

// NewOutboxWorker builds the outbox worker without fx; call Run (or use
// MessagingModule, which runs it between start and stop).
func NewOutboxWorker(cfg Config, p OutboxParts, wc messaging.WorkerConfig) (*messaging.Worker, error) {
	q := p.Queue
	if q == nil && p.Store != nil {
		var ok bool
		if q, ok = p.Store.(ports.OutboxQueue); !ok {
			return nil, ports.Invalid("outbox queue", fmt.Sprintf("the store (%T) has no outbox queue; pass one", p.Store))
		}
	}
	if wc.Concurrency == 0 {
		wc.Concurrency = cfg.Messaging.OutboxConcurrency
	}
	if wc.Concurrency == 0 {
		wc.Concurrency = 1
		if s := schemeOf(cfg.DatabaseURL()); s == schemePostgres || s == schemePostgreSQL {
			wc.Concurrency = 4
		}
	}
	return messaging.NewWorker(messaging.WorkerDeps{Service: p.Service, Store: p.Store, Queue: q, SMS: p.SMS, Email: p.Email, Logger: p.Logger, Observer: p.Observer}, wc)
}

// MessagingModule provides the *messaging.Service (see NewMessaging) and
// runs the outbox worker (see NewOutboxWorker) between start and stop,
// over the graph's ports.SMSSender and ports.EmailSender when it has them
// (messages on a channel without a sender go dead, saying so), tuned by a
// messaging.WorkerConfig when the graph has one. With SendersModule's
// *Senders in the graph, a channel whose provider deduplicates (Resend)
// is marked so in the worker's config. With a *Metrics in the graph, the
// delivery attempts are counted.
func MessagingModule() fx.Option {
	type params struct {
		fx.In
		Config    Config
		Store     ports.Store
		Logger    *slog.Logger
		Access    *access.Policy
		Lifecycle fx.Lifecycle
		SMS       ports.SMSSender        `optional:"true"`
		Email     ports.EmailSender      `optional:"true"`
		Queue     ports.OutboxQueue      `optional:"true"`
		Worker    messaging.WorkerConfig `optional:"true"`
		Senders   *Senders               `optional:"true"`
		Metrics   *Metrics               `optional:"true"`
		Events    *publish.Publisher     `optional:"true"`
	}
	return fx.Module("stockade.messaging",
		fx.Provide(func(p params) (*messaging.Service, *messaging.Worker, error) {
			log := p.Logger.With("component", "messaging")
			svc, err := NewMessaging(p.Config, MessagingParts{Store: p.Store, Logger: log, Access: p.Access, Events: p.Events})
			if err != nil {
				return nil, nil, err
			}
			p.Worker = withDeduplication(p.Worker, p.Senders, p.SMS, p.Email)
			q := p.Queue
			if q == nil {
				q, _ = p.Store.(ports.OutboxQueue)
			}
			if q == nil {
				// A replacement store without an outbox queue does not stop
				// the app: messages are enqueued, and nothing delivers them.
				w, err := NewOutboxWorker(p.Config, OutboxParts{Service: svc, Queue: noOutboxQueue{}, Store: p.Store, Logger: log}, p.Worker)
				p.Lifecycle.Append(fx.StartHook(func() {
					log.Warn("the outbox worker is off: the store has no outbox queue (provide a ports.OutboxQueue)", "store", fmt.Sprintf("%T", p.Store))
				}))
				return svc, w, err
			}
			parts := OutboxParts{Service: svc, Queue: q, Store: p.Store, SMS: p.SMS, Email: p.Email, Logger: log}
			if p.Metrics != nil { // never a typed nil in the interface
				parts.Observer = p.Metrics
			}
			w, err := NewOutboxWorker(p.Config, parts, p.Worker)
			if err != nil {
				return nil, nil, err
			}
			loop := &jobLoop{run: w.Run, log: log}
			p.Lifecycle.Append(fx.StartStopHook(loop.start, loop.stop))
			return svc, w, nil
		}),
		fx.Invoke(func(*messaging.Worker) {}),
	)
}

// withDeduplication marks in wc the channels whose provider
// deduplicates by idempotency key, which lets the worker resend an
// interrupted message. It claims so only for the senders SendersModule
// made (senders), not for one swapped in with fx.Decorate.
func withDeduplication(wc messaging.WorkerConfig, senders *Senders, sms ports.SMSSender, email ports.EmailSender) messaging.WorkerConfig {
	if senders == nil {
		return wc
	}
	wc.SMSDeduplicates = wc.SMSDeduplicates || (senders.SMSDeduplicates && sms == senders.SMS)
	wc.EmailDeduplicates = wc.EmailDeduplicates || (senders.EmailDeduplicates && email == senders.Email)
	return wc
}

// noOutboxQueue is the claim of a graph without an outbox queue.
type noOutboxQueue struct{}

func (noOutboxQueue) ClaimMessages(context.Context, time.Time, int, time.Duration) ([]ports.OutboxMessage, error) {
	return nil, fmt.Errorf("no outbox queue: %w", ports.ErrUnsupported)
}

var _ ports.OutboxQueue = (*startedStore)(nil)

// ClaimMessages implements ports.OutboxQueue with the open store's claim,
// so the store that StoreModule provides serves MessagingModule too.
func (s *startedStore) ClaimMessages(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]ports.OutboxMessage, error) {
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	q, ok := st.(ports.OutboxQueue)
	if !ok {
		return nil, fmt.Errorf("store %T has no outbox queue: %w", st, ports.ErrUnsupported)
	}
	return q.ClaimMessages(ctx, now, limit, lease)
}

// MessagingWebhooks are the verifiers of the providers' inbound webhooks.
// Put one in the graph (fx.Supply) to serve the webhook routes: Twilio's
// X-Twilio-Signature and Resend's Svix signature. A nil verifier leaves
// its routes out.
type MessagingWebhooks struct {
	Twilio ports.WebhookVerifier
	Resend ports.WebhookVerifier
}

// messagingHTTP is what HTTPModule takes from the graph for the messaging
// routes; without the service (MessagingModule left out) there are none.
type messagingHTTP struct {
	fx.In
	Service  *messaging.Service `optional:"true"`
	Webhooks MessagingWebhooks  `optional:"true"`
	// Senders, when SendersModule is in the graph, supplies the verifiers
	// MessagingWebhooks does not: the configured providers' (or ones that
	// refuse everything, for a provider that is not configured).
	Senders *Senders `optional:"true"`
}

func (m messagingHTTP) deps(cfg Config) *httpapi.MessagingDeps {
	if m.Service == nil {
		return nil
	}
	hooks := m.Webhooks
	if m.Senders != nil {
		if hooks.Twilio == nil {
			hooks.Twilio = m.Senders.TwilioWebhooks
		}
		if hooks.Resend == nil {
			hooks.Resend = m.Senders.ResendWebhooks
		}
	}
	return &httpapi.MessagingDeps{Service: m.Service, WebhookBase: cfg.WebhookBaseURL(), Twilio: hooks.Twilio, Resend: hooks.Resend,
		TrustForwardedFor: cfg.HTTP.TrustForwardedFor}
}
