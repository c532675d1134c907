-- Outbound webhook endpoints of a shop (where its signed event
-- notifications go). A tenant table, made one by stockade_tenant_table
-- (00022): ENABLE + FORCE ROW LEVEL SECURITY, the tenant policy, grants to
-- stockade_app.

-- +goose Up
-- The signing secret is sealed by the caller with the shop's key; the
-- database holds only the sealed bytes. Events are the sorted, distinct
-- event types joined by single spaces ('*' for every event).
CREATE TABLE webhook_endpoints (
    shop_id       uuid        NOT NULL REFERENCES shops (id),
    id            uuid        NOT NULL,
    url           text        NOT NULL CHECK (url <> '' AND octet_length(url) <= 2048),
    events        text        NOT NULL CHECK (events <> '' AND octet_length(events) <= 2111),
    description   text        NOT NULL CHECK (octet_length(description) <= 256),
    sealed_secret bytea       NOT NULL CHECK (length(sealed_secret) BETWEEN 1 AND 1024),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    disabled_at   timestamptz,
    PRIMARY KEY (shop_id, id)
);
SELECT stockade_tenant_table('webhook_endpoints');

-- +goose Down
DROP TABLE webhook_endpoints;
