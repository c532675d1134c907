-- Indexes for reading the audit log (AUD-6): by actor, action and target
-- in sequence order (a filtered page is an index range scan), and by time.

-- +goose Up
CREATE INDEX audit_events_by_actor ON audit_events (shop_id, actor, seq);
CREATE INDEX audit_events_by_action ON audit_events (shop_id, action, seq);
CREATE INDEX audit_events_by_target ON audit_events (shop_id, target, seq);
CREATE INDEX audit_events_by_time ON audit_events (shop_id, at);

-- +goose Down
DROP INDEX audit_events_by_time;
DROP INDEX audit_events_by_target;
DROP INDEX audit_events_by_action;
DROP INDEX audit_events_by_actor;
