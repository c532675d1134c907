package postgres

import (
	"context"

	"github.com/stockadehq/stockade/ports"
)

// MessagingDirectory implements ports.GlobalTx. It replaces the shared
// directory (internal/sqlstore), whose plain statements row-level security
// would answer with no shop's rows.
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
	if err := r.t.q.GetContext(ctx, &shop, query, args...); err != nil {
		return ports.ShopID{}, wrap(op, err)
	}
	if shop == nil {
		return ports.ShopID{}, notFound(op)
	}
	return *shop, nil
}
