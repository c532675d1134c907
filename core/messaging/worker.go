package messaging

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
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
	// BatchWindow sizes the chunks a shop's claimed messages are
	// delivered in (default 100ms; positive and shorter than Lease). A
	// chunk is dispatched in one unit of work and its sent messages are
	// marked in one; it holds as many messages as the provider calls are
	// expected to take BatchWindow for, Concurrency at once, by the
	// running mean of the calls' durations so far (Concurrency messages
	// before any call has been timed). A fast provider so gets large
	// chunks and few units of work per message, a slow one small chunks.
	// It also bounds what a crash can leave in doubt (see Worker).
	BatchWindow time.Duration
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
	if c.BatchWindow == 0 {
		c.BatchWindow = 100 * time.Millisecond
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
	case c.BatchWindow < 0 || c.BatchWindow >= c.Lease:
		return c, ports.Invalid("outbox batch window", "must be positive and shorter than the lease")
	}
	return c, nil
}

// Worker delivers the outbox (MSG-6). It claims due messages of every
// shop through ports.OutboxQueue and does everything else in the
// messages' shop's units of work. It delivers one shop's claimed messages
// in chunks (sized by WorkerConfig.BatchWindow), and for each chunk it:
//
//  1. checks consent again, in one read for the chunk's contacts (an
//     opt-out that arrived while a message waited cancels it), and quiet
//     hours for marketing SMS (a message retried into the night waits for
//     the morning without spending an attempt), and records that the
//     remaining attempts are about to call the provider
//     (ports.OutboxRepo.DispatchAll), in one unit of work;
//  2. calls the provider for each of them with the message's idempotency
//     key (its ID), outside any unit of work, up to Concurrency at once;
//  3. marks the messages the provider accepted sent, each with the
//     provider's ID, in one unit of work (ports.OutboxRepo.MarkAllSent).
//
// A provider error is recorded on its message in a unit of work of its
// own: retried with exponential back-off and jitter until the attempts
// are used up (dead, a dead letter an admin can retry); an error matching
// ErrInvalid or ErrUnsupported is dead at once, and ErrOptedOut (the
// provider's own opt-out list) cancels the message and records the
// opt-out (source "provider"). When the unit of work of step 1 or 3 fails
// as a whole, the step is done again message by message, each in a unit
// of work of its own, so that one message whose statement fails cannot
// hold its chunk-mates back.
//
// # Exactly once, and the window that remains
//
// A worker can stop between steps 1 and 3 (a crash, a kill, a lost
// database): the provider may have a dispatched message, our row does not
// say it was sent, and the lease runs out. The next claim sees that the
// previous attempt was dispatched and never settled: the message is in
// doubt. For a provider that deduplicates by idempotency key (Resend keeps
// keys for 24 hours) the worker sends again with the same key and the
// provider returns the first send's receipt: exactly once. For a provider
// without keys — SMTP, and Twilio's Messages API — the worker cannot know,
// and does not guess: the message becomes unknown (ports.MessageUnknown),
// is never sent again by itself, and an admin may retry it. So with such a
// provider a crash in that window can leave the messages of the chunk in
// hand unsent-but-unknown — about BatchWindow's worth of provider calls,
// and at least Concurrency messages; it never sends one twice. Two smaller
// windows remain that no outbox closes: a provider that accepted a message
// but whose answer was lost (a timeout after SMTP's final "250") is
// retried like any failure and may deliver twice; SMTP messages carry the
// key as their Message-ID, by which many mailbox providers drop the copy.
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
	// sendMean is the running mean duration of the provider calls, in
	// nanoseconds (0 before the first); it sizes the chunks.
	sendMean atomic.Int64
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

