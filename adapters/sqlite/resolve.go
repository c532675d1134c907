package sqlite

import (
	"context"
	"database/sql"

	"github.com/stockadehq/stockade/ports"
)

var _ ports.SessionResolver = (*Store)(nil)

type resolvedRow struct {
	sessionRow
	Role       ports.Role    `db:"role"`
	ValidAfter sql.NullInt64 `db:"sessions_valid_after"`
}

// ResolveSession implements ports.SessionResolver with one SELECT on the
// reader pool, outside any transaction (a single statement reads one
// consistent snapshot). The shop is bound into the statement exactly as a
// ShopTx binds it, and the join on memberships means a session whose user
// has left the shop is not found even before the cascade removes it. An
// impersonation session resolves only while its impersonation has not
// ended and its operator is not disabled (a second statement, for those
// sessions only).
func (s *Store) ResolveSession(ctx context.Context, shop ports.ShopID, id ports.SessionID) (ports.ResolvedSession, error) {
	switch {
	case shop.IsZero():
		return ports.ResolvedSession{}, ports.Invalid("shop id", "must be set")
	case id.IsZero():
		return ports.ResolvedSession{}, ports.Invalid("session id", "must be set")
	}
	// Refuse inside a unit of work, as InShop does: an in-memory store has
	// one connection, which the enclosing transaction holds.
	if _, err := ports.EnterUnitOfWork(ctx); err != nil {
		return ports.ResolvedSession{}, err
	}
	var row resolvedRow
	err := s.reader.GetContext(ctx, &row, `SELECT s.shop_id, s.id, s.user_id, s.token_hash, s.method, s.user_agent, s.ip,
			s.created_at, s.last_seen_at, s.expires_at, s.impersonation_id, m.role, u.sessions_valid_after
		FROM sessions s JOIN memberships m ON m.shop_id = s.shop_id AND m.user_id = s.user_id
		JOIN users u ON u.id = s.user_id
		WHERE s.shop_id = ? AND s.id = ?`, shop, id)
	if err != nil {
		return ports.ResolvedSession{}, wrap("resolve session", err)
	}
	out := ports.ResolvedSession{Session: row.port(), Role: row.Role}
	if row.ValidAfter.Valid {
		out.ValidAfter = fromMicros(row.ValidAfter.Int64)
	}
	if row.Impersonation == nil {
		return out, nil
	}
	// An impersonation session (rare) costs one more statement, so that a
	// member's lookup is not compiled with two more joins on every request.
	var op ports.OperatorID
	err = s.reader.GetContext(ctx, &op, `SELECT i.operator_id FROM impersonations i JOIN operators o ON o.id = i.operator_id
		WHERE i.shop_id = ? AND i.id = ? AND i.ended_at IS NULL AND o.disabled_at IS NULL`, shop, *row.Impersonation)
	if err != nil {
		return ports.ResolvedSession{}, wrap("resolve session: live impersonation", err)
	}
	out.Impersonator = op
	return out, nil
}
