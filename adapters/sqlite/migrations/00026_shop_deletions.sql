-- Shop deletion (LIFE-2 retention, LIFE-3 erasure): the platform-level
-- record of a shop's deletion, written when it starts, carrying its
-- progress, and kept after the shop's rows (its directory row included)
-- are gone. A global table: no foreign key to shops, whose row it
-- outlives. Times are INTEGER microseconds since the Unix epoch (UTC).
--
-- The audit log stays append-only except in one case: a shop with a
-- deletion record may lose its whole chain (events, head, checkpoints),
-- and the record, which can be neither deleted nor re-pointed, keeps the
-- chain's head and latest signed checkpoint.

-- +goose Up
CREATE TABLE shop_deletions (
    deleted_shop_id  TEXT    NOT NULL PRIMARY KEY,
    org_id           TEXT    NOT NULL,
    slug             TEXT    NOT NULL,
    reason           TEXT    NOT NULL CHECK (reason IN ('retention', 'erasure')),
    actor            TEXT    NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
    note             TEXT    NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    cancelled_at     INTEGER,
    started_at       INTEGER NOT NULL,
    finished_at      INTEGER,
    objects          INTEGER NOT NULL DEFAULT 0 CHECK (objects >= 0),
    rows             TEXT    NOT NULL DEFAULT '{}',
    chain_size       INTEGER NOT NULL DEFAULT 0 CHECK (chain_size >= 0),
    chain_hash       BLOB,
    checkpoint       TEXT    NOT NULL DEFAULT ''
) STRICT;

-- +goose StatementBegin
CREATE TRIGGER shop_deletions_kept BEFORE DELETE ON shop_deletions
BEGIN
    SELECT RAISE(ABORT, 'shop_deletions: a deletion record is kept');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER shop_deletions_fixed BEFORE UPDATE ON shop_deletions
WHEN NEW.deleted_shop_id IS NOT OLD.deleted_shop_id OR NEW.reason IS NOT OLD.reason OR NEW.actor IS NOT OLD.actor
    OR NEW.note IS NOT OLD.note OR NEW.started_at IS NOT OLD.started_at
    OR (OLD.finished_at IS NOT NULL AND NEW.finished_at IS NOT OLD.finished_at)
BEGIN
    SELECT RAISE(ABORT, 'shop_deletions: who, why and when are fixed');
END;
-- +goose StatementEnd

DROP TRIGGER audit_events_append_only_delete;
-- +goose StatementBegin
CREATE TRIGGER audit_events_append_only_delete BEFORE DELETE ON audit_events
WHEN NOT EXISTS (SELECT 1 FROM shop_deletions WHERE deleted_shop_id = OLD.shop_id)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
-- +goose StatementEnd

DROP TRIGGER audit_checkpoints_append_only_delete;
-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_append_only_delete BEFORE DELETE ON audit_checkpoints
WHEN NOT EXISTS (SELECT 1 FROM shop_deletions WHERE deleted_shop_id = OLD.shop_id)
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
-- +goose StatementEnd

DROP TRIGGER audit_heads_no_delete;
-- +goose StatementBegin
CREATE TRIGGER audit_heads_no_delete BEFORE DELETE ON audit_heads
WHEN NOT EXISTS (SELECT 1 FROM shop_deletions WHERE deleted_shop_id = OLD.shop_id)
BEGIN
    SELECT RAISE(ABORT, 'audit_heads: a head is never deleted');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER audit_heads_no_delete;
-- +goose StatementBegin
CREATE TRIGGER audit_heads_no_delete BEFORE DELETE ON audit_heads
BEGIN
    SELECT RAISE(ABORT, 'audit_heads: a head is never deleted');
END;
-- +goose StatementEnd
DROP TRIGGER audit_checkpoints_append_only_delete;
-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_append_only_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
-- +goose StatementEnd
DROP TRIGGER audit_events_append_only_delete;
-- +goose StatementBegin
CREATE TRIGGER audit_events_append_only_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
-- +goose StatementEnd
DROP TABLE shop_deletions;
