package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/stockadehq/stockade/internal/sqlstore"
	"github.com/stockadehq/stockade/ports"
)

var _ ports.SessionResolver = (*Store)(nil)

// ResolveSession implements ports.SessionResolver in one database round
// trip, under the same row-level security as InShop.
//
// It sends one simple-protocol Query message holding two statements: the
// tenant GUC, then the session joined to its membership. PostgreSQL runs
// the statements of one Query message as one implicit transaction, so the
// transaction-local setting applies to the SELECT and ends with it, and an
// error rolls the whole message back and leaves the connection idle and
// clean for the pool. The shop and session IDs are typed UUIDs rendered by
// uuid.String(): always 36 characters of [0-9a-f-], so inlining them cannot
// inject SQL. Without bind parameters lib/pq uses the simple protocol, which
// returns text-format results (bytea as \x… hex, timestamptz with its
// offset); database/sql decodes both through lib/pq like any other read.
func (s *Store) ResolveSession(ctx context.Context, shop ports.ShopID, id ports.SessionID) (ports.ResolvedSession, error) {
	if ports.InUnitOfWork(ctx) {
		return ports.ResolvedSession{}, fmt.Errorf("postgres: resolve session: %w", ports.ErrNestedUnitOfWork)
	}
	switch {
	case shop.IsZero():
		return ports.ResolvedSession{}, ports.Invalid("shop id", "must be set")
	case id.IsZero():
		return ports.ResolvedSession{}, ports.Invalid("session id", "must be set")
	}
	rows, err := s.db.QueryContext(ctx, resolveSessionSQL(shop, id))
	if err != nil {
		return ports.ResolvedSession{}, wrap("resolve session", err)
	}
	defer rows.Close()
	// The first result set is set_config's single row; skip to the SELECT.
	for rows.Next() {
	}
	if !rows.NextResultSet() {
		if err := rows.Err(); err != nil {
			return ports.ResolvedSession{}, wrap("resolve session", err)
		}
		return ports.ResolvedSession{}, fmt.Errorf("postgres: resolve session: the session query returned no result set: %w", ports.ErrUnavailable)
	}
	var (
		row       sqlstore.SessionRow
		role      ports.Role
		after     sql.NullTime
		operator  *ports.OperatorID
		assurance sqlstore.AssuranceRow
	)
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return ports.ResolvedSession{}, wrap("resolve session", err)
		}
		return ports.ResolvedSession{}, notFound("resolve session")
	}
	if err := rows.Scan(append(append(row.Dest(), &role, &after, &operator), assurance.Dest()...)...); err != nil {
		return ports.ResolvedSession{}, wrap("resolve session", err)
	}
	// Drain to ReadyForQuery so that an error raised after the row (none is
	// expected from a primary-key lookup) is not mistaken for success.
	if err := rows.Close(); err != nil {
		return ports.ResolvedSession{}, wrap("resolve session", err)
	}
	out := ports.ResolvedSession{Session: row.Session(), Role: role}
	assurance.Apply(&out)
	if after.Valid {
		out.ValidAfter = ports.Timestamp(after.Time)
	}
	if row.Impersonation != nil {
		if operator == nil {
			return ports.ResolvedSession{}, notFound("resolve session: impersonation ended or operator disabled")
		}
		out.Impersonator = *operator
	}
	return out, nil
}

// resolveSessionSQL is ResolveSession's message. Like every repository
// statement it names the shop in its WHERE clause too; row-level security,
// bound by the set_config in front of it, is the second wall. For an
// impersonation session stockade_live_impersonator (migration 9) names the
// operator while the impersonation has not ended and the operator is not
// disabled; a member's session never calls it.
func resolveSessionSQL(shop ports.ShopID, id ports.SessionID) string {
	s, i := shop.String(), id.String()
	return `SELECT set_config('` + TenantSetting + `', '` + s + `', true); ` +
		`SELECT s.id, s.user_id, s.token_hash, s.method, s.user_agent, s.ip, s.created_at, s.last_seen_at, s.expires_at, s.impersonation_id, s.aal, s.reauthenticated_at, ` +
		`m.role, u.sessions_valid_after, ` +
		`CASE WHEN s.impersonation_id IS NULL THEN NULL ELSE stockade_live_impersonator(s.shop_id, s.impersonation_id) END, ` +
		sqlstore.AssuranceCols + ` ` +
		`FROM sessions s JOIN memberships m ON (m.shop_id, m.user_id) = (s.shop_id, s.user_id) ` +
		`JOIN users u ON u.id = s.user_id ` + sqlstore.AssuranceJoin + ` ` +
		`WHERE s.shop_id = '` + s + `' AND s.id = '` + i + `'`
}
