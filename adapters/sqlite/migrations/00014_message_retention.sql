-- Housekeeping deletes finished outbox messages and old inbound event IDs
-- (OutboxRepo.DeleteFinished, DeleteEventsBefore); indexes serve both.

-- +goose Up
CREATE INDEX outbox_finished ON outbox_messages (shop_id, updated_at)
    WHERE state IN ('sent', 'delivered', 'failed', 'cancelled');
CREATE INDEX messaging_events_by_time ON messaging_events (shop_id, received_at);

-- +goose Down
DROP INDEX messaging_events_by_time;
DROP INDEX outbox_finished;