// RunOnce claims one batch, delivers it with up to Concurrency provider
// calls at once, and returns how many it claimed. The batch's shops are
// delivered side by side, up to Concurrency shops at once, each in chunks
// (see Worker). Delivery failures are the messages' (recorded on them);
// RunOnce's error reports a failed claim or an outcome that could not be
// recorded.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	if ctx.Err() != nil {
		return 0, context.Cause(ctx)
	}
	claimed, err := w.queue.ClaimMessages(ctx, w.svc.now(), w.cfg.BatchSize, w.cfg.Lease)
	if err != nil {
		return 0, fmt.Errorf("outbox: claim: %w", err)
	}
	var (
		mu    sync.Mutex
		errs  []error
		wg    sync.WaitGroup
		shops = make(chan struct{}, w.cfg.Concurrency)
		calls = make(chan struct{}, w.cfg.Concurrency)
	)
	for _, batch := range byShop(claimed) {
		shops <- struct{}{}
		wg.Go(func() {
			defer func() { <-shops }()
			if err := w.deliverShop(ctx, batch, calls); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return len(claimed), errors.Join(errs...)
}

// byShop splits claimed into one batch per shop, each in claim order, the
// shops in the order their first message was claimed.
func byShop(claimed []ports.OutboxMessage) [][]ports.OutboxMessage {
	index := map[ports.ShopID]int{}
	var out [][]ports.OutboxMessage
	for _, m := range claimed {
		i, ok := index[m.ShopID]
		if !ok {
			i = len(out)
			index[m.ShopID] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], m)
	}
	return out
}

// deliverShop delivers one shop's claimed messages chunk by chunk; calls
// holds a slot for each provider call in flight, shared by the round's
// shops.
func (w *Worker) deliverShop(ctx context.Context, batch []ports.OutboxMessage, calls chan struct{}) error {
	var errs []error
	for len(batch) > 0 {
		n := w.chunkSize(len(batch))
		if err := w.deliverChunk(ctx, batch[:n], calls); err != nil {
			errs = append(errs, err)
		}
		batch = batch[n:]
	}
	return errors.Join(errs...)
}

// chunkSize is how many of n messages the next chunk takes: as many as the
// provider calls are expected to take BatchWindow for, Concurrency at
// once, by their running mean; Concurrency before a call has been timed.
// Never more than n or ports.MaxBatch.
func (w *Worker) chunkSize(n int) int {
	size := w.cfg.Concurrency
	if mean := w.sendMean.Load(); mean > 0 {
		// Calls one slot makes in the window, capped before multiplying.
		perSlot := min(int64(w.cfg.BatchWindow)/mean, ports.MaxBatch)
		size = max(size, int(min(perSlot*int64(w.cfg.Concurrency), ports.MaxBatch)))
	}
	return min(n, size, ports.MaxBatch)
}

// timed folds the duration d of one provider call into the running mean
// (an exponentially weighted one, each call weighing 1/8).
func (w *Worker) timed(d time.Duration) {
	d = max(d, time.Nanosecond)
	for {
		old := w.sendMean.Load()
		next := int64(d)
		if old > 0 {
			next = old + (int64(d)-old)/8
		}
		if w.sendMean.CompareAndSwap(old, max(next, 1)) {
			return
		}
	}
}

// sentMessage is a message the provider accepted, and its receipt.
type sentMessage struct {
	m    ports.OutboxMessage
	sent ports.Sent
}

// deliverChunk runs one chunk of one shop's messages through the three
// steps.
func (w *Worker) deliverChunk(ctx context.Context, chunk []ports.OutboxMessage, calls chan struct{}) error {
	var (
		mu   sync.Mutex
		errs []error
		sent []sentMessage
		wg   sync.WaitGroup
	)
	note := func(err error) {
		if err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
	}
	if ctx.Err() != nil { // stopping: hand the messages back unstarted
		for _, m := range chunk {
			note(w.fail(ctx, w.logFor(m), m, fmt.Errorf("worker stopped before the attempt: %w", context.Cause(ctx)), false))
		}
		return errors.Join(errs...)
	}
	ready, err := w.prepareChunk(ctx, chunk)
	note(err)
	for _, m := range ready {
		calls <- struct{}{}
		wg.Go(func() {
			defer func() { <-calls }()
			if ctx.Err() != nil {
				// Stopping before the provider call: the failure settles
				// the dispatched attempt, so the message is not in doubt.
				note(w.fail(ctx, w.logFor(m), m, fmt.Errorf("worker stopped before the provider call: %w", context.Cause(ctx)), false))
				return
			}
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.SendTimeout)
			start := time.Now()
			receipt, err := w.send(sctx, m)
			w.timed(time.Since(start))
			cancel()
			if err != nil {
				note(w.failed(ctx, w.logFor(m), m, err))
				return
			}
			mu.Lock()
			sent = append(sent, sentMessage{m, receipt})
			mu.Unlock()
		})
	}
	wg.Wait()
	note(w.markChunk(ctx, sent))
	return errors.Join(errs...)
}

