package authmail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stockadehq/stockade/core/jobs"
	"github.com/stockadehq/stockade/ports"
)

// WorkerDeps are the worker's collaborators.
type WorkerDeps struct {
	Outbox *Outbox              // required: opens the sealed bodies
	Queue  ports.AuthMailOutbox // required: the store's worker side
	Sender ports.EmailSender    // required: the configured e-mail provider
	From   string               // required: the From of every auth mail
	Clock  ports.Clock          // default ports.SystemClock
	Logger *slog.Logger         // default discards; never given a body
}

// WorkerConfig tunes the worker. The zero value is usable.
type WorkerConfig struct {
	// BatchSize is how many mails one claim takes, 1 to 1000 (default 10).
	BatchSize int
	// PollInterval is the pause after a round that did not fill its batch
	// (default 1s).
	PollInterval time.Duration
	// Lease is how long a claimed batch is this worker's (default 5m, at
	// most 24h); it must cover BatchSize provider calls.
	Lease time.Duration
	// SendTimeout bounds one provider call (default 30s).
	SendTimeout time.Duration
	// Backoff is the delay before the retry after failed attempt number
	// attempt. Default: jobs.ExponentialBackoff(5s, 10m).
	Backoff func(attempt int) time.Duration
}

func (c WorkerConfig) withDefaults() (WorkerConfig, error) {
	if c.BatchSize == 0 {
		c.BatchSize = 10
	}
	if c.PollInterval == 0 {
		c.PollInterval = time.Second
	}
	if c.Lease == 0 {
		c.Lease = 5 * time.Minute
	}
	if c.SendTimeout == 0 {
		c.SendTimeout = 30 * time.Second
	}
	if c.Backoff == nil {
		c.Backoff = jobs.ExponentialBackoff(5*time.Second, 10*time.Minute)
	}
	switch {
	case c.BatchSize < 1 || c.BatchSize > 1000:
		return c, ports.Invalid("auth mail batch size", "must be 1 to 1000")
	case c.PollInterval < 0:
		return c, ports.Invalid("auth mail poll interval", "must be positive")
	case c.Lease < time.Second || c.Lease > 24*time.Hour:
		return c, ports.Invalid("auth mail lease", "must be 1s to 24h")
	case c.SendTimeout <= 0 || c.SendTimeout >= c.Lease:
		return c, ports.Invalid("auth mail send timeout", "must be positive and shorter than the lease")
	}
	return c, nil
}

// Worker delivers queued auth mail. For each claimed mail it opens the
// sealed body, sends it through the e-mail provider with the mail's ID as
// the idempotency key, and marks it sent (the store wipes the body). A
// provider error is retried with exponential back-off and jitter until the
// attempts are used up; ErrInvalid or ErrUnsupported from the provider,
// and a body that does not open, end the mail dead at once. Delivery is at
// least once: a worker that stops between the provider's acceptance and
// the mark leaves the mail to be claimed again when its lease runs out, and
// providers that honour idempotency keys (Resend) then drop the copy.
//
// Logs name the mail (ID, kind, shop, attempt), never its recipient's
// token or body.
type Worker struct {
	outbox *Outbox
	queue  ports.AuthMailOutbox
	sender ports.EmailSender
	from   string
	clock  ports.Clock
	log    *slog.Logger
	cfg    WorkerConfig
	wake   chan struct{}
}

