-- Capability links (CAP-1): bearer tokens minted for one record of the
-- shop and a fixed set of actions, expiring, revocable. A tenant table.
-- Times are INTEGER microseconds since the Unix epoch (UTC); IDs are UUID
-- text. The adapter binds shop_id in every statement (TEN-4).

-- +goose Up
-- Only the SHA-256 of the token is kept; it is unique within its shop, so
-- another shop's capabilities can never cause a conflict. Records are the
-- embedding app's (a type and an opaque ID, never a foreign key); the
-- adapter validates their shape before writing. Actions are the sorted,
-- distinct action names joined by single spaces.
CREATE TABLE capabilities (
    shop_id     TEXT    NOT NULL REFERENCES shops (id),
    id          TEXT    NOT NULL,
    token_hash  BLOB    NOT NULL CHECK (length(token_hash) = 32),
    record_type TEXT    NOT NULL CHECK (record_type <> '' AND length(CAST(record_type AS BLOB)) <= 32),
    record_id   TEXT    NOT NULL CHECK (record_id <> '' AND length(CAST(record_id AS BLOB)) <= 128),
    actions     TEXT    NOT NULL CHECK (actions <> '' AND length(CAST(actions AS BLOB)) <= 527),
    created_by  TEXT    REFERENCES users (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, token_hash)
) STRICT;
-- Serves ListByRecord (newest first) and RevokeRecord.
CREATE INDEX capabilities_by_record ON capabilities (shop_id, record_type, record_id, created_at);
-- Serves DeleteExpired.
CREATE INDEX capabilities_by_expiry ON capabilities (shop_id, expires_at);

-- +goose Down
DROP TABLE capabilities;
