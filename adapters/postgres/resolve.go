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
// trip, under the same row-level security as InShop: it is a read-only
// unit of work of one statement, so the tenant setting and the prepared
// SELECT travel in one pipeline and run as one implicit transaction (see
// flight); the setting ends with it.
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
	var (
		row       sqlstore.SessionRow
		role      ports.Role
		after     sql.NullTime
		operator  *ports.OperatorID
		assurance sqlstore.AssuranceRow
		found     bool
	)
	err := s.run(ctx, shop.String(), ports.TxOptions{ReadOnly: true}, func(ctx context.Context, f *flight) error {
		return f.QueryEach(ctx, resolveSessionSQL, []any{shop, id}, func(scan func(...any) error) error {
			found = true
			return scan(append(append(row.Dest(), &role, &after, &operator), assurance.Dest()...)...)
		})
	})
	if err != nil {
		return ports.ResolvedSession{}, wrap("resolve session", err)
	}
	if !found {
		return ports.ResolvedSession{}, notFound("resolve session")
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

// resolveSessionSQL is ResolveSession's statement. Like every repository
// statement it names the shop in its WHERE clause too; row-level security,
// bound by the set_config in front of it, is the second wall. For an
// impersonation session stockade_live_impersonator (migration 9) names the
// operator while the impersonation has not ended and the operator is not
// disabled; a member's session never calls it.
const resolveSessionSQL = `SELECT s.id, s.user_id, s.token_hash, s.method, s.user_agent, s.ip, s.created_at, s.last_seen_at, s.expires_at, s.impersonation_id, s.aal, s.reauthenticated_at, ` +
	`m.role, u.sessions_valid_after, ` +
	`CASE WHEN s.impersonation_id IS NULL THEN NULL ELSE stockade_live_impersonator(s.shop_id, s.impersonation_id) END, ` +
	sqlstore.AssuranceCols + ` ` +
	`FROM sessions s JOIN memberships m ON (m.shop_id, m.user_id) = (s.shop_id, s.user_id) ` +
	`JOIN users u ON u.id = s.user_id ` + sqlstore.AssuranceJoin + ` ` +
	`WHERE s.shop_id = $1 AND s.id = $2`
