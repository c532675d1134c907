package sqlite

import (
	"context"

	"github.com/stockadehq/stockade/internal/sqlstore"
	"github.com/stockadehq/stockade/ports"
)

var _ ports.SessionResolver = (*Store)(nil)

// ResolveSession implements ports.SessionResolver with the shared plain-SQL
// resolve (sqlstore.ResolveSession) on the reader pool, outside any
// transaction.
func (s *Store) ResolveSession(ctx context.Context, shop ports.ShopID, id ports.SessionID) (ports.ResolvedSession, error) {
	// Refuse inside a unit of work, as InShop does: an in-memory store has
	// one connection, which the enclosing transaction holds.
	if _, err := ports.EnterUnitOfWork(ctx); err != nil {
		return ports.ResolvedSession{}, err
	}
	return sqlstore.ResolveSession(ctx, sqlstore.SQLX(s.reader), dialect{}, shop, id)
}
