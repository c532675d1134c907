package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/stockadehq/stockade/core/jobs"
	"github.com/stockadehq/stockade/ports"
	sig "github.com/stockadehq/stockade/webhooks"
)

// Event is the JSON body of every delivery, the envelope Standard Webhooks
// suggests.
type Event struct {
	// Type is the event type, e.g. "member.added".
	Type string `json:"type"`
	// Shop is the ID of the shop whose unit of work emitted the event
	// (the endpoint's shop).
	Shop string `json:"shop"`
	// Timestamp is when the event happened (Emit's clock), not when this
	// attempt was sent (that is the webhook-timestamp header).
	Timestamp time.Time `json:"timestamp"`
	// Data is the event's payload as Emit got it.
	Data json.RawMessage `json:"data"`
}

// deliveryJob is the payload of a JobKind job.
type deliveryJob struct {
	Endpoint ports.WebhookEndpointID `json:"endpoint"`
	Body     json.RawMessage         `json:"body"`
}

// validEventType: 1 to 64 bytes of a-z, 0-9, '_', '-', '.', starting with
// a letter (an endpoint's event filter, without "*").
func validEventType(t string) bool {
	if t == "" || len(t) > ports.MaxWebhookEventLen || t[0] < 'a' || t[0] > 'z' {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// Emit enqueues the event for every endpoint of tx's shop that wants it
// (ports.WebhookEndpoint.Wants), one JobKind job each, in tx: the event is
// sent only if tx commits, and not at all if it rolls back. data is the
// event's JSON payload (nil means null); it must hold nothing the shop's
// endpoints may not see. Emit has no guard of its own: code calls it
// inside a unit of work that a guarded use case (or a system job) opened.
// It returns how many deliveries it enqueued; ErrInvalid for a malformed
// type, invalid JSON or an event over MaxEventLen. It is Enqueue at the
// service's clock.
func (s *Service) Emit(ctx context.Context, tx ports.ShopTx, eventType string, data json.RawMessage) (int, error) {
	return Enqueue(ctx, tx, s.clock.Now(), eventType, data)
}

// Enqueue is Emit without a Service, for code that has no key manager at
// hand (Emit needs none: the deliveries are signed when they are sent):
// it enqueues the event, stamped with at, for every endpoint of tx's shop
// that wants it, in tx, and returns how many deliveries it enqueued.
// ErrInvalid for a malformed type, invalid JSON or an event over
// MaxEventLen. The deliveries are sent by the job runner that has Deliver
// registered for JobKind.
func Enqueue(ctx context.Context, tx ports.ShopTx, at time.Time, eventType string, data json.RawMessage) (int, error) {
	if !validEventType(eventType) {
		return 0, ports.Invalid("event type", "must be 1 to 64 characters of a-z, 0-9, '_', '-', '.', starting with a letter")
	}
	if data == nil {
		data = json.RawMessage("null")
	}
	if !json.Valid(data) {
		return 0, ports.Invalid("event data", "must be valid JSON")
	}
	body, err := json.Marshal(Event{Type: eventType, Shop: tx.ShopID().String(), Timestamp: at.UTC(), Data: data})
	if err != nil {
		return 0, fmt.Errorf("emit %s: %w", eventType, err)
	}
	if len(body) > MaxEventLen {
		return 0, ports.Invalid("event data", fmt.Sprintf("the event must be at most %d bytes", MaxEventLen))
	}
	endpoints, err := tx.WebhookEndpoints().List(ctx)
	if err != nil {
		return 0, fmt.Errorf("emit %s: %w", eventType, err)
	}
	n := 0
	for _, e := range endpoints {
		if !e.Wants(eventType) {
			continue
		}
		payload, err := json.Marshal(deliveryJob{Endpoint: e.ID, Body: body})
		if err != nil {
			return n, fmt.Errorf("emit %s: %w", eventType, err)
		}
		if _, err := tx.Jobs().Enqueue(ctx, ports.Job{ID: ports.NewJobID(), Kind: JobKind, Payload: payload}); err != nil {
			return n, fmt.Errorf("emit %s: enqueue delivery: %w", eventType, err)
		}
		n++
	}
	return n, nil
}

// MessageID is the webhook-id of every attempt of a delivery job: stable
// across retries, so receivers can drop duplicates.
func MessageID(job ports.JobID) string { return "msg_" + job.String() }

// Deliver is the jobs.OutsideHandler of JobKind: register it with
// Runner.HandleOutside. It reads the endpoint and opens its secret in a
// short read-only unit of work of job.ShopID, then signs and POSTs the
// event with the Standard Webhooks headers (webhook-id is
// MessageID(job.ID), the same on every attempt) outside any unit of work,
// within DeliveryTimeout, so that no transaction (nor SQLite's write lock)
// is held while the receiver answers. A 2xx answer completes the job; any
// other answer, a redirect or a transport error is returned so the queue
// retries with its back-off. A delivery whose endpoint was deleted or
// disabled meanwhile, or whose payload is malformed, ends without a
// request (deleted, disabled) or as a permanent failure (malformed).
// Delivery is at least once: a POST is not undone when the job's
// completion cannot be recorded, and the retry carries the same
// webhook-id. Neither the secret nor the body is ever logged or put in an
// error.
func (s *Service) Deliver(ctx context.Context, job ports.Job) error {
	var d deliveryJob
	if err := json.Unmarshal(job.Payload, &d); err != nil || d.Endpoint.IsZero() || len(d.Body) == 0 {
		return jobs.Permanent(errors.New("webhook delivery: malformed job payload"))
	}
	log := s.log.With("job", job.ID.String(), "shop", job.ShopID.String(), "endpoint", d.Endpoint.String(), "attempt", job.Attempts)
	var (
		e       ports.WebhookEndpoint
		key     []byte
		dropped string // why the delivery ends without a request
	)
	err := s.store.InShop(ctx, job.ShopID, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		e, err = tx.WebhookEndpoints().Get(ctx, d.Endpoint)
		if errors.Is(err, ports.ErrNotFound) {
			dropped = "endpoint deleted"
			return nil
		}
		if err != nil {
			return fmt.Errorf("webhook delivery: get endpoint: %w", err)
		}
		if !e.DisabledAt.IsZero() {
			dropped = "endpoint disabled"
			return nil
		}
		key, err = s.keys.UnwrapKey(ctx, tx.ShopID(), e.SealedSecret)
		if err != nil {
			return fmt.Errorf("webhook delivery: open secret: %w", err)
		}
		return nil
	}, ports.ReadOnly())
	if err != nil {
		return err
	}
	if dropped != "" {
		log.InfoContext(ctx, "webhook delivery dropped: "+dropped)
		return nil
	}
	h, err := sig.Headers(sig.FormatSecret(key), MessageID(job.ID), s.clock.Now(), d.Body)
	if err != nil {
		return fmt.Errorf("webhook delivery: sign: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, DeliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, e.URL, strings.NewReader(string(d.Body)))
	if err != nil {
		return jobs.Permanent(errors.New("webhook delivery: endpoint URL does not make a request"))
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Stockade-Webhooks/1")
	res, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may carry a token in its query: keep it out of errors
		}
		log.WarnContext(ctx, "webhook delivery failed", "error", err)
		return fmt.Errorf("webhook delivery: post: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	_ = res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		log.WarnContext(ctx, "webhook delivery refused", "status", res.StatusCode)
		return fmt.Errorf("webhook delivery: endpoint answered %d", res.StatusCode)
	}
	log.InfoContext(ctx, "webhook delivered", "status", res.StatusCode)
	return nil
}

// errNotPublic refuses a connection to an address an endpoint must not
// reach.
var errNotPublic = errors.New("endpoint address is not a public unicast address")

// publicOnlyClient is the default delivery client: no redirects (a 3xx
// fails the attempt), no proxies from the environment, and a dialer that
// refuses loopback, private, link-local, multicast and unspecified
// addresses after DNS resolution, so a URL cannot aim deliveries at the
// server's own network.
func publicOnlyClient() *http.Client {
	dialer := &net.Dialer{Timeout: DeliveryTimeout, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return fmt.Errorf("dial %q: %w", address, err)
		}
		ip := net.ParseIP(host)
		if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
			ip.IsMulticast() || ip.IsUnspecified() || !ip.IsGlobalUnicast() {
			return errNotPublic
		}
		return nil
	}}
	return &http.Client{
		Timeout:       DeliveryTimeout,
		Transport:     &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: DeliveryTimeout, ResponseHeaderTimeout: DeliveryTimeout},
		CheckRedirect: noRedirects,
	}
}

// noRedirects makes a client hand back a 3xx answer instead of following
// it: the endpoint's URL is the only address a delivery goes to.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
