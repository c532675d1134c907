package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/stockadehq/stockade/ports"
)

func (t *shopTx) MessagingSettings() ports.MessagingSettingsRepo { return messagingSettings{t} }

// messagingSettings is the settings row of one shopTx's shop.
type messagingSettings struct{ t *shopTx }

type settingsRow struct {
	ServiceSID sql.NullString `db:"messaging_service_sid"`
	HelpText   string         `db:"help_text"`
	SendFrom   int            `db:"send_from"`
	SendUntil  int            `db:"send_until"`
	TimeZone   string         `db:"time_zone"`
	UpdatedAt  int64          `db:"updated_at"`
}

const settingsCols = `messaging_service_sid, help_text, send_from, send_until, time_zone, updated_at`

func (r settingsRow) port() ports.MessagingSettings {
	return ports.MessagingSettings{MessagingServiceSID: r.ServiceSID.String, HelpText: r.HelpText, SendFrom: r.SendFrom,
		SendUntil: r.SendUntil, TimeZone: r.TimeZone, UpdatedAt: fromMicros(r.UpdatedAt)}
}

func (r messagingSettings) Get(ctx context.Context) (ports.MessagingSettings, error) {
	var row settingsRow
	err := r.t.q.GetContext(ctx, &row, `SELECT `+settingsCols+` FROM messaging_settings WHERE shop_id = ?`, r.t.shop)
	if errors.Is(err, sql.ErrNoRows) {
		return ports.MessagingSettings{}, nil
	}
	if err != nil {
		return ports.MessagingSettings{}, wrap("get messaging settings", err)
	}
	return row.port(), nil
}

func (r messagingSettings) Save(ctx context.Context, s ports.MessagingSettings) (ports.MessagingSettings, error) {
	if err := s.Validate(); err != nil {
		return ports.MessagingSettings{}, err
	}
	var row settingsRow
	err := r.t.q.GetContext(ctx, &row, `INSERT INTO messaging_settings (shop_id, `+settingsCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (shop_id) DO UPDATE SET messaging_service_sid = excluded.messaging_service_sid, help_text = excluded.help_text,
			send_from = excluded.send_from, send_until = excluded.send_until, time_zone = excluded.time_zone, updated_at = excluded.updated_at
		RETURNING `+settingsCols,
		r.t.shop, orNull(s.MessagingServiceSID), s.HelpText, s.SendFrom, s.SendUntil, s.TimeZone, r.t.store.now())
	if err != nil {
		return ports.MessagingSettings{}, wrap("save messaging settings", err)
	}
	return row.port(), nil
}

func (t *globalTx) MessagingDirectory() ports.MessagingDirectoryRepo { return messagingDirectory{t} }

// messagingDirectory reads across shops and returns shop IDs only.
type messagingDirectory struct{ t *globalTx }

func (r messagingDirectory) ShopByMessagingService(ctx context.Context, sid string) (ports.ShopID, error) {
	var shop ports.ShopID
	if sid == "" {
		return shop, fmt.Errorf("sqlite: shop by messaging service: %w", ports.ErrNotFound)
	}
	err := r.t.q.GetContext(ctx, &shop, `SELECT shop_id FROM messaging_settings WHERE messaging_service_sid = ?`, sid)
	return shop, wrap("shop by messaging service", err)
}

// ShopByProviderMessage answers ErrNotFound too when two shops hold the
// same provider ID (a provider never issues one twice).
func (r messagingDirectory) ShopByProviderMessage(ctx context.Context, channel ports.Channel, providerID string) (ports.ShopID, error) {
	var shops []ports.ShopID
	err := r.t.q.SelectContext(ctx, &shops, `SELECT DISTINCT shop_id FROM outbox_messages
		WHERE channel = ? AND provider_id = ? LIMIT 2`, channel, providerID)
	if err != nil {
		return ports.ShopID{}, wrap("shop by provider message", err)
	}
	if len(shops) != 1 || providerID == "" {
		return ports.ShopID{}, fmt.Errorf("sqlite: shop by provider message: %w", ports.ErrNotFound)
	}
	return shops[0], nil
}
