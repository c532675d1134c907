-- Customer-managed keys (STO-4): the directory of the key-encryption keys
-- an external KMS (AWS KMS, adapters/awskms) holds for each key scope. A
-- scope is a shop or a fixed scope naming no shop (the second factors'),
-- so this is a global table without a foreign key to shops and without
-- row-level security; it holds no secret, only key ARNs. Rows are written
-- once: a version is added, never updated, and DestroyKeys deletes all of
-- a scope's versions at once.

-- +goose Up
CREATE TABLE kms_keys (
    key_scope  uuid        NOT NULL,
    version    integer     NOT NULL CHECK (version >= 1),
    ring       text        NOT NULL CHECK (ring ~ '^[0-9a-f]{32}$'),
    key_id     text        NOT NULL CHECK (length(key_id) BETWEEN 1 AND 2048),
    origin     text        NOT NULL CHECK (origin IN ('stockade', 'customer')),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (key_scope, version)
);
GRANT SELECT, INSERT, DELETE ON kms_keys TO stockade_app;

-- +goose Down
DROP TABLE kms_keys;
