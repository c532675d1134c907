package webhooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/core/access"
	"github.com/stockadehq/stockade/core/webhooks"
	"github.com/stockadehq/stockade/ports"
	sig "github.com/stockadehq/stockade/webhooks"
)

type world struct {
	store *fakeStore
	clock *fakeClock
	svc   *webhooks.Service
	shop  ports.ShopID
}

func newWorld(t *testing.T, d webhooks.Deps) *world {
	t.Helper()
	w := &world{clock: &fakeClock{now: time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)}, shop: ports.NewShopID()}
	w.store = newFakeStore(w.clock)
	d.Store, d.Keys, d.Clock = w.store, fakeKeys{}, w.clock
	svc, err := webhooks.New(d)
	require.NoError(t, err)
	w.svc = svc
	return w
}

func (w *world) as(role ports.Role) context.Context {
	return access.With(context.Background(), access.Scope{Shop: w.shop, User: ports.NewUserID(), Role: role})
}

func TestNewRequiresStoreAndKeys(t *testing.T) {
	_, err := webhooks.New(webhooks.Deps{Keys: fakeKeys{}})
	require.ErrorIs(t, err, ports.ErrInvalid)
	_, err = webhooks.New(webhooks.Deps{Store: newFakeStore(ports.SystemClock{})})
	require.ErrorIs(t, err, ports.ErrInvalid)
}

