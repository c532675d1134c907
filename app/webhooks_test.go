package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/stockadehq/stockade/adapters/localkms"
	"github.com/stockadehq/stockade/app"
	"github.com/stockadehq/stockade/app/httpapi"
	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/jobs"
	"github.com/stockadehq/stockade/core/webhooks"
	"github.com/stockadehq/stockade/ports"
	sig "github.com/stockadehq/stockade/webhooks"
)

// TestWebhookDeliveryOnRealStores runs core/webhooks on the real stores
// (SQLite, and Postgres as the application role) with the local key
// manager: an event emitted in a committed unit of work arrives once,
// signed, at an httptest receiver that verifies it with the shipped
// webhooks.Verifier; a retry after a 500 keeps its webhook-id; an event
// emitted in a unit of work that rolls back is never sent; another shop's
// unit of work sees none of the endpoint.
func TestWebhookDeliveryOnRealStores(t *testing.T) {
	for _, b := range jobBackends {
		t.Run(b.name, func(t *testing.T) {
			st, _ := b.open(t)
			tenants := seedTenants(t, st, 2)
			shop, other := tenants[0], tenants[1]
			keys, err := localkms.New(t.TempDir(), [][]byte{bytes.Repeat([]byte{9}, localkms.MinMasterKeyLen)})
			require.NoError(t, err)

			var (
				mu      sync.Mutex
				got     []*http.Request
				bodies  [][]byte
				answers = []int{http.StatusInternalServerError}
			)
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				defer mu.Unlock()
				got, bodies = append(got, r), append(bodies, body)
				status := http.StatusOK
				if len(answers) > 0 {
					status, answers = answers[0], answers[1:]
				}
				w.WriteHeader(status)
			}))
			t.Cleanup(rcv.Close)

			r, err := app.NewJobRunner(app.JobParts{Store: st}, jobs.Config{Backoff: func(int) time.Duration { return 0 }})
			require.NoError(t, err)
			svc, err := app.NewWebhooks(app.WebhooksParts{Store: st, Keys: keys, Client: rcv.Client()}, r)
			require.NoError(t, err)
			owner := access.With(context.Background(), access.Scope{Shop: shop.shop, User: shop.user, Role: ports.RoleOwner})
			c, err := svc.CreateEndpoint(owner, webhooks.EndpointInput{URL: rcv.URL + "/hooks", Events: []string{"member.added"}})
			require.NoError(t, err)

			emit := func(shopID ports.ShopID, fail error) (int, error) {
				var n int
				err := st.InShop(context.Background(), shopID, func(ctx context.Context, tx ports.ShopTx) error {
					var err error
					if n, err = svc.Emit(ctx, tx, "member.added", json.RawMessage(`{"user":"u-7"}`)); err != nil {
						return err
					}
					return fail
				})
				return n, err
			}
			boom := errors.New("the change failed")
			n, err := emit(shop.shop, boom)
			require.ErrorIs(t, err, boom)
			require.Equal(t, 1, n)
			n, err = emit(other.shop, nil)
			require.NoError(t, err)
			require.Equal(t, 0, n, "the other shop has no endpoint")
			n, err = emit(shop.shop, nil)
			require.NoError(t, err)
			require.Equal(t, 1, n)

			for i := 0; i < 3; i++ { // the 500, the retry, then nothing left
				_, err := r.RunOnce(context.Background())
				require.NoError(t, err)
			}

			mu.Lock()
			defer mu.Unlock()
			require.Len(t, got, 2, "one failed attempt and one delivery; nothing of the rolled-back unit of work")
			v := sig.Verifier{Secret: c.Secret}
			for i, req := range got {
				require.NoError(t, v.Verify(req.Header, bodies[i]), "attempt %d is signed", i+1)
			}
			assert.Equal(t, got[0].Header.Get(sig.HeaderID), got[1].Header.Get(sig.HeaderID), "the retry keeps the webhook-id")
			assert.ErrorIs(t, v.Verify(got[1].Header, bytes.Replace(bodies[1], []byte("u-7"), []byte("u-8"), 1)), sig.ErrNoMatchingSignature)
			late := sig.Verifier{Secret: c.Secret, Now: func() time.Time { return time.Now().Add(10 * time.Minute) }}
			assert.ErrorIs(t, late.Verify(got[1].Header, bodies[1]), sig.ErrTimestampOutOfTolerance)

			var done []ports.Job
			require.NoError(t, st.InShop(context.Background(), shop.shop, func(ctx context.Context, tx ports.ShopTx) error {
				done, err = tx.Jobs().List(ctx, ports.JobDone, 0)
				return err
			}, ports.ReadOnly()))
			require.Len(t, done, 1)
			assert.Equal(t, webhooks.MessageID(done[0].ID), got[1].Header.Get(sig.HeaderID))
		})
	}
}

