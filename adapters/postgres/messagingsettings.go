package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

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
	UpdatedAt  time.Time      `db:"updated_at"`
}

const settingsCols = `messaging_service_sid, help_text, send_from, send_until, time_zone, updated_at`

func (r settingsRow) port() ports.MessagingSettings {
	return ports.MessagingSettings{MessagingServiceSID: r.ServiceSID.String, HelpText: r.HelpText, SendFrom: r.SendFrom,
		SendUntil: r.SendUntil, TimeZone: r.TimeZone, UpdatedAt: r.UpdatedAt.UTC()}
}

func (r messagingSettings) Get(ctx context.Context) (ports.MessagingSettings, error) {
	var row settingsRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `SELECT `+settingsCols+` FROM messaging_settings WHERE shop_id = $1`, r.t.shop)
	if errors.Is(err, sql.ErrNoRows) {
		return ports.MessagingSettings{}, nil
	}
	if err != nil {
		return ports.MessagingSettings{}, wrap("get messaging settings", err)
	}
	return row.port(), nil
}

// Save upserts the row. The unique key on messaging_service_sid is
// checked against every shop's rows (row-level security does not hide
// rows from a unique index), so a service another shop holds is
// ErrConflict.
func (r messagingSettings) Save(ctx context.Context, s ports.MessagingSettings) (ports.MessagingSettings, error) {
	if err := s.Validate(); err != nil {
		return ports.MessagingSettings{}, err
	}
	var row settingsRow
	err := sqlx.GetContext(ctx, r.t.q, &row, `INSERT INTO messaging_settings (shop_id, `+settingsCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
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

// messagingDirectory reads across shops through the SECURITY DEFINER
// lookups of migration 00011, which return a shop ID and nothing else.
type messagingDirectory struct{ t *globalTx }

func (r messagingDirectory) ShopByMessagingService(ctx context.Context, sid string) (ports.ShopID, error) {
	return r.lookup(ctx, "shop by messaging service", `SELECT stockade_messaging_shop_by_service($1)`, sid)
}

func (r messagingDirectory) ShopByProviderMessage(ctx context.Context, channel ports.Channel, providerID string) (ports.ShopID, error) {
	return r.lookup(ctx, "shop by provider message", `SELECT stockade_messaging_shop_by_provider($1, $2)`, string(channel), providerID)
}

func (r messagingDirectory) lookup(ctx context.Context, op, query string, args ...any) (ports.ShopID, error) {
	var shop *ports.ShopID
	if err := sqlx.GetContext(ctx, r.t.q, &shop, query, args...); err != nil {
		return ports.ShopID{}, wrap(op, err)
	}
	if shop == nil {
		return ports.ShopID{}, notFound(op)
	}
	return *shop, nil
}
