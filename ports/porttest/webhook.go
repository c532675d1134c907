package porttest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/stockadehq/stockade/ports"
)

// newWebhookEndpoint returns a valid endpoint with events given
// unnormalised, so the store's normalisation is checked too.
func newWebhookEndpoint() ports.WebhookEndpoint {
	return ports.WebhookEndpoint{
		ID: ports.NewWebhookEndpointID(), URL: "https://hooks.example.com/stockade",
		Events: []string{"member.added", "file.uploaded", "member.added"}, Description: "CRM sync",
		SealedSecret: []byte("sealed-secret-bytes"),
	}
}

// webhookOp runs do on shop's webhook endpoints in its own unit of work.
func webhookOp(s ports.Store, shop ports.ShopID, do func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error)) (ports.WebhookEndpoint, error) {
	var out ports.WebhookEndpoint
	err := s.InShop(context.Background(), shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = do(ctx, tx.WebhookEndpoints())
		return err
	})
	return out, err
}

func listWebhooks(t *testing.T, s ports.Store, shop ports.ShopID) []ports.WebhookEndpoint {
	t.Helper()
	var out []ports.WebhookEndpoint
	inShop(t, s, shop, func(ctx context.Context, tx ports.ShopTx) error {
		var err error
		out, err = tx.WebhookEndpoints().List(ctx)
		return err
	}, ports.ReadOnly())
	return out
}

func testWebhookEndpoints(t *testing.T, newStore StoreHarness) {
	t.Run("CreateGetListUpdateDisableDelete", func(t *testing.T) {
		s := newStore(t)
		shop := seed(t, s, 1, 0).shops[0].ID
		e := newWebhookEndpoint()
		created, err := webhookOp(s, shop, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
			return r.Create(ctx, e)
		})
		require.NoError(t, err)
		assert.Equal(t, []string{"file.uploaded", "member.added"}, created.Events)
		assert.False(t, created.CreatedAt.IsZero())
		assert.Equal(t, created.CreatedAt, created.UpdatedAt)
		assert.True(t, created.DisabledAt.IsZero())

		got, err := webhookOp(s, shop, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
			return r.Get(ctx, e.ID)
		})
		require.NoError(t, err)
		assert.Equal(t, created, got)
		assert.True(t, got.Wants("member.added"))
		assert.False(t, got.Wants("member.removed"))

		second := newWebhookEndpoint()
		second.Events = []string{ports.WebhookAllEvents}
		_, err = webhookOp(s, shop, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
			return r.Create(ctx, second)
		})
		require.NoError(t, err)
		list := listWebhooks(t, s, shop)
		require.Len(t, list, 2)
		assert.Equal(t, e.ID, list[0].ID, "oldest first")
		assert.Equal(t, second.ID, list[1].ID)

		changed := got
		changed.URL, changed.Events, changed.Description, changed.SealedSecret = "https://hooks.example.com/v2", []string{"shop.suspended"}, "", []byte("rotated")
		changed.CreatedAt = time.Time{} // ignored: the store keeps its own
		updated, err := webhookOp(s, shop, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
			return r.Update(ctx, changed)
		})
		require.NoError(t, err)
		assert.Equal(t, "https://hooks.example.com/v2", updated.URL)
		assert.Equal(t, []string{"shop.suspended"}, updated.Events)
		assert.Equal(t, []byte("rotated"), updated.SealedSecret)
		assert.Equal(t, created.CreatedAt, updated.CreatedAt)

		at := time.Now().UTC().Truncate(time.Microsecond)
		disabled, err := webhookOp(s, shop, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
			return r.SetDisabled(ctx, e.ID, at)
		})
		require.NoError(t, err)
		assert.True(t, disabled.DisabledAt.Equal(at))
		assert.False(t, disabled.Wants("shop.suspended"), "a disabled endpoint wants nothing")
		enabled, err := webhookOp(s, shop, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
			return r.SetDisabled(ctx, e.ID, time.Time{})
		})
		require.NoError(t, err)
		assert.True(t, enabled.DisabledAt.IsZero())

		_, err = webhookOp(s, shop, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
			return ports.WebhookEndpoint{}, r.Delete(ctx, e.ID)
		})
		require.NoError(t, err)
		_, err = webhookOp(s, shop, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
			return r.Get(ctx, e.ID)
		})
		assert.ErrorIs(t, err, ports.ErrNotFound)
		_, err = webhookOp(s, shop, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
			return ports.WebhookEndpoint{}, r.Delete(ctx, e.ID)
		})
		assert.ErrorIs(t, err, ports.ErrNotFound)
		assert.Len(t, listWebhooks(t, s, shop), 1)
	})

	t.Run("Refused", func(t *testing.T) {
		s := newStore(t)
		shop := seed(t, s, 1, 0).shops[0].ID
		e := newWebhookEndpoint()
		_, err := webhookOp(s, shop, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
			return r.Create(ctx, e)
		})
		require.NoError(t, err)
		_, err = webhookOp(s, shop, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
			return r.Create(ctx, e)
		})
		assert.ErrorIs(t, err, ports.ErrConflict, "the same ID twice")

		for name, mutate := range map[string]func(*ports.WebhookEndpoint){
			"plain http":    func(e *ports.WebhookEndpoint) { e.URL = "http://hooks.example.com/x" },
			"user info":     func(e *ports.WebhookEndpoint) { e.URL = "https://u:p@hooks.example.com/x" },
			"no events":     func(e *ports.WebhookEndpoint) { e.Events = nil },
			"bad event":     func(e *ports.WebhookEndpoint) { e.Events = []string{"Member Added"} },
			"no secret":     func(e *ports.WebhookEndpoint) { e.SealedSecret = nil },
			"control chars": func(e *ports.WebhookEndpoint) { e.Description = "a\nb" },
			"disabled":      func(e *ports.WebhookEndpoint) { e.DisabledAt = time.Now() },
		} {
			bad := newWebhookEndpoint()
			mutate(&bad)
			_, err := webhookOp(s, shop, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
				return r.Create(ctx, bad)
			})
			assert.ErrorIs(t, err, ports.ErrInvalid, name)
		}
		assert.Len(t, listWebhooks(t, s, shop), 1, "nothing refused was written")

		missing := newWebhookEndpoint()
		_, err = webhookOp(s, shop, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
			return r.Update(ctx, missing)
		})
		assert.ErrorIs(t, err, ports.ErrNotFound)
		_, err = webhookOp(s, shop, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
			return r.SetDisabled(ctx, missing.ID, time.Now())
		})
		assert.ErrorIs(t, err, ports.ErrNotFound)
	})
}