// NewWorker returns a worker. ErrInvalid for a missing dependency or a
// configuration out of range.
func NewWorker(d WorkerDeps, cfg WorkerConfig) (*Worker, error) {
	if d.Outbox == nil || d.Queue == nil || d.Sender == nil || d.From == "" {
		return nil, ports.Invalid("auth mail worker deps", "outbox, queue, sender and from are required")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	w := &Worker{outbox: d.Outbox, queue: d.Queue, sender: d.Sender, from: d.From, clock: d.Clock, log: d.Logger, cfg: cfg,
		wake: make(chan struct{}, 1)}
	if w.clock == nil {
		w.clock = ports.SystemClock{}
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	return w, nil
}

// Wake makes a waiting Run claim at once. It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done, then returns nil once the mail in hand
// has ended (a provider call in flight is finished and marked).
func (w *Worker) Run(ctx context.Context) error {
	jobs.Poll(ctx, w.RunOnce, w.cfg.BatchSize, w.cfg.PollInterval, w.wake, func(err error) {
		w.log.ErrorContext(ctx, "auth mail: round failed", "error", err)
	})
	return nil
}

// RunOnce claims one batch, delivers it one mail after another, and
// returns how many it claimed. Delivery failures are the mails' (recorded
// on them); RunOnce's error reports a failed claim or an outcome that
// could not be recorded.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	if ctx.Err() != nil {
		return 0, context.Cause(ctx)
	}
	claimed, err := w.queue.ClaimAuthMail(ctx, w.clock.Now(), w.cfg.BatchSize, w.cfg.Lease)
	if err != nil {
		return 0, fmt.Errorf("auth mail: claim: %w", err)
	}
	var errs []error
	for _, m := range claimed {
		if err := w.deliver(ctx, m); err != nil {
			errs = append(errs, err)
		}
	}
	return len(claimed), errors.Join(errs...)
}

// deliver opens, sends and marks one claimed mail.
func (w *Worker) deliver(ctx context.Context, m ports.AuthMail) error {
	log := w.log.With("auth_mail", m.ID.String(), "kind", string(m.Kind), "shop", m.ShopID.String(), "attempt", m.Attempts)
	if ctx.Err() != nil { // stopping: hand the mail back unstarted
		return w.fail(ctx, log, m, fmt.Errorf("worker stopped before the attempt: %w", context.Cause(ctx)), false)
	}
	mail, err := w.outbox.Open(m)
	if err != nil {
		return w.fail(ctx, log, m, err, true)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.SendTimeout)
	sent, err := w.sender.SendEmail(sctx, ports.Email{
		From: w.from, To: mail.To, Subject: mail.Subject, Text: mail.Text, IdempotencyKey: m.ID.String(),
	})
	cancel()
	mail.Text = "" // the body is done with
	if err != nil {
		dead := errors.Is(err, ports.ErrInvalid) || errors.Is(err, ports.ErrUnsupported)
		return w.fail(ctx, log, m, err, dead)
	}
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, err = w.queue.MarkAuthMailSent(mctx, m, sent.ProviderID)
	switch {
	case err == nil:
		log.InfoContext(ctx, "auth mail: sent", "provider_id", sent.ProviderID)
		return nil
	case errors.Is(err, ports.ErrNotFound):
		log.WarnContext(ctx, "auth mail: sent after the lease ran out; another worker holds the mail", "provider_id", sent.ProviderID)
		return nil
	}
	log.ErrorContext(ctx, "auth mail: sent but not marked; it is sent again when its lease runs out", "provider_id", sent.ProviderID, "error", err)
	return fmt.Errorf("auth mail: mark %s sent: %w", m.ID, err)
}

// fail records a failed attempt: a retry after the back-off (at once when
// the worker is stopping), or dead.
func (w *Worker) fail(ctx context.Context, log *slog.Logger, m ports.AuthMail, cause error, dead bool) error {
	now := w.clock.Now()
	retryAt := now.Add(w.cfg.Backoff(m.Attempts))
	if ctx.Err() != nil {
		retryAt = now
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	out, err := w.queue.FailAuthMail(rctx, m, cause.Error(), retryAt, dead)
	switch {
	case errors.Is(err, ports.ErrNotFound):
		log.WarnContext(ctx, "auth mail: failed after the lease ran out; another worker holds the mail", "error", cause)
		return nil
	case err != nil:
		return fmt.Errorf("auth mail: record failure of %s: %w", m.ID, err)
	case out.State == ports.AuthMailDead:
		log.ErrorContext(ctx, "auth mail: dead", "error", cause, "attempts", out.Attempts)
	default:
		log.WarnContext(ctx, "auth mail: send failed; will retry", "error", cause, "retry_at", out.RunAt)
	}
	return nil
}
