-- Outbound webhook endpoints of a shop (where its signed event
-- notifications go). A tenant table: the store binds shop_id in every
-- statement. Times are INTEGER microseconds since the Unix epoch (UTC).

-- +goose Up
-- The signing secret is sealed by the caller with the shop's key; the
-- database holds only the sealed bytes. Events are the sorted, distinct
-- event types joined by single spaces ('*' for every event); the store
-- validates every field before writing.
CREATE TABLE webhook_endpoints (
    shop_id       TEXT    NOT NULL REFERENCES shops (id),
    id            TEXT    NOT NULL,
    url           TEXT    NOT NULL CHECK (url <> '' AND length(CAST(url AS BLOB)) <= 2048),
    events        TEXT    NOT NULL CHECK (events <> '' AND length(CAST(events AS BLOB)) <= 2111),
    description   TEXT    NOT NULL CHECK (length(CAST(description AS BLOB)) <= 256),
    sealed_secret BLOB    NOT NULL CHECK (length(sealed_secret) BETWEEN 1 AND 1024),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    disabled_at   INTEGER,
    PRIMARY KEY (shop_id, id)
) STRICT;

-- +goose Down
DROP TABLE webhook_endpoints;
