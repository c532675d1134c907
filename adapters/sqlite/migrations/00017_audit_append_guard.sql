-- The audit log accepts only appends that continue its chain, and the
-- prefix from before the chain is fixed once (AUD-4, issue 16).
--
-- audit_heads.unhashed is the number of a shop's first events that come
-- from before the chain (migration 00007): computed here once, for the
-- shops that exist, and zero for every shop created since. Verification
-- reports any unhashed event past it.
--
-- What SQLite can guarantee: triggers refuse, for every connection that
-- leaves them in place, an audit row that is not the head's next event
-- (seq = head + 1) or does not link to the head's hash (prev_hash), or has
-- no hash; an accepted row moves the head itself, so a row written past
-- the application cannot wedge the shop's later appends. They refuse any
-- other change to a head and any change of its unhashed prefix. What it
-- cannot: SQLite's SQL has no SHA-256, so a row that links to the head is
-- accepted whatever its hash (verification then names it), and whoever
-- can write the database file can drop the triggers; only the hash chain
-- and signed checkpoints kept elsewhere catch that.

-- +goose Up
ALTER TABLE audit_heads ADD COLUMN unhashed INTEGER NOT NULL DEFAULT 0 CHECK (unhashed >= 0);
UPDATE audit_heads SET unhashed = coalesce(
    (SELECT min(e.seq) - 1 FROM audit_events e WHERE e.shop_id = audit_heads.shop_id AND e.hash IS NOT NULL),
    seq);

-- +goose StatementBegin
CREATE TRIGGER audit_events_append_links BEFORE INSERT ON audit_events
WHEN NEW.hash IS NULL
    OR NEW.seq IS NOT coalesce((SELECT seq FROM audit_heads WHERE shop_id = NEW.shop_id), 0) + 1
    OR NEW.prev_hash IS NOT (SELECT hash FROM audit_heads WHERE shop_id = NEW.shop_id)
BEGIN
    SELECT RAISE(ABORT, 'audit_events: an append must be the head''s next event and link to its hash');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_events_append_moves_head AFTER INSERT ON audit_events
BEGIN
    UPDATE audit_heads SET seq = NEW.seq, hash = NEW.hash WHERE shop_id = NEW.shop_id;
    INSERT INTO audit_heads (shop_id, seq, hash)
        SELECT NEW.shop_id, NEW.seq, NEW.hash
        WHERE NOT EXISTS (SELECT 1 FROM audit_heads WHERE shop_id = NEW.shop_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_heads_follow_the_log_insert BEFORE INSERT ON audit_heads
WHEN NEW.seq IS NOT 1 OR NEW.unhashed IS NOT 0
    OR NOT EXISTS (SELECT 1 FROM audit_events WHERE shop_id = NEW.shop_id AND seq = 1 AND hash IS NEW.hash)
BEGIN
    SELECT RAISE(ABORT, 'audit_heads: a head starts with its shop''s first event');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_heads_follow_the_log_update BEFORE UPDATE ON audit_heads
WHEN NEW.shop_id IS NOT OLD.shop_id OR NEW.unhashed IS NOT OLD.unhashed OR NEW.seq IS NOT OLD.seq + 1
    OR NOT EXISTS (SELECT 1 FROM audit_events WHERE shop_id = NEW.shop_id AND seq = NEW.seq AND hash IS NEW.hash)
BEGIN
    SELECT RAISE(ABORT, 'audit_heads: a head moves only with an append');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_heads_no_delete BEFORE DELETE ON audit_heads
BEGIN
    SELECT RAISE(ABORT, 'audit_heads: a head is never deleted');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER audit_heads_no_delete;
DROP TRIGGER audit_heads_follow_the_log_update;
DROP TRIGGER audit_heads_follow_the_log_insert;
DROP TRIGGER audit_events_append_moves_head;
DROP TRIGGER audit_events_append_links;
ALTER TABLE audit_heads DROP COLUMN unhashed;
