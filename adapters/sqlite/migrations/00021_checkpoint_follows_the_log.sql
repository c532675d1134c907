-- Checkpoints that the log does not state (issue 16, item 4 for the
-- checkpoint table of 00007). Checkpoints never change once written, so a
-- raw row with a head the log never had, or numbered at the end of the
-- range, would stop the shop's chain from being signed again.
--
-- What SQLite can guarantee: a trigger refuses, for every connection that
-- leaves it in place, a checkpoint of an existing shop that is not
-- numbered right after the shop's last one, whose hash is not the hash of
-- the shop's event at seq = size (so size is at most the head's), or that
-- is smaller than an earlier checkpoint of the shop (AUD-4: a shrinking
-- checkpoint is tamper, never accepted). A checkpoint of an unknown shop is
-- left to the foreign key. What it cannot: it cannot check the note's
-- Ed25519 signature, so a consistent row with a junk note is accepted (and
-- verification reports its bad signature, which stops `audit checkpoint`
-- for that shop); SQLite has no roles to keep such a row from the
-- application's connection, and whoever can write the database file can
-- drop the trigger.

-- +goose Up
-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_follow_the_log BEFORE INSERT ON audit_checkpoints
WHEN EXISTS (SELECT 1 FROM shops WHERE id = NEW.shop_id) AND (
    NEW.n IS NOT coalesce((SELECT max(n) FROM audit_checkpoints WHERE shop_id = NEW.shop_id), 0) + 1
    OR NOT EXISTS (SELECT 1 FROM audit_events WHERE shop_id = NEW.shop_id AND seq = NEW.size AND hash = NEW.hash)
    OR NEW.size < coalesce((SELECT max(size) FROM audit_checkpoints WHERE shop_id = NEW.shop_id), 0))
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints: a checkpoint must be numbered next, state the hash of the log''s event at its size and be no smaller than an earlier one');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER audit_checkpoints_follow_the_log;