// logFor is the worker's logger with m's fields.
func (w *Worker) logFor(m ports.OutboxMessage) *slog.Logger {
	return w.log.With("message", m.ID.String(), "shop", m.ShopID.String(), "channel", string(m.Channel), "attempt", m.Attempts)
}

// verdict is what step 1 decided for one message of a chunk.
type verdict struct {
	m   ports.OutboxMessage
	out Outcome // how the message was settled; "" when it goes ahead
}

// prepareChunk is step 1 for a chunk of one shop's messages, in one unit
// of work: one consent read for the chunk's contacts, the settlement of
// the messages that must not be sent (each its own statement, a rare
// path), and one DispatchAll for the rest. It returns the messages to
// send. A message whose attempt is no longer this worker's is lost;
// one whose contact is gone is lost too, as a single prepare has it. When
// the unit of work fails, the chunk is prepared again message by message
// (prepareEach).
func (w *Worker) prepareChunk(ctx context.Context, chunk []ports.OutboxMessage) ([]ports.OutboxMessage, error) {
	var verdicts []verdict
	var ready []ports.OutboxMessage
	err := w.store.InShop(ctx, chunk[0].ShopID, func(ctx context.Context, tx ports.ShopTx) error {
		verdicts, ready = verdicts[:0], ready[:0]
		r := tx.Outbox()
		contacts := make([]ports.ContactID, 0, len(chunk))
		for _, m := range chunk {
			contacts = append(contacts, m.Contact)
		}
		consent, err := tx.Consent().ConsentOf(ctx, contacts)
		if err != nil {
			return err
		}
		var settings *ports.MessagingSettings
		var toDispatch []ports.MessageAttempt
		for _, m := range chunk {
			out, err := w.settle(ctx, tx, r, m, consent, &settings)
			switch {
			case errors.Is(err, ports.ErrNotFound):
				verdicts = append(verdicts, verdict{m, OutcomeLost})
			case err != nil:
				return err
			case out != "":
				verdicts = append(verdicts, verdict{m, out})
			default:
				toDispatch = append(toDispatch, ports.MessageAttempt{ID: m.ID, Attempt: m.Attempts})
			}
		}
		dispatched, err := r.DispatchAll(ctx, toDispatch)
		if err != nil {
			return err
		}
		ok := make(map[ports.MessageID]bool, len(dispatched))
		for _, id := range dispatched {
			ok[id] = true
		}
		for _, m := range chunk {
			if ok[m.ID] {
				ready = append(ready, m)
			}
		}
		for _, a := range toDispatch {
			if !ok[a.ID] {
				verdicts = append(verdicts, verdict{messageOf(chunk, a.ID), OutcomeLost})
			}
		}
		return nil
	})
	if err != nil {
		w.log.WarnContext(ctx, "outbox: preparing a chunk failed; preparing its messages one by one", "shop", chunk[0].ShopID.String(), "messages", len(chunk), "error", err)
		return w.prepareEach(ctx, chunk)
	}
	for _, v := range verdicts {
		w.observe(v.m.Channel, v.out)
		if v.out == OutcomeLost {
			w.logFor(v.m).WarnContext(ctx, "outbox: the attempt is no longer this worker's (lease ran out)")
		}
	}
	return ready, nil
}

