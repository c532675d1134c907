package webhooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/jobs"
	"github.com/stockadehq/stockade/core/webhooks"
	"github.com/stockadehq/stockade/ports"
	sig "github.com/stockadehq/stockade/webhooks"
)

// received is one request the test receiver got.
type received struct {
	header http.Header
	body   []byte
}

// receiver is an httptest endpoint that records every request and answers
// the statuses queued in answers (then 204).
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	got     []received
	answers []int
}

func newReceiver(t *testing.T, answers ...int) *receiver {
	r := &receiver{answers: answers}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got = append(r.got, received{req.Header.Clone(), body})
		status := http.StatusNoContent
		if len(r.answers) > 0 {
			status, r.answers = r.answers[0], r.answers[1:]
		}
		if status >= 300 && status < 400 {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// deliveryWorld is a world with a job runner that runs Deliver.
type deliveryWorld struct {
	*world
	runner *jobs.Runner
	logs   *bytes.Buffer
}

const backoff = time.Minute

func newDeliveryWorld(t *testing.T, client *http.Client) *deliveryWorld {
	t.Helper()
	logs := &bytes.Buffer{}
	w := newWorld(t, webhooks.Deps{Client: client, Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	r, err := jobs.New(jobs.Deps{Store: w.store, Queue: w.store, Clock: w.clock},
		jobs.Config{Backoff: func(int) time.Duration { return backoff }})
	require.NoError(t, err)
	r.HandleOutside(webhooks.JobKind, w.svc.Deliver)
	return &deliveryWorld{world: w, runner: r, logs: logs}
}

func (w *deliveryWorld) endpoint(t *testing.T, url string) webhooks.Created {
	t.Helper()
	c, err := w.svc.CreateEndpoint(w.as(ports.RoleOwner), webhooks.EndpointInput{URL: url, Events: []string{"*"}})
	require.NoError(t, err)
	return c
}

func (w *deliveryWorld) emit(t *testing.T, typ, data string) {
	t.Helper()
	require.NoError(t, w.store.InShop(context.Background(), w.shop, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := w.svc.Emit(ctx, tx, typ, json.RawMessage(data))
		return err
	}))
}

func (w *deliveryWorld) runOnce(t *testing.T) int {
	t.Helper()
	n, err := w.runner.RunOnce(context.Background())
	require.NoError(t, err)
	return n
}

func TestDeliveryArrivesOnceSignedAndForgeriesAndReplaysAreRefused(t *testing.T) {
	rcv := newReceiver(t)
	w := newDeliveryWorld(t, rcv.srv.Client())
	c := w.endpoint(t, rcv.srv.URL+"/hooks?token=in-the-url")
	w.emit(t, "member.added", `{"user":"u-42"}`)

	require.Equal(t, 1, w.runOnce(t))
	require.Equal(t, 0, w.runOnce(t), "nothing left to deliver")
	got := rcv.requests()
	require.Len(t, got, 1, "arrives once")
	jobsNow := w.store.allJobs()
	require.Len(t, jobsNow, 1)
	assert.Equal(t, ports.JobDone, jobsNow[0].State)

	req := got[0]
	assert.Equal(t, webhooks.MessageID(jobsNow[0].ID), req.header.Get(sig.HeaderID))
	assert.Equal(t, "application/json", req.header.Get("Content-Type"))
	var ev webhooks.Event
	require.NoError(t, json.Unmarshal(req.body, &ev))
	assert.Equal(t, "member.added", ev.Type)
	assert.JSONEq(t, `{"user":"u-42"}`, string(ev.Data))

	seen := map[string]bool{}
	v := sig.Verifier{Secret: c.Secret, Now: w.clock.Now, Seen: func(id string) bool { was := seen[id]; seen[id] = true; return was }}
	require.NoError(t, v.Verify(req.header, req.body), "signed with the endpoint's secret")

	// Forged: another body under the same headers.
	forged := bytes.Replace(req.body, []byte("u-42"), []byte("u-43"), 1)
	require.ErrorIs(t, v.Verify(req.header, forged), sig.ErrNoMatchingSignature)
	// Forged: signed with another secret.
	other := sig.Verifier{Secret: sig.FormatSecret(bytes.Repeat([]byte{7}, 32)), Now: w.clock.Now}
	require.ErrorIs(t, other.Verify(req.header, req.body), sig.ErrNoMatchingSignature)
	// Replayed inside the tolerance: the receiver has seen the ID.
	require.ErrorIs(t, v.Verify(req.header, req.body), sig.ErrReplayed)
	// Replayed after the tolerance, even to a receiver without Seen.
	late := sig.Verifier{Secret: c.Secret, Now: func() time.Time { return w.clock.Now().Add(sig.DefaultTolerance + time.Second) }}
	require.ErrorIs(t, late.Verify(req.header, req.body), sig.ErrTimestampOutOfTolerance)

	// Neither the secret nor the body (nor the URL's token) is logged.
	logs := w.logs.String()
	assert.Contains(t, logs, "webhook delivered")
	for _, s := range []string{c.Secret, strings.TrimPrefix(c.Secret, "whsec_"), "u-42", "in-the-url"} {
		assert.NotContains(t, logs, s)
	}
}

// outsideOnly is a RoundTripper that records whether each request was
// sent from inside a unit of work.
type outsideOnly struct {
	next   http.RoundTripper
	mu     sync.Mutex
	inside []bool
}

func (o *outsideOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	o.mu.Lock()
	o.inside = append(o.inside, ports.InUnitOfWork(req.Context()))
	o.mu.Unlock()
	return o.next.RoundTrip(req)
}

// TestDeliveryPostsOutsideAnyUnitOfWork: Deliver reads the endpoint in a
// read-only unit of work and sends the request with none open, so no
// transaction (nor SQLite's write lock) waits on the receiver.
func TestDeliveryPostsOutsideAnyUnitOfWork(t *testing.T) {
	rcv := newReceiver(t)
	rt := &outsideOnly{next: rcv.srv.Client().Transport}
	w := newDeliveryWorld(t, &http.Client{Transport: rt})
	w.endpoint(t, rcv.srv.URL+"/hooks")
	w.emit(t, "member.added", `{}`)
	before := w.store.readOnly()

	require.Equal(t, 1, w.runOnce(t))
	require.Len(t, rcv.requests(), 1)
	rt.mu.Lock()
	assert.Equal(t, []bool{false}, rt.inside, "the POST is sent with no unit of work open")
	rt.mu.Unlock()
	assert.Equal(t, 1, w.store.readOnly()-before, "the endpoint is read in one read-only unit of work")
	assert.Equal(t, ports.JobDone, w.store.allJobs()[0].State)
}

func TestRetriesKeepTheWebhookID(t *testing.T) {
	rcv := newReceiver(t, http.StatusInternalServerError, http.StatusFound)
	w := newDeliveryWorld(t, rcv.srv.Client())
	c := w.endpoint(t, rcv.srv.URL+"/hooks")
	w.emit(t, "member.added", `{"user":"u-1"}`)

	require.Equal(t, 1, w.runOnce(t))
	j := w.store.allJobs()[0]
	require.Equal(t, ports.JobQueued, j.State, "a 500 fails the attempt")
	assert.Contains(t, j.LastError, "500")
	require.Equal(t, 0, w.runOnce(t), "the retry waits for the back-off")

	w.clock.Add(backoff)
	require.Equal(t, 1, w.runOnce(t))
	j = w.store.allJobs()[0]
	require.Equal(t, ports.JobQueued, j.State, "a redirect is not followed and fails the attempt")
	assert.Contains(t, j.LastError, "302")

	w.clock.Add(backoff)
	require.Equal(t, 1, w.runOnce(t))
	j = w.store.allJobs()[0]
	require.Equal(t, ports.JobDone, j.State)

	got := rcv.requests()
	require.Len(t, got, 3, "no request to the redirect's target")
	for i, req := range got {
		assert.Equal(t, webhooks.MessageID(j.ID), req.header.Get(sig.HeaderID), "attempt %d", i+1)
		assert.Equal(t, got[0].body, req.body)
		v := sig.Verifier{Secret: c.Secret, Now: w.clock.Now, Tolerance: 3 * backoff}
		require.NoError(t, v.Verify(req.header, req.body), "attempt %d", i+1)
	}
	assert.NotEqual(t, got[0].header.Get(sig.HeaderTimestamp), got[2].header.Get(sig.HeaderTimestamp), "each attempt is signed when sent")
}

func TestDeliveryToADeletedOrDisabledEndpointIsDropped(t *testing.T) {
	rcv := newReceiver(t)
	w := newDeliveryWorld(t, rcv.srv.Client())
	gone := w.endpoint(t, rcv.srv.URL+"/gone")
	off := w.endpoint(t, rcv.srv.URL+"/off")
	w.emit(t, "member.added", `{}`)
	require.NoError(t, w.svc.DeleteEndpoint(w.as(ports.RoleOwner), gone.Endpoint.ID))
	_, err := w.svc.SetEndpointDisabled(w.as(ports.RoleOwner), off.Endpoint.ID, true)
	require.NoError(t, err)

	require.Equal(t, 2, w.runOnce(t))
	assert.Empty(t, rcv.requests())
	for _, j := range w.store.allJobs() {
		assert.Equal(t, ports.JobDone, j.State)
	}
}

func TestDefaultClientRefusesNonPublicAddresses(t *testing.T) {
	rcv := newReceiver(t)
	w := newDeliveryWorld(t, nil)       // the default client
	w.endpoint(t, rcv.srv.URL+"/hooks") // 127.0.0.1: a valid URL for development, but not reachable by default
	w.emit(t, "member.added", `{}`)

	require.Equal(t, 1, w.runOnce(t))
	assert.Empty(t, rcv.requests())
	j := w.store.allJobs()[0]
	assert.Equal(t, ports.JobQueued, j.State)
	assert.Contains(t, j.LastError, "not a public unicast address")
	assert.NotContains(t, j.LastError, "/hooks", "the URL stays out of the error")
}

func TestMalformedDeliveryJobIsDead(t *testing.T) {
	w := newDeliveryWorld(t, http.DefaultClient)
	require.NoError(t, w.store.InShop(context.Background(), w.shop, func(ctx context.Context, tx ports.ShopTx) error {
		_, err := tx.Jobs().Enqueue(ctx, ports.Job{ID: ports.NewJobID(), Kind: webhooks.JobKind, Payload: json.RawMessage(`{"body":{}}`)})
		return err
	}))
	require.Equal(t, 1, w.runOnce(t))
	assert.Equal(t, ports.JobDead, w.store.allJobs()[0].State)
}
