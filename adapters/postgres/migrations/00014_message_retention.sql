-- Housekeeping deletes finished outbox messages (their bodies are personal
-- data) and old inbound event IDs some weeks after the fact
-- (OutboxRepo.DeleteFinished, DeleteEventsBefore): the application role may
-- delete its shop's messages (row-level security still binds it to the
-- shop), and indexes serve both deletions.

-- +goose Up
GRANT DELETE ON outbox_messages TO stockade_app;
CREATE INDEX outbox_finished ON outbox_messages (shop_id, updated_at)
    WHERE state IN ('sent', 'delivered', 'failed', 'cancelled');
CREATE INDEX messaging_events_by_time ON messaging_events (shop_id, received_at);

-- +goose Down
DROP INDEX messaging_events_by_time;
DROP INDEX outbox_finished;
REVOKE DELETE ON outbox_messages FROM stockade_app;
