-- Passkeys (AUTH-12): members' WebAuthn credentials and the pending
-- WebAuthn ceremonies of each shop. Both are tenant tables, made ones by
-- stockade_tenant_table (00022): a passkey's relying party is its shop's
-- host, so it is a row of that shop and invisible to every other.
--
-- A ceremony is kept by the SHA-256 of its challenge, never the challenge.

-- +goose Up
CREATE TABLE passkeys (
    shop_id            uuid        NOT NULL REFERENCES shops (id),
    id                 uuid        NOT NULL,
    user_id            uuid        NOT NULL REFERENCES users (id),
    credential_id      bytea       NOT NULL CHECK (length(credential_id) BETWEEN 1 AND 1023),
    rp_id              text        NOT NULL CHECK (rp_id <> '' AND octet_length(rp_id) <= 253),
    public_key         bytea       NOT NULL CHECK (length(public_key) BETWEEN 1 AND 2048),
    sign_count         bigint      NOT NULL CHECK (sign_count BETWEEN 0 AND 4294967295),
    backup_eligible    boolean     NOT NULL,
    backup_state       boolean     NOT NULL,
    user_verified      boolean     NOT NULL,
    aaguid             bytea       NOT NULL CHECK (length(aaguid) IN (0, 16)),
    transports         text        NOT NULL DEFAULT '' CHECK (octet_length(transports) <= 200),
    attestation_format text        NOT NULL DEFAULT '' CHECK (octet_length(attestation_format) <= 32),
    name               text        NOT NULL CHECK (name <> '' AND octet_length(name) <= 100),
    created_at         timestamptz NOT NULL,
    last_used_at       timestamptz,
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, credential_id)
);
CREATE INDEX passkeys_user ON passkeys (shop_id, user_id);
SELECT stockade_tenant_table('passkeys');

CREATE TABLE webauthn_challenges (
    shop_id        uuid        NOT NULL REFERENCES shops (id),
    challenge_hash bytea       NOT NULL CHECK (length(challenge_hash) = 32),
    purpose        text        NOT NULL CHECK (purpose IN ('register', 'signin', 'step_up')),
    user_id        uuid        REFERENCES users (id),
    session_id     uuid,
    rp_id          text        NOT NULL CHECK (rp_id <> '' AND octet_length(rp_id) <= 253),
    data           bytea       NOT NULL CHECK (length(data) <= 8192),
    expires_at     timestamptz NOT NULL,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (shop_id, challenge_hash)
);
CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges (shop_id, expires_at);
SELECT stockade_tenant_table('webauthn_challenges');

-- +goose Down
DROP TABLE webauthn_challenges;
DROP TABLE passkeys;
