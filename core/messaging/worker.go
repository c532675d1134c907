package messaging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/jobs"
	"github.com/stockadehq/stockade/ports"
)

// WorkerDeps are the worker's collaborators.
type WorkerDeps struct {
	Service *Service          // required: consent and quiet hours
	Store   ports.Store       // default: the service's
	Queue   ports.OutboxQueue // required: the cross-shop claim
	SMS     ports.SMSSender   // nil: SMS messages are dead ("no SMS sender")
	Email   ports.EmailSender // nil: e-mail messages are dead ("no e-mail sender")
	Logger  *slog.Logger      // default: the service's
	// Observer, when set, is told how each delivery attempt ended (for
	// metrics).
	Observer Observer
}

// Outcome is how one delivery attempt of an outbox message ended.
type Outcome string

// The outcomes an Observer is told.
const (
	// OutcomeSent: the provider accepted the message and it is marked sent.
	OutcomeSent Outcome = "sent"
	// OutcomeRetry: the attempt failed (or was not started, or its
	// failure could not be recorded) and the message will be tried again.
	OutcomeRetry Outcome = "retry"
	// OutcomeDead: the attempt failed for good; the message is dead.
	OutcomeDead Outcome = "dead"
	// OutcomeCancelled: the recipient has opted out (by consent, or as
	// the provider reported); nothing more is sent.
	OutcomeCancelled Outcome = "cancelled"
	// OutcomeDeferred: held for the recipient's quiet hours.
	OutcomeDeferred Outcome = "deferred"
	// OutcomeUnknown: a previous attempt was interrupted during the
	// provider call of a provider that cannot deduplicate; the message is
	// settled as unknown and never sent again.
	OutcomeUnknown Outcome = "unknown"
	// OutcomeInDoubt: the provider accepted the message but it could not
	// be marked sent.
	OutcomeInDoubt Outcome = "in_doubt"
	// OutcomeLost: the lease ran out first; another worker holds the
	// message and this attempt's outcome was not recorded.
	OutcomeLost Outcome = "lost"
)

// Observer is told the end of every delivery attempt a Worker makes: the
// message's channel and the attempt's Outcome. It is called from the
// worker's goroutines, concurrently, after the outcome's unit of work has
// ended; it must be quick and must not block.
type Observer interface {
	MessageEnded(channel ports.Channel, outcome Outcome)
}

// WorkerConfig tunes the worker. The zero value is usable.
type WorkerConfig struct {
	// Concurrency is how many messages are delivered at once (default 1).
	Concurrency int
	// BatchSize is how many messages one claim takes, 1 to 1000 (default
	// 10 × Concurrency). The batch shares one lease.
	BatchSize int
	// PollInterval is the pause after a round that did not fill its batch
	// (default 1s).
	PollInterval time.Duration
	// Lease is how long a claimed batch is this worker's (default 5m, 1s
	// to ports.MaxLease); it must cover BatchSize / Concurrency provider
	// calls.
	Lease time.Duration
	// SendTimeout bounds one provider call (default 30s).
	SendTimeout time.Duration
	// Backoff is the delay before the retry after failed attempt number
	// attempt. Default: jobs.ExponentialBackoff(5s, 1h) — exponential
	// with jitter.
	Backoff func(attempt int) time.Duration
	// SMSDeduplicates and EmailDeduplicates declare that the channel's
	// provider honours ports.SMS/Email.IdempotencyKey (Resend's
	// Idempotency-Key does): a message whose previous attempt was
	// interrupted during the provider call is then sent again with the
	// same key. For a provider that does not (SMTP, Twilio's Messages
	// API), such a message becomes unknown instead and is never sent
	// again by itself.
	SMSDeduplicates, EmailDeduplicates bool
}

func (c WorkerConfig) withDefaults() (WorkerConfig, error) {
	if c.Concurrency == 0 {
		c.Concurrency = 1
	}
	if c.BatchSize == 0 {
		c.BatchSize = min(10*c.Concurrency, 1000)
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
		c.Backoff = jobs.ExponentialBackoff(5*time.Second, time.Hour)
	}
	switch {
	case c.Concurrency < 1:
		return c, ports.Invalid("outbox concurrency", "must be at least 1")
	case c.BatchSize < 1 || c.BatchSize > 1000:
		return c, ports.Invalid("outbox batch size", "must be 1 to 1000")
	case c.PollInterval < 0:
		return c, ports.Invalid("outbox poll interval", "must be positive")
	case c.Lease < time.Second || c.Lease > ports.MaxLease:
		return c, ports.Invalid("outbox lease", "must be 1s to 24h")
	case c.SendTimeout <= 0 || c.SendTimeout >= c.Lease:
		return c, ports.Invalid("outbox send timeout", "must be positive and shorter than the lease")
	}
	return c, nil
}

