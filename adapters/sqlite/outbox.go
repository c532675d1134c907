package sqlite

import (
	"context"
	"time"

	"github.com/stockadehq/stockade/internal/sqlstore"
	"github.com/stockadehq/stockade/ports"
)

var _ ports.OutboxQueue = (*Store)(nil)

// claimOutboxSQL marks the due messages sending: the oldest limit (?2) of
// the due queued messages and the sending ones whose lease ran out with
// attempts left.
const claimOutboxSQL = `UPDATE outbox_messages SET state = 'sending', attempts = attempts + 1, locked_until = ?3, updated_at = ?4
	WHERE (shop_id, id) IN (
		SELECT shop_id, id FROM (
			SELECT * FROM (SELECT shop_id, id, run_at FROM outbox_messages
				WHERE state = 'queued' AND run_at <= ?1 ORDER BY run_at, id LIMIT ?2)
			UNION ALL
			SELECT * FROM (SELECT shop_id, id, run_at FROM outbox_messages
				WHERE state = 'sending' AND locked_until <= ?1 AND attempts < max_attempts ORDER BY run_at, id LIMIT ?2)
		) ORDER BY run_at, id LIMIT ?2)
	RETURNING ` + sqlstore.OutboxCols

// ClaimMessages implements ports.OutboxQueue: with the directory lookups,
// the only statements of the messaging tables that read across shops. It
// is a write transaction on the single writer connection (BEGIN
// IMMEDIATE), so concurrent claimers run one after another. The outbox of
// one shop is the shared one (internal/sqlstore).
func (s *Store) ClaimMessages(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]ports.OutboxMessage, error) {
	var rows []sqlstore.OutboxRow
	err := s.claim(ctx, "messages", now, limit, lease, `UPDATE outbox_messages SET
			state = CASE WHEN dispatched = attempts THEN 'unknown' ELSE 'dead' END,
			last_error = CASE WHEN dispatched = attempts THEN 'lease expired during the provider call' ELSE 'lease expired' END,
			locked_until = NULL, updated_at = ?
		WHERE state = 'sending' AND locked_until <= ? AND attempts >= max_attempts`, claimOutboxSQL, &rows)
	if err != nil {
		return nil, err
	}
	return sqlstore.ClaimedMessages(dialect{}, rows)
}
