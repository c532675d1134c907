package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"go.uber.org/fx"

	"github.com/stockadehq/stockade/core/authmail"
	"github.com/stockadehq/stockade/ports"
)

// NewAuthMailOutbox builds the auth mail outbox for cfg without fx: it
// seals bodies under keys derived from the session keys (see
// sessionKeys), so every process with the same session keys — the server,
// the CLI — can enqueue mail the server's worker opens.
func NewAuthMailOutbox(cfg Config) (*authmail.Outbox, error) {
	keys, err := sessionKeys(cfg)
	if err != nil {
		return nil, err
	}
	mk := make([]authmail.Key, len(keys))
	for i, k := range keys {
		mk[i] = authmail.Key{ID: k.ID, Secret: k.Secret}
	}
	o, err := authmail.New(mk...)
	if err != nil {
		return nil, fmt.Errorf("auth mail: %w", err)
	}
	return o, nil
}

// emailFrom is the From of mail the platform sends:
// Messaging.EmailFrom, or no-reply@ the host of HTTP.PublicURL.
func emailFrom(cfg Config) (string, error) {
	if cfg.Messaging.EmailFrom != "" {
		return cfg.Messaging.EmailFrom, nil
	}
	public, err := url.Parse(cfg.HTTP.PublicURL)
	if err != nil || public.Hostname() == "" {
		return "", problem("STOCKADE_HTTP_PUBLIC_URL", "not a URL")
	}
	return "no-reply@" + public.Hostname(), nil
}

// AuthMailParts are the pieces NewAuthMailWorker builds on.
type AuthMailParts struct {
	Outbox *authmail.Outbox // required
	// Queue is the worker's side of the outbox; nil means Store, which
	// must then implement ports.AuthMailOutbox (the SQLite and Postgres
	// stores do).
	Queue  ports.AuthMailOutbox
	Store  ports.Store
	Sender ports.EmailSender // required: see NewSenders
	Clock  ports.Clock
	Logger *slog.Logger
	// Metrics, when not nil, counts the worker's outcomes and the queue
	// age (the stockade_auth_mail_* series; see Metrics).
	Metrics *Metrics
}

// NewAuthMailWorker builds the auth mail worker without fx; call Run (or
// use AuthMailModule, which runs it between start and stop).
func NewAuthMailWorker(cfg Config, p AuthMailParts, wc authmail.WorkerConfig) (*authmail.Worker, error) {
	q := p.Queue
	if q == nil && p.Store != nil {
		var ok bool
		if q, ok = p.Store.(ports.AuthMailOutbox); !ok {
			return nil, ports.Invalid("auth mail queue", fmt.Sprintf("the store (%T) has no auth mail outbox; pass one", p.Store))
		}
	}
	from, err := emailFrom(cfg)
	if err != nil {
		return nil, err
	}
	if p.Metrics != nil && q != nil {
		q = observedAuthMail{AuthMailOutbox: q, m: p.Metrics}
	}
	return authmail.NewWorker(authmail.WorkerDeps{Outbox: p.Outbox, Queue: q, Sender: p.Sender, From: from, Clock: p.Clock, Logger: p.Logger}, wc)
}

// AuthMailModule provides the *authmail.Outbox the auth and tenancy
// services enqueue sign-in links and invitations to, and runs the auth
// mail worker (see NewAuthMailWorker) between start and stop: it delivers
// through the graph's ports.EmailSender (SendersModule: the provider
// STOCKADE_EMAIL_PROVIDER selects), tuned by an authmail.WorkerConfig
// when the graph has one, and counted by the graph's *Metrics when it has
// one. Ended mail is deleted by housekeeping.
func AuthMailModule() fx.Option {
	type params struct {
		fx.In
		Config    Config
		Store     ports.Store
		Sender    ports.EmailSender
		Logger    *slog.Logger
		Lifecycle fx.Lifecycle
		Clock     ports.Clock           `optional:"true"`
		Queue     ports.AuthMailOutbox  `optional:"true"`
		Worker    authmail.WorkerConfig `optional:"true"`
		Metrics   *Metrics              `optional:"true"`
	}
	return fx.Module("stockade.authmail",
		fx.Provide(NewAuthMailOutbox),
		fx.Provide(func(p params, o *authmail.Outbox) (*authmail.Worker, error) {
			log := p.Logger.With("component", "authmail")
			q := p.Queue
			if q == nil {
				q, _ = p.Store.(ports.AuthMailOutbox)
			}
			if q == nil {
				// A replacement store without an auth mail outbox does not
				// stop the app: mail is enqueued, and nothing delivers it.
				p.Lifecycle.Append(fx.StartHook(func() {
					log.Warn("the auth mail worker is off: the store has no auth mail outbox (provide a ports.AuthMailOutbox)", "store", fmt.Sprintf("%T", p.Store))
				}))
				return nil, nil
			}
			w, err := NewAuthMailWorker(p.Config, AuthMailParts{Outbox: o, Queue: q, Sender: p.Sender, Clock: p.Clock, Logger: log, Metrics: p.Metrics}, p.Worker)
			if err != nil {
				return nil, err
			}
			loop := &jobLoop{run: w.Run, log: log}
			p.Lifecycle.Append(fx.StartStopHook(loop.start, loop.stop))
			return w, nil
		}),
		fx.Invoke(func(*authmail.Worker) {}),
	)
}

var _ ports.AuthMailOutbox = (*startedStore)(nil)

// authMailOutbox is the open store's worker side of the auth mail outbox.
func (s *startedStore) authMailOutbox() (ports.AuthMailOutbox, error) {
	st, err := s.store()
	if err != nil {
		return nil, err
	}
	q, ok := st.(ports.AuthMailOutbox)
	if !ok {
		return nil, fmt.Errorf("store %T has no auth mail outbox: %w", st, ports.ErrUnsupported)
	}
	return q, nil
}

// ClaimAuthMail implements ports.AuthMailOutbox with the open store's.
func (s *startedStore) ClaimAuthMail(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]ports.AuthMail, error) {
	q, err := s.authMailOutbox()
	if err != nil {
		return nil, err
	}
	return q.ClaimAuthMail(ctx, now, limit, lease)
}

// MarkAuthMailSent implements ports.AuthMailOutbox with the open store's.
func (s *startedStore) MarkAuthMailSent(ctx context.Context, m ports.AuthMail, providerID string) (ports.AuthMail, error) {
	q, err := s.authMailOutbox()
	if err != nil {
		return ports.AuthMail{}, err
	}
	return q.MarkAuthMailSent(ctx, m, providerID)
}

// FailAuthMail implements ports.AuthMailOutbox with the open store's.
func (s *startedStore) FailAuthMail(ctx context.Context, m ports.AuthMail, reason string, retryAt time.Time, dead bool) (ports.AuthMail, error) {
	q, err := s.authMailOutbox()
	if err != nil {
		return ports.AuthMail{}, err
	}
	return q.FailAuthMail(ctx, m, reason, retryAt, dead)
}

// DeleteEndedAuthMail implements ports.AuthMailOutbox with the open
// store's.
func (s *startedStore) DeleteEndedAuthMail(ctx context.Context, before time.Time) (int, error) {
	q, err := s.authMailOutbox()
	if err != nil {
		return 0, err
	}
	return q.DeleteEndedAuthMail(ctx, before)
}