// TestAppProvidesWebhooks: the default assembly provides the webhook
// service, registers its deliveries with the job runner and serves the
// endpoint routes.
func TestAppProvidesWebhooks(t *testing.T) {
	var (
		svc    *webhooks.Service
		runner *jobs.Runner
		h      http.Handler
	)
	a := app.New(fxConfig(t), fx.Populate(&svc, &runner, &h))
	require.NoError(t, a.Err())
	require.NotNil(t, svc)
	api, ok := h.(*httpapi.API)
	require.True(t, ok, "the handler is %T", h)
	var routes []string
	for _, r := range api.Routes() {
		routes = append(routes, r.Method+" "+r.Path)
	}
	assert.Contains(t, routes, "POST /webhook-endpoints")
	assert.Contains(t, routes, "DELETE /webhook-endpoints/{endpoint}")
	assert.PanicsWithValue(t, `jobs: HandleOutside("webhook.deliver"): kind registered twice`,
		func() { runner.HandleOutside(webhooks.JobKind, svc.Deliver) }, "the module registered the delivery handler")
	assert.PanicsWithValue(t, `jobs: Handle("webhook.deliver"): kind registered twice`,
		func() {
			runner.Handle(webhooks.JobKind, func(context.Context, ports.ShopTx, ports.Job) error { return nil })
		},
		"the module registered the delivery handler")
}

// TestWebhookDeliveryHoldsNoUnitOfWorkWhileItWaits: the receiver of a
// delivery writes to the delivering shop before it answers. On SQLite,
// whose writing units of work hold the database's one write lock, that
// write could not begin if the delivery's POST ran inside a unit of work;
// it does, and the delivery completes.
func TestWebhookDeliveryHoldsNoUnitOfWorkWhileItWaits(t *testing.T) {
	for _, b := range jobBackends {
		t.Run(b.name, func(t *testing.T) {
			st, _ := b.open(t)
			shop := seedTenants(t, st, 1)[0]
			keys, err := localkms.New(t.TempDir(), [][]byte{bytes.Repeat([]byte{9}, localkms.MinMasterKeyLen)})
			require.NoError(t, err)

			var (
				mu       sync.Mutex
				requests int
				writeErr error
			)
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				// A bound well under DeliveryTimeout: a write waiting on
				// the delivery's own lock would run out of it.
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				err := st.InShop(ctx, shop.shop, func(ctx context.Context, tx ports.ShopTx) error {
					_, err := tx.Jobs().Enqueue(ctx, ports.Job{ID: ports.NewJobID(), Kind: "receiver.write", RunAt: time.Now().AddDate(1, 0, 0)})
					return err
				})
				mu.Lock()
				defer mu.Unlock()
				requests++
				writeErr = err
				if err != nil {
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			}))
			t.Cleanup(rcv.Close)

			r, err := app.NewJobRunner(app.JobParts{Store: st}, jobs.Config{Backoff: func(int) time.Duration { return time.Hour }})
			require.NoError(t, err)
			svc, err := app.NewWebhooks(app.WebhooksParts{Store: st, Keys: keys, Client: rcv.Client()}, r)
			require.NoError(t, err)
			owner := access.With(context.Background(), access.Scope{Shop: shop.shop, User: shop.user, Role: ports.RoleOwner})
			_, err = svc.CreateEndpoint(owner, webhooks.EndpointInput{URL: rcv.URL + "/hooks", Events: []string{"*"}})
			require.NoError(t, err)
			require.NoError(t, st.InShop(context.Background(), shop.shop, func(ctx context.Context, tx ports.ShopTx) error {
				_, err := svc.Emit(ctx, tx, "member.added", json.RawMessage(`{}`))
				return err
			}))

			n, err := r.RunOnce(context.Background())
			require.NoError(t, err)
			require.Equal(t, 1, n)

			mu.Lock()
			defer mu.Unlock()
			require.Equal(t, 1, requests)
			require.NoError(t, writeErr, "the receiver's write ran while the delivery waited")
			var done []ports.Job
			require.NoError(t, st.InShop(context.Background(), shop.shop, func(ctx context.Context, tx ports.ShopTx) error {
				done, err = tx.Jobs().List(ctx, ports.JobDone, 0)
				return err
			}, ports.ReadOnly()))
			require.Len(t, done, 1, "the delivery completed")
			assert.Equal(t, webhooks.JobKind, done[0].Kind)
		})
	}
}
