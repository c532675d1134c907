-- File metadata (STO-3): one tenant row per stored object. The object key
-- is built by the core (shops/{shop}/{kind}/{id}); the row records what was
-- checked about the object (sniffed type, size, SHA-256) and, for envelope
-- encryption (STO-4), the object's data key wrapped by the shop's key.

-- +goose Up
CREATE TABLE files (
    shop_id      TEXT    NOT NULL REFERENCES shops (id),
    id           TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (length(kind) BETWEEN 1 AND 32),
    name         TEXT    NOT NULL CHECK (length(CAST(name AS BLOB)) BETWEEN 1 AND 255),
    content_type TEXT    NOT NULL CHECK (content_type <> ''),
    size         INTEGER NOT NULL CHECK (size >= 0),
    sha256       BLOB    CHECK (sha256 IS NULL OR length(sha256) = 32),
    uploaded_by  TEXT    NOT NULL REFERENCES users (id),
    created_at   INTEGER NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('pending', 'ready')),
    encrypted    INTEGER NOT NULL CHECK (encrypted IN (0, 1)),
    wrapped_key  BLOB    CHECK ((encrypted = 1) = (wrapped_key IS NOT NULL)),
    object_key   TEXT    NOT NULL,
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, object_key),
    CHECK (state = 'pending' OR sha256 IS NOT NULL)
) STRICT;
-- Serves List: pages by creation, optionally of one kind.
CREATE INDEX files_by_created ON files (shop_id, created_at, id);
CREATE INDEX files_by_uploader ON files (uploaded_by);

-- +goose Down
DROP TABLE files;