// messageOf is the message of chunk with ID id.
func messageOf(chunk []ports.OutboxMessage, id ports.MessageID) ports.OutboxMessage {
	for _, m := range chunk {
		if m.ID == id {
			return m
		}
	}
	return ports.OutboxMessage{ID: id}
}

// settle is step 1's decision for one message of a chunk, in the chunk's
// unit of work: it settles a message whose previous attempt is in doubt
// with a provider that cannot deduplicate (unknown), whose contact has
// opted out (cancelled), or which is a marketing SMS in the recipient's
// quiet hours (deferred), and says how; "" means go ahead. consent is the
// chunk's consent read (a contact missing from it is ErrNotFound, as
// Consent has it); settings is read once per chunk, when first needed.
func (w *Worker) settle(ctx context.Context, tx ports.ShopTx, r ports.OutboxRepo, m ports.OutboxMessage, consent map[ports.ContactID][]ports.Consent, settings **ports.MessagingSettings) (Outcome, error) {
	if m.Dispatched > 0 && m.Dispatched == m.Attempts-1 && !w.deduplicates(m.Channel) {
		_, err := r.Settle(ctx, m.ID, m.Attempts, ports.MessageUnknown,
			fmt.Sprintf("attempt %d was interrupted during the provider call and the provider cannot deduplicate: it may have been sent; not sent again", m.Dispatched))
		return OutcomeUnknown, err
	}
	records, known := consent[m.Contact]
	if !known {
		return "", fmt.Errorf("outbox: message %s: contact %s: %w", m.ID, m.Contact, ports.ErrNotFound)
	}
	if refusal := consentRefusal(records, m.Contact, m.Channel, m.Category); refusal != nil {
		_, err := r.Settle(ctx, m.ID, m.Attempts, ports.MessageCancelled, refusal.Error())
		return OutcomeCancelled, err
	}
	if m.Channel != ports.ChannelSMS || m.Category != ports.CategoryMarketing {
		return "", nil
	}
	if *settings == nil {
		got, err := tx.MessagingSettings().Get(ctx)
		if err != nil {
			return "", err
		}
		*settings = &got
	}
	contact, err := tx.Consent().GetContact(ctx, m.Contact)
	if err != nil {
		return "", err
	}
	now := w.svc.now()
	if at := w.svc.sendWindow(**settings, contact).next(now); at.After(now) {
		_, err = r.Defer(ctx, m.ID, m.Attempts, at, heldForQuietHours)
		return OutcomeDeferred, err
	}
	return "", nil
}

// observe tells the Observer, if any, how an attempt on channel ended.
func (w *Worker) observe(channel ports.Channel, o Outcome) {
	if w.obs != nil {
		w.obs.MessageEnded(channel, o)
	}
}

// prepareEach is step 1 message by message, each in a unit of work of its
// own (prepare): the fallback of a chunk whose unit of work failed.
func (w *Worker) prepareEach(ctx context.Context, chunk []ports.OutboxMessage) ([]ports.OutboxMessage, error) {
	var ready []ports.OutboxMessage
	var errs []error
	for _, m := range chunk {
		out, err := w.prepare(ctx, m)
		switch {
		case errors.Is(err, ports.ErrNotFound):
			w.observe(m.Channel, OutcomeLost)
			w.logFor(m).WarnContext(ctx, "outbox: the attempt is no longer this worker's (lease ran out)")
		case err != nil:
			// Nothing was dispatched: the lease runs out and the message is
			// claimed again as it was.
			w.observe(m.Channel, OutcomeRetry)
			errs = append(errs, fmt.Errorf("outbox: prepare %s: %w", m.ID, err))
		case out != "":
			w.observe(m.Channel, out)
		default:
			ready = append(ready, m)
		}
	}
	return ready, errors.Join(errs...)
}