func TestCreateEndpointSealsAndShowsTheSecretOnce(t *testing.T) {
	w := newWorld(t, webhooks.Deps{})
	ctx := w.as(ports.RoleAdmin)
	c, err := w.svc.CreateEndpoint(ctx, webhooks.EndpointInput{URL: "https://hooks.example.com/in", Events: []string{"member.added", "member.added", "file.uploaded"}, Description: "CRM"})
	require.NoError(t, err)
	key, err := sig.ParseSecret(c.Secret)
	require.NoError(t, err)
	assert.Len(t, key, webhooks.SecretLen)
	assert.Nil(t, c.Endpoint.SealedSecret, "the sealed secret is not handed out")
	assert.Equal(t, []string{"file.uploaded", "member.added"}, c.Endpoint.Events)

	// Stored sealed, for this shop, never in the clear.
	stored := w.store.endpoints[c.Endpoint.ID]
	require.Equal(t, w.shop, stored.shop)
	assert.NotContains(t, string(stored.e.SealedSecret), string(key))
	opened, err := fakeKeys{}.UnwrapKey(context.Background(), w.shop, stored.e.SealedSecret)
	require.NoError(t, err)
	assert.Equal(t, key, opened)

	// A second endpoint gets another secret.
	c2, err := w.svc.CreateEndpoint(ctx, webhooks.EndpointInput{URL: "https://hooks.example.com/two", Events: []string{"*"}})
	require.NoError(t, err)
	assert.NotEqual(t, c.Secret, c2.Secret)

	list, err := w.svc.ListEndpoints(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	for _, e := range list {
		assert.Nil(t, e.SealedSecret)
	}

	// Audited, without the secret.
	evs := w.store.auditEvents()
	require.Len(t, evs, 2)
	assert.Equal(t, "webhook.endpoint.created", evs[0].Action)
	assert.Equal(t, "webhook_endpoint:"+c.Endpoint.ID.String(), evs[0].Target)
	assert.Contains(t, string(evs[0].After), "https://hooks.example.com/in")
	for _, ev := range evs {
		for _, s := range []string{c.Secret, c2.Secret, strings.TrimPrefix(c.Secret, "whsec_")} {
			assert.NotContains(t, string(ev.After)+string(ev.Before), s)
		}
	}
}

func TestManageNeedsWebhooksManage(t *testing.T) {
	w := newWorld(t, webhooks.Deps{})
	c, err := w.svc.CreateEndpoint(w.as(ports.RoleOwner), webhooks.EndpointInput{URL: "https://hooks.example.com/in", Events: []string{"*"}})
	require.NoError(t, err)
	for _, role := range []ports.Role{ports.RoleTech, ports.RoleSales, ports.RoleViewer} {
		ctx := w.as(role)
		_, err := w.svc.CreateEndpoint(ctx, webhooks.EndpointInput{URL: "https://hooks.example.com/x", Events: []string{"*"}})
		assert.ErrorIs(t, err, ports.ErrForbidden, role)
		_, err = w.svc.ListEndpoints(ctx)
		assert.ErrorIs(t, err, ports.ErrForbidden, role)
		_, err = w.svc.SetEndpointDisabled(ctx, c.Endpoint.ID, true)
		assert.ErrorIs(t, err, ports.ErrForbidden, role)
		assert.ErrorIs(t, w.svc.DeleteEndpoint(ctx, c.Endpoint.ID), ports.ErrForbidden, role)
	}
	_, err = w.svc.ListEndpoints(context.Background())
	assert.ErrorIs(t, err, ports.ErrUnauthenticated)
	assert.Len(t, w.store.auditEvents(), 1, "refused calls change nothing")
}

func TestCreateEndpointRefusesBadInput(t *testing.T) {
	w := newWorld(t, webhooks.Deps{})
	for _, in := range []webhooks.EndpointInput{
		{URL: "http://hooks.example.com/in", Events: []string{"*"}},
		{URL: "https://user:pw@hooks.example.com/in", Events: []string{"*"}},
		{URL: "https://hooks.example.com/in"},
		{URL: "https://hooks.example.com/in", Events: []string{"Member.Added"}},
	} {
		_, err := w.svc.CreateEndpoint(w.as(ports.RoleOwner), in)
		assert.ErrorIs(t, err, ports.ErrInvalid, in)
	}
	assert.Empty(t, w.store.endpoints)
}

func TestDisableEnableDeleteAreAuditedAndShopBound(t *testing.T) {
	w := newWorld(t, webhooks.Deps{})
	ctx := w.as(ports.RoleOwner)
	c, err := w.svc.CreateEndpoint(ctx, webhooks.EndpointInput{URL: "https://hooks.example.com/in", Events: []string{"*"}})
	require.NoError(t, err)
	id := c.Endpoint.ID

	// Another shop's owner sees nothing of it.
	other := access.With(context.Background(), access.Scope{Shop: ports.NewShopID(), User: ports.NewUserID(), Role: ports.RoleOwner})
	_, err = w.svc.SetEndpointDisabled(other, id, true)
	assert.ErrorIs(t, err, ports.ErrNotFound)
	assert.ErrorIs(t, w.svc.DeleteEndpoint(other, id), ports.ErrNotFound)
	list, err := w.svc.ListEndpoints(other)
	require.NoError(t, err)
	assert.Empty(t, list)

	e, err := w.svc.SetEndpointDisabled(ctx, id, true)
	require.NoError(t, err)
	assert.Equal(t, w.clock.Now(), e.DisabledAt)
	assert.Nil(t, e.SealedSecret)
	e, err = w.svc.SetEndpointDisabled(ctx, id, false)
	require.NoError(t, err)
	assert.True(t, e.DisabledAt.IsZero())
	require.NoError(t, w.svc.DeleteEndpoint(ctx, id))
	assert.ErrorIs(t, w.svc.DeleteEndpoint(ctx, id), ports.ErrNotFound)

	var actions []string
	for _, ev := range w.store.auditEvents() {
		actions = append(actions, ev.Action)
		assert.Equal(t, w.shop, ev.ShopID)
	}
	assert.Equal(t, []string{"webhook.endpoint.created", "webhook.endpoint.disabled", "webhook.endpoint.enabled", "webhook.endpoint.deleted"}, actions)
}

func TestEmitEnqueuesForEndpointsThatWantTheEvent(t *testing.T) {
	w := newWorld(t, webhooks.Deps{})
	ctx := w.as(ports.RoleOwner)
	all, err := w.svc.CreateEndpoint(ctx, webhooks.EndpointInput{URL: "https://a.example.com/", Events: []string{"*"}})
	require.NoError(t, err)
	members, err := w.svc.CreateEndpoint(ctx, webhooks.EndpointInput{URL: "https://b.example.com/", Events: []string{"member.added"}})
	require.NoError(t, err)
	off, err := w.svc.CreateEndpoint(ctx, webhooks.EndpointInput{URL: "https://c.example.com/", Events: []string{"*"}})
	require.NoError(t, err)
	_, err = w.svc.SetEndpointDisabled(ctx, off.Endpoint.ID, true)
	require.NoError(t, err)

	emit := func(shop ports.ShopID, typ string, data string) (int, error) {
		var n int
		err := w.store.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
			var err error
			n, err = w.svc.Emit(ctx, tx, typ, json.RawMessage(data))
			return err
		})
		return n, err
	}
	n, err := emit(w.shop, "member.added", `{"user":"u1"}`)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	n, err = emit(w.shop, "file.uploaded", `{"file":"f1"}`)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	n, err = emit(ports.NewShopID(), "member.added", `{}`)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "another shop's endpoints are not this shop's")

	jobs := w.store.allJobs()
	require.Len(t, jobs, 3)
	perEndpoint := map[string]int{}
	for _, j := range jobs {
		assert.Equal(t, webhooks.JobKind, j.Kind)
		assert.Equal(t, w.shop, j.ShopID)
		var p struct {
			Endpoint string          `json:"endpoint"`
			Body     json.RawMessage `json:"body"`
		}
		require.NoError(t, json.Unmarshal(j.Payload, &p))
		perEndpoint[p.Endpoint]++
		var ev webhooks.Event
		require.NoError(t, json.Unmarshal(p.Body, &ev))
		assert.Equal(t, w.clock.Now(), ev.Timestamp)
	}
	assert.Equal(t, map[string]int{all.Endpoint.ID.String(): 2, members.Endpoint.ID.String(): 1}, perEndpoint)
}