// Worker delivers the outbox (MSG-6). It claims due messages of every
// shop through ports.OutboxQueue and does everything else in the
// message's shop's unit of work. For each message it:
//
//  1. checks consent again (an opt-out that arrived while the message
//     waited cancels it) and quiet hours for marketing SMS (a message
//     retried into the night waits for the morning without spending an
//     attempt), and records that this attempt is about to call the
//     provider (ports.OutboxRepo.Dispatch), in one unit of work;
//  2. calls the provider with the message's idempotency key (its ID);
//  3. marks the message sent with the provider's ID.
//
// A provider error is retried with exponential back-off and jitter until
// the attempts are used up (dead, a dead letter an admin can retry); an
// error matching ErrInvalid or ErrUnsupported is dead at once, and
// ErrOptedOut (the provider's own opt-out list) cancels the message and
// records the opt-out (source "provider").
//
// # Exactly once, and the window that remains
//
// A worker can stop between steps 2 and 3 (a crash, a kill, a lost
// database): the provider has the message, our row does not say so, and
// the lease runs out. The next claim sees that the previous attempt was
// dispatched and never settled: the message is in doubt. For a provider
// that deduplicates by idempotency key (Resend keeps keys for 24 hours)
// the worker sends again with the same key and the provider returns the
// first send's receipt: exactly once. For a provider without keys — SMTP,
// and Twilio's Messages API — the worker cannot know, and does not guess:
// the message becomes unknown (ports.MessageUnknown), is never sent again
// by itself, and an admin may retry it. So with such a provider a crash in
// that window can leave one message unsent-but-unknown; it never sends one
// twice. Two smaller windows remain that no outbox closes: a provider
// that accepted a message but whose answer was lost (a timeout after
// SMTP's final "250") is retried like any failure and may deliver twice;
// SMTP messages carry the key as their Message-ID, by which many mailbox
// providers drop the copy.
type Worker struct {
	svc   *Service
	store ports.Store
	queue ports.OutboxQueue
	sms   ports.SMSSender
	email ports.EmailSender
	log   *slog.Logger
	obs   Observer
	cfg   WorkerConfig
	wake  chan struct{}
}

