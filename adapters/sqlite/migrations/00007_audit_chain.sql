-- The audit hash chain and its signed checkpoints (AUD-4).
--
-- Every event carries the SHA-256 of the shop's previous event (prev_hash)
-- and its own (hash), computed by the adapter over the canonical encoding
-- documented on ports.AuditHash; the head row keeps the last hash. NULL
-- means none: the prev_hash of a chain's first event, and both columns of
-- the events appended before this migration (the chain starts after them).
--
-- audit_checkpoints holds signed statements of a chain's head (origin,
-- size, head hash, in the signed-note format); like audit_events,
-- triggers refuse UPDATE and DELETE.

-- +goose Up
ALTER TABLE audit_heads ADD COLUMN hash BLOB CHECK (length(hash) = 32);
ALTER TABLE audit_events ADD COLUMN prev_hash BLOB CHECK (length(prev_hash) = 32);
ALTER TABLE audit_events ADD COLUMN hash BLOB CHECK (length(hash) = 32);

CREATE TABLE audit_checkpoints (
    shop_id    TEXT    NOT NULL REFERENCES shops (id),
    n          INTEGER NOT NULL CHECK (n >= 1),
    size       INTEGER NOT NULL CHECK (size >= 1),
    hash       BLOB    NOT NULL CHECK (length(hash) = 32),
    note       TEXT    NOT NULL CHECK (length(CAST(note AS BLOB)) BETWEEN 1 AND 8192),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (shop_id, n)
) STRICT;

-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_append_only_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_checkpoints_append_only_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_checkpoints;
ALTER TABLE audit_events DROP COLUMN hash;
ALTER TABLE audit_events DROP COLUMN prev_hash;
ALTER TABLE audit_heads DROP COLUMN hash;