// prepare is step 1 for one message, in a unit of work of its own (the
// fallback of prepareChunk): settle's decision, and Dispatch when it goes
// ahead. It returns how the message was settled, "" when it goes ahead.
func (w *Worker) prepare(ctx context.Context, m ports.OutboxMessage) (Outcome, error) {
	var out Outcome
	err := w.store.InShop(ctx, m.ShopID, func(ctx context.Context, tx ports.ShopTx) error {
		consent := map[ports.ContactID][]ports.Consent{}
		records, err := tx.Consent().Consent(ctx, m.Contact)
		switch {
		case errors.Is(err, ports.ErrNotFound): // settle says so, unless the message is in doubt
		case err != nil:
			return err
		default:
			consent[m.Contact] = records
		}
		var settings *ports.MessagingSettings
		if out, err = w.settle(ctx, tx, tx.Outbox(), m, consent, &settings); err != nil || out != "" {
			return err
		}
		return tx.Outbox().Dispatch(ctx, m.ID, m.Attempts)
	})
	return out, err
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

// markChunk is step 3 for the messages of a chunk the provider
// accepted: one MarkAllSent in one unit of work. The provider has the
// messages, so the mark is recorded even when ctx is done (the worker is
// stopping), within a bound of its own. When the unit of work fails, the
// messages are marked one by one (mark), each with a few tries, within
// the same bound.
func (w *Worker) markChunk(ctx context.Context, sent []sentMessage) error {
	if len(sent) == 0 {
		return nil
	}
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	marks := make([]ports.SentAttempt, len(sent))
	for i, s := range sent {
		marks[i] = ports.SentAttempt{ID: s.m.ID, Attempt: s.m.Attempts, ProviderID: s.sent.ProviderID}
	}
	var marked []ports.MessageID
	err := w.store.InShop(mctx, sent[0].m.ShopID, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		marked, err = tx.Outbox().MarkAllSent(ctx, marks)
		return err
	})
	if err != nil {
		w.log.WarnContext(ctx, "outbox: marking a chunk sent failed; marking its messages one by one", "shop", sent[0].m.ShopID.String(), "messages", len(sent), "error", err)
		var errs []error
		for _, s := range sent {
			errs = append(errs, w.mark(mctx, w.logFor(s.m), s.m, s.sent))
		}
		return errors.Join(errs...)
	}
	ok := make(map[ports.MessageID]bool, len(marked))
	for _, id := range marked {
		ok[id] = true
	}
	for _, s := range sent {
		w.marked(ctx, s.m, s.sent, ok[s.m.ID])
	}
	return nil
}

// marked tells the Observer and the log how the mark of m ended: sent,
// or lost when its attempt was no longer this worker's. The message's
// logger is built only when something is logged: this is the path of
// every message.
func (w *Worker) marked(ctx context.Context, m ports.OutboxMessage, sent ports.Sent, ok bool) {
	if ok {
		w.observe(m.Channel, OutcomeSent)
		if w.log.Enabled(ctx, slog.LevelDebug) {
			w.logFor(m).DebugContext(ctx, "outbox: sent", "provider_id", sent.ProviderID)
		}
		return
	}
	w.observe(m.Channel, OutcomeLost)
	w.logFor(m).WarnContext(ctx, "outbox: sent after the lease ran out; another worker holds the message", "provider_id", sent.ProviderID)
}

// mark is step 3 for one message, in a unit of work of its own (the
// fallback of markChunk): mctx is the mark's bound, not cancelled when
// the worker stops. The provider has the message, so the mark is tried a
// few times before the worker gives up and leaves the message in doubt.
func (w *Worker) mark(mctx context.Context, log *slog.Logger, m ports.OutboxMessage, sent ports.Sent) error {
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
		w.marked(mctx, m, sent, true)
		return nil
	case errors.Is(err, ports.ErrNotFound):
		w.marked(mctx, m, sent, false)
		return nil
	}
	w.observe(m.Channel, OutcomeInDoubt)
	log.ErrorContext(mctx, "outbox: sent but not marked; the message is in doubt until its lease runs out", "provider_id", sent.ProviderID, "error", err)
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
