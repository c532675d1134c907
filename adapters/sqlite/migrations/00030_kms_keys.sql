-- Customer-managed keys (STO-4): the directory of the key-encryption keys
-- an external KMS (AWS KMS, adapters/awskms) holds for each key scope. A
-- scope is a shop or a fixed scope naming no shop (the second factors'),
-- so this is a global table without a foreign key to shops; it holds no
-- secret, only key ARNs. Rows are written once: a version is added, never
-- updated, and DestroyKeys deletes all of a scope's versions at once.
-- Times are INTEGER microseconds since the Unix epoch (UTC).

-- +goose Up
CREATE TABLE kms_keys (
    key_scope  TEXT    NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 1),
    ring       TEXT    NOT NULL CHECK (length(ring) = 32 AND ring NOT GLOB '*[^0-9a-f]*'),
    key_id     TEXT    NOT NULL CHECK (length(key_id) BETWEEN 1 AND 2048),
    origin     TEXT    NOT NULL CHECK (origin IN ('stockade', 'customer')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (key_scope, version)
) STRICT;

-- +goose Down
DROP TABLE kms_keys;
