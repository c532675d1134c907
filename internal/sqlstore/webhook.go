package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/stockadehq/stockade/ports"
)

// WebhookEndpoints implements ports.ShopTx.
func (t *Shop) WebhookEndpoints() ports.WebhookEndpointRepo { return webhookEndpoints{t} }

// webhookEndpoints is the webhook endpoint repository of one Shop. Every
// statement binds t.shop; none accepts a shop from the caller.
type webhookEndpoints struct{ t *Shop }

var _ ports.WebhookEndpointRepo = webhookEndpoints{}

type webhookRow struct {
	ID           ports.WebhookEndpointID `db:"id"`
	URL          string                  `db:"url"`
	Events       string                  `db:"events"`
	Description  string                  `db:"description"`
	SealedSecret []byte                  `db:"sealed_secret"`
	CreatedAt    Time                    `db:"created_at"`
	UpdatedAt    Time                    `db:"updated_at"`
	DisabledAt   Time                    `db:"disabled_at"`
}

const webhookCols = `id, url, events, description, sealed_secret, created_at, updated_at, disabled_at`

func (r webhookRow) port() ports.WebhookEndpoint {
	return ports.WebhookEndpoint{
		ID: r.ID, URL: r.URL, Events: strings.Fields(r.Events), Description: r.Description,
		SealedSecret: r.SealedSecret, CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time, DisabledAt: r.DisabledAt.Time,
	}
}

// prepare normalises and validates e for writing.
func (webhookEndpoints) prepare(e ports.WebhookEndpoint) (ports.WebhookEndpoint, error) {
	e.Events = ports.NormalizeWebhookEvents(e.Events)
	if err := e.Validate(); err != nil {
		return ports.WebhookEndpoint{}, err
	}
	e.SealedSecret = cloneBytes(e.SealedSecret)
	return e, nil
}

func (r webhookEndpoints) Create(ctx context.Context, e ports.WebhookEndpoint) (ports.WebhookEndpoint, error) {
	e, err := r.prepare(e)
	if err != nil {
		return ports.WebhookEndpoint{}, err
	}
	if !e.DisabledAt.IsZero() {
		return ports.WebhookEndpoint{}, ports.Invalid("disabled_at", "must be zero on create")
	}
	e.CreatedAt = r.t.now()
	e.UpdatedAt = e.CreatedAt
	_, err = r.t.exec(ctx, `INSERT INTO webhook_endpoints (shop_id, id, url, events, description, sealed_secret, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		r.t.shop, e.ID, e.URL, strings.Join(e.Events, " "), e.Description, e.SealedSecret, e.CreatedAt, e.UpdatedAt)
	if err != nil {
		return ports.WebhookEndpoint{}, r.t.wrap("create webhook endpoint", err)
	}
	return e, nil
}

func (r webhookEndpoints) Get(ctx context.Context, id ports.WebhookEndpointID) (ports.WebhookEndpoint, error) {
	var row webhookRow
	err := r.t.get(ctx, &row, `SELECT `+webhookCols+` FROM webhook_endpoints WHERE shop_id = ? AND id = ?`, r.t.shop, id)
	if err != nil {
		return ports.WebhookEndpoint{}, r.t.wrap("get webhook endpoint", err)
	}
	return row.port(), nil
}

func (r webhookEndpoints) List(ctx context.Context) ([]ports.WebhookEndpoint, error) {
	var rows []webhookRow
	err := r.t.sel(ctx, &rows, `SELECT `+webhookCols+` FROM webhook_endpoints WHERE shop_id = ? ORDER BY created_at, id`, r.t.shop)
	if err != nil {
		return nil, r.t.wrap("list webhook endpoints", err)
	}
	out := make([]ports.WebhookEndpoint, len(rows))
	for i, row := range rows {
		out[i] = row.port()
	}
	return out, nil
}

func (r webhookEndpoints) Update(ctx context.Context, e ports.WebhookEndpoint) (ports.WebhookEndpoint, error) {
	e, err := r.prepare(e)
	if err != nil {
		return ports.WebhookEndpoint{}, err
	}
	var row webhookRow
	err = r.t.get(ctx, &row, `UPDATE webhook_endpoints SET url = ?, events = ?, description = ?, sealed_secret = ?, updated_at = ?
		WHERE shop_id = ? AND id = ? RETURNING `+webhookCols,
		e.URL, strings.Join(e.Events, " "), e.Description, e.SealedSecret, r.t.now(), r.t.shop, e.ID)
	if err != nil {
		return ports.WebhookEndpoint{}, r.t.wrap("update webhook endpoint", err)
	}
	return row.port(), nil
}

func (r webhookEndpoints) SetDisabled(ctx context.Context, id ports.WebhookEndpointID, at time.Time) (ports.WebhookEndpoint, error) {
	var row webhookRow
	err := r.t.get(ctx, &row, `UPDATE webhook_endpoints SET disabled_at = ?, updated_at = ?
		WHERE shop_id = ? AND id = ? RETURNING `+webhookCols,
		nullTime(at), r.t.now(), r.t.shop, id)
	if err != nil {
		return ports.WebhookEndpoint{}, r.t.wrap("set webhook endpoint disabled", err)
	}
	return row.port(), nil
}

func (r webhookEndpoints) Delete(ctx context.Context, id ports.WebhookEndpointID) error {
	n, err := r.t.exec(ctx, `DELETE FROM webhook_endpoints WHERE shop_id = ? AND id = ?`, r.t.shop, id)
	if err != nil {
		return r.t.wrap("delete webhook endpoint", err)
	}
	if n == 0 {
		return r.t.notFound("delete webhook endpoint")
	}
	return nil
}
