-- File metadata (STO-3): one tenant row per stored object. The object key
-- is built by the core (shops/{shop}/{kind}/{id}); the row records what was
-- checked about the object (sniffed type, size, SHA-256) and, for envelope
-- encryption (STO-4), the object's data key wrapped by the shop's key.
--
-- Same conventions as 00001 and 00002: owned by the schema owner, granted
-- to stockade_app, ENABLE + FORCE ROW LEVEL SECURITY with the tenant policy.

-- +goose Up
CREATE TABLE files (
    shop_id      uuid        NOT NULL REFERENCES shops (id),
    id           uuid        NOT NULL,
    kind         text        NOT NULL CHECK (octet_length(kind) BETWEEN 1 AND 32),
    name         text        NOT NULL CHECK (octet_length(name) BETWEEN 1 AND 255),
    content_type text        NOT NULL CHECK (content_type <> '' AND octet_length(content_type) <= 255),
    size         bigint      NOT NULL CHECK (size >= 0),
    sha256       bytea       CHECK (sha256 IS NULL OR length(sha256) = 32),
    uploaded_by  uuid        NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL,
    state        text        NOT NULL CHECK (state IN ('pending', 'ready')),
    encrypted    boolean     NOT NULL,
    wrapped_key  bytea       CHECK (encrypted = (wrapped_key IS NOT NULL) AND length(wrapped_key) <= 1024),
    object_key   text        NOT NULL CHECK (octet_length(object_key) BETWEEN 1 AND 1024),
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, object_key),
    CHECK (state = 'pending' OR sha256 IS NOT NULL)
);
-- Serves List: pages by creation.
CREATE INDEX files_by_created ON files (shop_id, created_at, id);
CREATE INDEX files_by_uploader ON files (uploaded_by);
GRANT SELECT, INSERT, UPDATE, DELETE ON files TO stockade_app;

ALTER TABLE files ENABLE ROW LEVEL SECURITY;
ALTER TABLE files FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON files
    USING (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid)
    WITH CHECK (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid);

-- +goose Down
DROP TABLE files;