// NewWorker returns a worker. ErrInvalid for a missing dependency or a
// configuration out of range.
func NewWorker(d WorkerDeps, cfg WorkerConfig) (*Worker, error) {
	if d.Service == nil || d.Queue == nil {
		return nil, ports.Invalid("outbox worker deps", "service and queue are required")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	w := &Worker{svc: d.Service, store: d.Store, queue: d.Queue, sms: d.SMS, email: d.Email, log: d.Logger, obs: d.Observer, cfg: cfg, wake: make(chan struct{}, 1)}
	if w.log == nil {
		w.log = d.Service.log
	}
	if w.store == nil {
		w.store = d.Service.store
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

// Run delivers until ctx is done, then returns nil once the messages in
// hand have ended (a provider call in flight is finished and marked, with
// a bound of its own; messages not yet started go back to the queue).
func (w *Worker) Run(ctx context.Context) error {
	jobs.Poll(ctx, w.RunOnce, w.cfg.BatchSize, w.cfg.PollInterval, w.wake, func(err error) {
		w.log.ErrorContext(ctx, "outbox: round failed", "error", err)
	})
	return nil
}

// RunOnce claims one batch, delivers it with up to Concurrency messages
// at once, and returns how many it claimed. Delivery failures are the
// messages' (recorded on them); RunOnce's error reports a failed claim or
// an outcome that could not be recorded.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	if ctx.Err() != nil {
		return 0, context.Cause(ctx)
	}
	claimed, err := w.queue.ClaimMessages(ctx, w.svc.now(), w.cfg.BatchSize, w.cfg.Lease)
	if err != nil {
		return 0, fmt.Errorf("outbox: claim: %w", err)
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, w.cfg.Concurrency)
	)
	for _, m := range claimed {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := w.deliver(ctx, m); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return len(claimed), errors.Join(errs...)
}

// outcome is what step 1 decided.
type outcome int

const (
	goAhead outcome = iota
	settled         // cancelled, deferred or unknown: nothing to send
)

// observe tells the Observer, if any, how an attempt on channel ended.
func (w *Worker) observe(channel ports.Channel, o Outcome) {
	if w.obs != nil {
		w.obs.MessageEnded(channel, o)
	}
}

// deliver runs one claimed message through the three steps.
func (w *Worker) deliver(ctx context.Context, m ports.OutboxMessage) error {
	log := w.log.With("message", m.ID.String(), "shop", m.ShopID.String(), "channel", string(m.Channel), "attempt", m.Attempts)
	if ctx.Err() != nil { // stopping: hand the message back unstarted
		return w.fail(ctx, log, m, fmt.Errorf("worker stopped before the attempt: %w", context.Cause(ctx)), false)
	}
	o, as, err := w.prepare(ctx, m)
	switch {
	case errors.Is(err, ports.ErrNotFound):
		w.observe(m.Channel, OutcomeLost)
		log.WarnContext(ctx, "outbox: the attempt is no longer this worker's (lease ran out)")
		return nil
	case err != nil:
		// Nothing was dispatched: the lease runs out and the message is
		// claimed again as it was.
		w.observe(m.Channel, OutcomeRetry)
		return fmt.Errorf("outbox: prepare %s: %w", m.ID, err)
	case o == settled:
		w.observe(m.Channel, as)
		return nil
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.SendTimeout)
	sent, err := w.send(sctx, m)
	cancel()
	if err != nil {
		return w.failed(ctx, log, m, err)
	}
	return w.mark(ctx, log, m, sent)
}

// prepare is step 1, in one unit of work of the message's shop. When it
// settles the message, as says how.
func (w *Worker) prepare(ctx context.Context, m ports.OutboxMessage) (o outcome, as Outcome, err error) {
	o = goAhead
	err = w.store.InShop(ctx, m.ShopID, func(ctx context.Context, tx ports.ShopTx) error {
		r := tx.Outbox()
		if m.Dispatched > 0 && m.Dispatched == m.Attempts-1 && !w.deduplicates(m.Channel) {
			o, as = settled, OutcomeUnknown
			_, err := r.Settle(ctx, m.ID, m.Attempts, ports.MessageUnknown,
				fmt.Sprintf("attempt %d was interrupted during the provider call and the provider cannot deduplicate: it may have been sent; not sent again", m.Dispatched))
			return err
		}
		if err := checkConsent(ctx, tx, m.Contact, m.Channel, m.Category); err != nil {
			if !errors.Is(err, ports.ErrOptedOut) {
				return err
			}
			o, as = settled, OutcomeCancelled
			_, err = r.Settle(ctx, m.ID, m.Attempts, ports.MessageCancelled, err.Error())
			return err
		}
		if m.Channel == ports.ChannelSMS && m.Category == ports.CategoryMarketing {
			settings, err := tx.MessagingSettings().Get(ctx)
			if err != nil {
				return err
			}
			contact, err := tx.Consent().GetContact(ctx, m.Contact)
			if err != nil {
				return err
			}
			now := w.svc.now()
			if at := w.svc.sendWindow(settings, contact).next(now); at.After(now) {
				o, as = settled, OutcomeDeferred
				_, err = r.Defer(ctx, m.ID, m.Attempts, at, heldForQuietHours)
				return err
			}
		}
		return r.Dispatch(ctx, m.ID, m.Attempts)
	})
	return o, as, err
}

func (w *Worker) deduplicates(c ports.Channel) bool {
	if c == ports.ChannelSMS {
		return w.cfg.SMSDeduplicates
	}
	return w.cfg.EmailDeduplicates
}

// send is step 2.
func (w *Worker) send(ctx context.Context, m ports.OutboxMessage) (ports.Sent, error) {
	switch m.Channel {
	case ports.ChannelSMS:
		if w.sms == nil {
			return ports.Sent{}, fmt.Errorf("no SMS sender is configured: %w", ports.ErrUnsupported)
		}
		return w.sms.SendSMS(ctx, m.SMS)
	case ports.ChannelEmail:
		if w.email == nil {
			return ports.Sent{}, fmt.Errorf("no e-mail sender is configured: %w", ports.ErrUnsupported)
		}
		return w.email.SendEmail(ctx, m.Email)
	}
	return ports.Sent{}, fmt.Errorf("channel %q: %w", m.Channel, ports.ErrUnsupported)
}

// mark is step 3. The provider has the message, so the mark is tried a
// few times before the worker gives up and leaves the message in doubt.
func (w *Worker) mark(ctx context.Context, log *slog.Logger, m ports.OutboxMessage, sent ports.Sent) error {
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var err error
	for try := range 3 {
		if try > 0 {
			select {
			case <-mctx.Done():
			case <-time.After(time.Duration(try) * 200 * time.Millisecond):
			}
		}
		err = w.store.InShop(mctx, m.ShopID, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := tx.Outbox().MarkSent(ctx, m.ID, m.Attempts, sent.ProviderID)
			return err
		})
		if err == nil || errors.Is(err, ports.ErrNotFound) || mctx.Err() != nil {
			break
		}
	}
	switch {
	case err == nil:
		w.observe(m.Channel, OutcomeSent)
		log.DebugContext(ctx, "outbox: sent", "provider_id", sent.ProviderID)
		return nil
	case errors.Is(err, ports.ErrNotFound):
		w.observe(m.Channel, OutcomeLost)
		log.WarnContext(ctx, "outbox: sent after the lease ran out; another worker holds the message", "provider_id", sent.ProviderID)
		return nil
	}
	w.observe(m.Channel, OutcomeInDoubt)
	log.ErrorContext(ctx, "outbox: sent but not marked; the message is in doubt until its lease runs out", "provider_id", sent.ProviderID, "error", err)
	return fmt.Errorf("outbox: mark %s sent: %w", m.ID, err)
}

