-- Passkeys (AUTH-12): members' WebAuthn credentials and the pending
-- WebAuthn ceremonies of each shop. Both are tenant tables (the store binds
-- shop_id in every statement): a passkey's relying party is its shop's
-- host, so it is a row of that shop and invisible to every other. Times are
-- INTEGER microseconds since the Unix epoch (UTC).
--
-- A ceremony is kept by the SHA-256 of its challenge, never the challenge.

-- +goose Up
CREATE TABLE passkeys (
    shop_id            TEXT    NOT NULL REFERENCES shops (id),
    id                 TEXT    NOT NULL,
    user_id            TEXT    NOT NULL REFERENCES users (id),
    credential_id      BLOB    NOT NULL CHECK (length(credential_id) BETWEEN 1 AND 1023),
    rp_id              TEXT    NOT NULL CHECK (rp_id <> '' AND length(CAST(rp_id AS BLOB)) <= 253),
    public_key         BLOB    NOT NULL CHECK (length(public_key) BETWEEN 1 AND 2048),
    sign_count         INTEGER NOT NULL CHECK (sign_count BETWEEN 0 AND 4294967295),
    backup_eligible    INTEGER NOT NULL CHECK (backup_eligible IN (0, 1)),
    backup_state       INTEGER NOT NULL CHECK (backup_state IN (0, 1)),
    user_verified      INTEGER NOT NULL CHECK (user_verified IN (0, 1)),
    aaguid             BLOB    NOT NULL CHECK (length(aaguid) IN (0, 16)),
    transports         TEXT    NOT NULL DEFAULT '' CHECK (length(CAST(transports AS BLOB)) <= 200),
    attestation_format TEXT    NOT NULL DEFAULT '' CHECK (length(CAST(attestation_format AS BLOB)) <= 32),
    name               TEXT    NOT NULL CHECK (name <> '' AND length(CAST(name AS BLOB)) <= 100),
    created_at         INTEGER NOT NULL,
    last_used_at       INTEGER,
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, credential_id)
) STRICT;
CREATE INDEX passkeys_user ON passkeys (shop_id, user_id);

CREATE TABLE webauthn_challenges (
    shop_id        TEXT    NOT NULL REFERENCES shops (id),
    challenge_hash BLOB    NOT NULL CHECK (length(challenge_hash) = 32),
    purpose        TEXT    NOT NULL CHECK (purpose IN ('register', 'signin', 'step_up')),
    user_id        TEXT    REFERENCES users (id),
    session_id     TEXT,
    rp_id          TEXT    NOT NULL CHECK (rp_id <> '' AND length(CAST(rp_id AS BLOB)) <= 253),
    data           BLOB    NOT NULL CHECK (length(data) <= 8192),
    expires_at     INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (shop_id, challenge_hash)
) STRICT;
CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges (shop_id, expires_at);

-- +goose Down
DROP TABLE webauthn_challenges;
DROP TABLE passkeys;