// testWebhookTenantBoundary attacks one shop's endpoint from another shop
// that names its ID: nothing is read, changed or deleted, and the same ID
// in both shops keeps two rows apart.
func testWebhookTenantBoundary(t *testing.T, newStore StoreHarness) {
	s := newStore(t)
	f := seed(t, s, 2, 0)
	a, b := f.shops[0].ID, f.shops[1].ID
	e := newWebhookEndpoint()
	original, err := webhookOp(s, a, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
		return r.Create(ctx, e)
	})
	require.NoError(t, err)

	_, err = webhookOp(s, b, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
		return r.Get(ctx, e.ID)
	})
	assert.ErrorIs(t, err, ports.ErrNotFound, "get from another shop")
	assert.Empty(t, listWebhooks(t, s, b), "list from another shop")
	hijack := e
	hijack.URL = "https://attacker.example.com/steal"
	_, err = webhookOp(s, b, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
		return r.Update(ctx, hijack)
	})
	assert.ErrorIs(t, err, ports.ErrNotFound, "update from another shop")
	_, err = webhookOp(s, b, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
		return r.SetDisabled(ctx, e.ID, time.Now())
	})
	assert.ErrorIs(t, err, ports.ErrNotFound, "disable from another shop")
	_, err = webhookOp(s, b, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
		return ports.WebhookEndpoint{}, r.Delete(ctx, e.ID)
	})
	assert.ErrorIs(t, err, ports.ErrNotFound, "delete from another shop")

	// The same ID in shop b is b's own row; a's is untouched by b's writes.
	twin := newWebhookEndpoint()
	twin.ID, twin.URL = e.ID, "https://b.example.com/hook"
	_, err = webhookOp(s, b, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
		return r.Create(ctx, twin)
	})
	require.NoError(t, err)
	_, err = webhookOp(s, b, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
		return ports.WebhookEndpoint{}, r.Delete(ctx, e.ID)
	})
	require.NoError(t, err)
	got, err := webhookOp(s, a, func(ctx context.Context, r ports.WebhookEndpointRepo) (ports.WebhookEndpoint, error) {
		return r.Get(ctx, e.ID)
	})
	require.NoError(t, err)
	assert.Equal(t, original, got, "shop a's endpoint is untouched")
}