// failed records a provider error: a provider opt-out cancels the message
// and withdraws consent, ErrInvalid and ErrUnsupported make it dead, the
// rest retry with back-off.
func (w *Worker) failed(ctx context.Context, log *slog.Logger, m ports.OutboxMessage, cause error) error {
	if errors.Is(cause, ports.ErrOptedOut) {
		topic := ports.TopicEmail
		if m.Channel == ports.ChannelSMS {
			topic = ports.TopicSMS
		}
		sc := access.Scope{Shop: m.ShopID, System: "provider"}
		err := w.store.InShop(context.WithoutCancel(ctx), m.ShopID, func(ctx context.Context, tx ports.ShopTx) error {
			if _, err := tx.Outbox().Settle(ctx, m.ID, m.Attempts, ports.MessageCancelled, cause.Error()); err != nil {
				return err
			}
			_, err := w.svc.apply(ctx, tx, sc, m.Contact, ports.SourceProvider, string(m.Channel), change{topic, true})
			return err
		})
		switch {
		case errors.Is(err, ports.ErrNotFound):
			w.observe(m.Channel, OutcomeLost)
			return nil
		case err != nil:
			w.observe(m.Channel, OutcomeRetry)
			return fmt.Errorf("outbox: record provider opt-out of %s: %w", m.ID, err)
		}
		w.observe(m.Channel, OutcomeCancelled)
		log.InfoContext(ctx, "outbox: the provider refused an opted-out recipient; consent withdrawn")
		return nil
	}
	dead := errors.Is(cause, ports.ErrInvalid) || errors.Is(cause, ports.ErrUnsupported)
	return w.fail(ctx, log, m, cause, dead)
}

// fail records a failed attempt in its own unit of work: a retry after
// the back-off (at once when the worker is stopping), or dead.
func (w *Worker) fail(ctx context.Context, log *slog.Logger, m ports.OutboxMessage, cause error, dead bool) error {
	now := w.svc.now()
	retryAt := now.Add(w.cfg.Backoff(m.Attempts))
	if ctx.Err() != nil {
		retryAt = now
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var out ports.OutboxMessage
	err := w.store.InShop(rctx, m.ShopID, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.Outbox().Fail(ctx, m.ID, m.Attempts, cause.Error(), retryAt, dead)
		return err
	})
	switch {
	case errors.Is(err, ports.ErrNotFound):
		w.observe(m.Channel, OutcomeLost)
		log.WarnContext(ctx, "outbox: failed after the lease ran out; another worker holds the message", "error", cause)
		return nil
	case err != nil:
		w.observe(m.Channel, OutcomeRetry)
		return fmt.Errorf("outbox: record failure of %s: %w", m.ID, err)
	case out.State == ports.MessageDead:
		w.observe(m.Channel, OutcomeDead)
		log.ErrorContext(ctx, "outbox: message dead", "error", cause, "attempts", out.Attempts)
	default:
		w.observe(m.Channel, OutcomeRetry)
		log.WarnContext(ctx, "outbox: send failed; will retry", "error", cause, "retry_at", out.RunAt)
	}
	return nil
}
