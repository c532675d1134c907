-- The access review (LIFE-4) reads only the events from outside a shop's
-- membership (ports.AuditFilter.OutsideAccess): a partial index of those
-- events in sequence order, so a review reads what it lists instead of
-- every event of its period. The WHERE clause is, token for token, the
-- predicate internal/sqlstore.OutsideAccessSQL writes into the query
-- (action and actor compared COLLATE "C", as the action index of 00012):
-- a database uses a partial index only for a query whose condition
-- contains the index's predicate, so the two change together
-- (TestOutsideAccessIndexMatches). Appends pay for the index only on the
-- events it holds.

-- +goose Up
CREATE INDEX audit_events_outside ON audit_events (shop_id, seq)
WHERE ((action COLLATE "C" >= 'impersonation.' AND action COLLATE "C" < 'impersonation/')
    OR (action COLLATE "C" >= 'retention.' AND action COLLATE "C" < 'retention/')
    OR action COLLATE "C" IN ('hq.access', 'shop.exported', 'shop.erased', 'shop.deleted')
    OR (actor COLLATE "C" >= 'operator:' AND actor COLLATE "C" < 'operator;')
    OR (actor COLLATE "C" >= 'system:' AND actor COLLATE "C" < 'system;')
    OR actor COLLATE "C" = 'system'
    OR impersonator <> '');

-- +goose Down
DROP INDEX audit_events_outside;
