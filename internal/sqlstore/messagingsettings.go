package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/stockadehq/stockade/ports"
)

// MessagingSettings implements ports.ShopTx.
func (t *Shop) MessagingSettings() ports.MessagingSettingsRepo { return messagingSettings{t} }

// messagingSettings is the settings row of one Shop's shop.
type messagingSettings struct{ t *Shop }

var _ ports.MessagingSettingsRepo = messagingSettings{}

type settingsRow struct {
	ServiceSID sql.NullString `db:"messaging_service_sid"`
	HelpText   string         `db:"help_text"`
	SendFrom   int            `db:"send_from"`
	SendUntil  int            `db:"send_until"`
	TimeZone   string         `db:"time_zone"`
	UpdatedAt  Time           `db:"updated_at"`
}

const settingsCols = `messaging_service_sid, help_text, send_from, send_until, time_zone, updated_at`

func (r settingsRow) port() ports.MessagingSettings {
	return ports.MessagingSettings{MessagingServiceSID: r.ServiceSID.String, HelpText: r.HelpText, SendFrom: r.SendFrom,
		SendUntil: r.SendUntil, TimeZone: r.TimeZone, UpdatedAt: r.UpdatedAt.Time}
}

// Get answers the zero settings, not ErrNotFound, for a shop that never
// saved any.
func (r messagingSettings) Get(ctx context.Context) (ports.MessagingSettings, error) {
	var row settingsRow
	err := r.t.get(ctx, &row, `SELECT `+settingsCols+` FROM messaging_settings WHERE shop_id = ?`, r.t.shop)
	if errors.Is(err, sql.ErrNoRows) {
		return ports.MessagingSettings{}, nil
	}
	if err != nil {
		return ports.MessagingSettings{}, r.t.wrap("get messaging settings", err)
	}
	return row.port(), nil
}

// Save upserts the row. The unique key on messaging_service_sid is
// checked against every shop's rows (Postgres' row-level security does
// not hide rows from a unique index), so a service another shop holds is
// ErrConflict.
func (r messagingSettings) Save(ctx context.Context, s ports.MessagingSettings) (ports.MessagingSettings, error) {
	if err := s.Validate(); err != nil {
		return ports.MessagingSettings{}, err
	}
	var row settingsRow
	err := r.t.get(ctx, &row, `INSERT INTO messaging_settings (shop_id, `+settingsCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (shop_id) DO UPDATE SET messaging_service_sid = excluded.messaging_service_sid, help_text = excluded.help_text,
			send_from = excluded.send_from, send_until = excluded.send_until, time_zone = excluded.time_zone, updated_at = excluded.updated_at
		RETURNING `+settingsCols,
		r.t.shop, orNull(s.MessagingServiceSID), s.HelpText, s.SendFrom, s.SendUntil, s.TimeZone, r.t.now())
	if err != nil {
		return ports.MessagingSettings{}, r.t.wrap("save messaging settings", err)
	}
	return row.port(), nil
}

// MessagingDirectory implements ports.GlobalTx by reading the messaging
// tables across shops directly, which only a database without row-level
// security allows (SQLite). Postgres' global unit of work defines its own,
// over SECURITY DEFINER lookups; there these statements would see no
// shop's rows and answer ErrNotFound.
func (t *Global) MessagingDirectory() ports.MessagingDirectoryRepo { return messagingDirectory{t} }

// messagingDirectory reads across shops and returns shop IDs only.
type messagingDirectory struct{ t *Global }

var _ ports.MessagingDirectoryRepo = messagingDirectory{}

func (r messagingDirectory) ShopByMessagingService(ctx context.Context, sid string) (ports.ShopID, error) {
	var shop ports.ShopID
	if sid == "" {
		return shop, r.t.notFound("shop by messaging service")
	}
	err := r.t.get(ctx, &shop, `SELECT shop_id FROM messaging_settings WHERE messaging_service_sid = ?`, sid)
	return shop, r.t.wrap("shop by messaging service", err)
}

// ShopByProviderMessage answers ErrNotFound too when two shops hold the
// same provider ID (a provider never issues one twice).
func (r messagingDirectory) ShopByProviderMessage(ctx context.Context, channel ports.Channel, providerID string) (ports.ShopID, error) {
	var shops []ports.ShopID
	err := r.t.sel(ctx, &shops, `SELECT DISTINCT shop_id FROM outbox_messages
		WHERE channel = ? AND provider_id = ? LIMIT 2`, channel, providerID)
	if err != nil {
		return ports.ShopID{}, r.t.wrap("shop by provider message", err)
	}
	if len(shops) != 1 || providerID == "" {
		return ports.ShopID{}, r.t.notFound("shop by provider message")
	}
	return shops[0], nil
}
