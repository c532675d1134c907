-- Capability links (CAP-1): bearer tokens minted for one record of the
-- shop and a fixed set of actions, expiring, revocable. A tenant table.
--
-- Same conventions as 00001..00007: owned by the schema owner, granted to
-- stockade_app, ENABLE + FORCE ROW LEVEL SECURITY with the tenant policy
-- on the transaction-local GUC app.shop_id.

-- +goose Up

-- Only the SHA-256 of the token is kept; it is unique within its shop (a
-- conflict with another shop's row would tell one shop what another
-- holds). Records are the embedding app's: a type and an opaque ID, never
-- a foreign key. Actions are the sorted, distinct action names joined by
-- single spaces, e.g. 'accept view'.
CREATE TABLE capabilities (
    shop_id     uuid        NOT NULL REFERENCES shops (id),
    id          uuid        NOT NULL,
    token_hash  bytea       NOT NULL CHECK (length(token_hash) = 32),
    record_type text        NOT NULL CHECK (record_type ~ '^[a-z][a-z0-9_.-]{0,31}$'),
    record_id   text        NOT NULL CHECK (record_id ~ '^[A-Za-z0-9._~:@+-]{1,128}$'),
    actions     text        NOT NULL CHECK (actions ~ '^[a-z][a-z0-9_-]{0,31}( [a-z][a-z0-9_-]{0,31}){0,15}$'),
    created_by  uuid        REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, token_hash)
);
-- Serves ListByRecord (newest first) and RevokeRecord.
CREATE INDEX capabilities_by_record ON capabilities (shop_id, record_type, record_id, created_at);
-- Serves DeleteExpired.
CREATE INDEX capabilities_by_expiry ON capabilities (shop_id, expires_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON capabilities TO stockade_app;

ALTER TABLE capabilities ENABLE ROW LEVEL SECURITY;
ALTER TABLE capabilities FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON capabilities
    USING (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid)
    WITH CHECK (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid);

-- +goose Down
DROP TABLE capabilities;
