package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/stockadehq/stockade/internal/sqlstore"
	"github.com/stockadehq/stockade/ports"
)

var _ ports.OutboxQueue = (*Store)(nil)

// ClaimMessages implements ports.OutboxQueue through stockade_claim_outbox,
// the SECURITY DEFINER function of migration 00011: the application role
// cannot read other shops' messages, but it may call the function, which
// hands out due messages of every shop with FOR UPDATE SKIP LOCKED. One
// statement, one round trip, outside any unit of work. The outbox of one
// shop is the shared one (internal/sqlstore).
func (s *Store) ClaimMessages(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]ports.OutboxMessage, error) {
	if err := sqlstore.CheckClaim(limit, lease); err != nil {
		return nil, err
	}
	var rows []sqlstore.OutboxRow
	err := s.db.SelectContext(ctx, &rows, `SELECT `+sqlstore.OutboxCols+` FROM stockade_claim_outbox($1, $2, $3::interval, $4)`,
		ports.Timestamp(now), limit, fmt.Sprintf("%d microseconds", lease.Microseconds()), s.now())
	if err != nil {
		return nil, wrap("claim messages", err)
	}
	return sqlstore.ClaimedMessages(s.dialect, rows)
}