func TestEmitRollsBackWithTheChange(t *testing.T) {
	w := newWorld(t, webhooks.Deps{})
	_, err := w.svc.CreateEndpoint(w.as(ports.RoleOwner), webhooks.EndpointInput{URL: "https://a.example.com/", Events: []string{"*"}})
	require.NoError(t, err)
	boom := errors.New("the change failed")
	err = w.store.InShop(context.Background(), w.shop, func(ctx context.Context, tx ports.ShopTx) error {
		n, err := w.svc.Emit(ctx, tx, "member.added", json.RawMessage(`{}`))
		require.NoError(t, err)
		require.Equal(t, 1, n)
		return boom
	})
	require.ErrorIs(t, err, boom)
	assert.Empty(t, w.store.allJobs(), "an event of a rolled-back change is never sent")
}

func TestEmitRefusesBadEvents(t *testing.T) {
	w := newWorld(t, webhooks.Deps{})
	_, err := w.svc.CreateEndpoint(w.as(ports.RoleOwner), webhooks.EndpointInput{URL: "https://a.example.com/", Events: []string{"*"}})
	require.NoError(t, err)
	for _, tt := range []struct{ typ, data string }{
		{"", `{}`}, {"*", `{}`}, {"Member.Added", `{}`}, {"1member", `{}`}, {strings.Repeat("a", 65), `{}`},
		{"member.added", `{not json`}, {"member.added", `"` + strings.Repeat("x", webhooks.MaxEventLen) + `"`},
	} {
		err := w.store.InShop(context.Background(), w.shop, func(ctx context.Context, tx ports.ShopTx) error {
			_, err := w.svc.Emit(ctx, tx, tt.typ, json.RawMessage(tt.data))
			return err
		})
		assert.ErrorIs(t, err, ports.ErrInvalid, tt.typ)
	}
	assert.Empty(t, w.store.allJobs())
}
