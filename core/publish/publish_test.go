package publish_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/publish"
	"github.com/stockadehq/stockade/core/webhooks"
	"github.com/stockadehq/stockade/events"
	"github.com/stockadehq/stockade/ports"
)

// fakeTx is the part of a shop's unit of work Record touches: its shop,
// its webhook endpoints and its job queue. Any other method panics.
type fakeTx struct {
	ports.ShopTx
	shop      ports.ShopID
	endpoints []ports.WebhookEndpoint
	jobs      []ports.Job
	jobErr    error
}

func (t *fakeTx) ShopID() ports.ShopID                        { return t.shop }
func (t *fakeTx) WebhookEndpoints() ports.WebhookEndpointRepo { return endpointRepo{t: t} }
func (t *fakeTx) Jobs() ports.JobRepo                         { return jobRepo{t: t} }

type endpointRepo struct {
	ports.WebhookEndpointRepo
	t *fakeTx
}

func (r endpointRepo) List(context.Context) ([]ports.WebhookEndpoint, error) {
	return r.t.endpoints, nil
}

type jobRepo struct {
	ports.JobRepo
	t *fakeTx
}

func (r jobRepo) Enqueue(_ context.Context, j ports.Job) (ports.Job, error) {
	if r.t.jobErr != nil {
		return ports.Job{}, r.t.jobErr
	}
	j.ShopID = r.t.shop
	r.t.jobs = append(r.t.jobs, j)
	return j, nil
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// syncBuffer is a log sink for hooks that may run on other goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRecordEnqueuesTheWebhooksOfTheEndpointsThatWantTheType(t *testing.T) {
	now := time.Date(2026, 12, 6, 5, 0, 0, 0, time.FixedZone("CET", 3600))
	p := publish.New(publish.Deps{Clock: fixedClock{now}})
	tx := &fakeTx{shop: ports.NewShopID(), endpoints: []ports.WebhookEndpoint{
		{ID: ports.NewWebhookEndpointID(), Events: []string{"member.added"}},
		{ID: ports.NewWebhookEndpointID(), Events: []string{"*"}},
		{ID: ports.NewWebhookEndpointID(), Events: []string{"shop.renamed"}},
		{ID: ports.NewWebhookEndpointID(), Events: []string{"*"}, DisabledAt: now},
	}}
	data := events.MemberAdded{User: "u-1", Role: "tech", Via: "direct"}
	ev, err := p.Record(context.Background(), tx, data)
	require.NoError(t, err)
	assert.Equal(t, events.Event{Type: events.TypeMemberAdded, Shop: tx.shop.String(), Time: now.UTC(), Data: data}, ev)

	require.Len(t, tx.jobs, 2, "the member.added endpoint and the enabled catch-all")
	for i, j := range tx.jobs {
		assert.Equal(t, webhooks.JobKind, j.Kind)
		var d struct {
			Endpoint string          `json:"endpoint"`
			Body     json.RawMessage `json:"body"`
		}
		require.NoError(t, json.Unmarshal(j.Payload, &d))
		assert.Equal(t, tx.endpoints[i].ID.String(), d.Endpoint)
		var body webhooks.Event
		require.NoError(t, json.Unmarshal(d.Body, &body))
		assert.Equal(t, "member.added", body.Type)
		assert.Equal(t, tx.shop.String(), body.Shop)
		assert.True(t, now.Equal(body.Timestamp))
		assert.JSONEq(t, `{"user":"u-1","role":"tech","via":"direct"}`, string(body.Data))
	}
}

func TestRecordFailsWhenTheDeliveryCannotBeEnqueued(t *testing.T) {
	boom := errors.New("queue down")
	tx := &fakeTx{shop: ports.NewShopID(), jobErr: boom,
		endpoints: []ports.WebhookEndpoint{{ID: ports.NewWebhookEndpointID(), Events: []string{"*"}}}}
	ev, err := publish.New(publish.Deps{}).Record(context.Background(), tx, events.ShopRenamed{Name: "B", PreviousName: "A"})
	require.ErrorIs(t, err, boom, "the unit of work must fail with the change")
	assert.Zero(t, ev)
}

func TestGlobalEventsHaveNoShopAndEnqueueNothing(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := publish.New(publish.Deps{Clock: fixedClock{now}}).Global(events.UserSignedUp{User: "u", Email: "a@example.com", Via: "signup"})
	assert.Equal(t, events.Event{Type: events.TypeUserSignedUp, Time: now, Data: events.UserSignedUp{User: "u", Email: "a@example.com", Via: "signup"}}, ev)
}

// TestAfterRunsEveryHookForEachEventAndSurvivesFailures: hooks run in
// order for each event; a hook's error and a hook's panic are logged
// (type and shop, no payload) and the hooks after it still run; zero
// events are skipped; ctx keeps its values and loses its cancellation.
func TestAfterRunsEveryHookForEachEventAndSurvivesFailures(t *testing.T) {
	var logs syncBuffer
	var calls []string
	record := func(name string) events.Hook {
		return func(ctx context.Context, e events.Event) error {
			require.NoError(t, ctx.Err(), "the hook's context is not cancelled with the caller's")
			assert.Equal(t, "req-7", ctx.Value(ctxKey{}))
			calls = append(calls, name+":"+string(e.Type))
			return nil
		}
	}
	p := publish.New(publish.Deps{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Hooks: []events.Hook{
		record("first"),
		func(context.Context, events.Event) error { return errors.New("hook says no") },
		func(_ context.Context, e events.Event) error {
			if e.Type == events.TypeMemberRemoved {
				panic("hook blew up")
			}
			return nil
		},
		nil, // ignored
	}})
	p.Subscribe(record("last"))

	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "req-7"))
	cancel() // the request is gone; its change committed
	shop := ports.NewShopID().String()
	secret := "payload-marker-" + t.Name()
	p.After(ctx,
		events.Event{Type: events.TypeMemberAdded, Shop: shop, Data: events.MemberAdded{User: secret}},
		events.Event{}, // recorded on no path: skipped
		events.Event{Type: events.TypeMemberRemoved, Shop: shop, Data: events.MemberRemoved{User: secret}},
	)

	assert.Equal(t, []string{"first:member.added", "last:member.added", "first:member.removed", "last:member.removed"}, calls)
	out := logs.String()
	assert.Equal(t, 2, strings.Count(out, `"msg":"event hook failed"`), out)
	assert.Equal(t, 1, strings.Count(out, `"msg":"event hook panicked"`), out)
	assert.Contains(t, out, `"panic":"hook blew up"`)
	assert.Contains(t, out, `"shop":"`+shop+`"`)
	assert.Contains(t, out, `"event":"member.removed"`)
	assert.NotContains(t, out, secret, "payloads are not logged")
}

type ctxKey struct{}

func TestAfterWithoutHooksDoesNothing(t *testing.T) {
	p := publish.New(publish.Deps{})
	p.After(context.Background(), events.Event{Type: events.TypeShopCreated, Data: events.ShopCreated{}})
}
