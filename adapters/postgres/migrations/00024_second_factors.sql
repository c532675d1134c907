-- Second factors (AUTH-11, AUTH-13, AUTH-18): TOTP factors and recovery
-- codes of users and of operators (global rows), each shop's two-factor
-- policy (a tenant table, made one by stockade_tenant_table from 00022),
-- and the assurance level of member and operator sessions.
--
-- A TOTP secret is sealed by the server under its key manager before it
-- reaches the database: the column holds only sealed bytes. A recovery code
-- is kept as the SHA-256 of a high-entropy code shown once.

-- +goose Up
CREATE TABLE user_totp (
    user_id       uuid        NOT NULL PRIMARY KEY REFERENCES users (id),
    sealed_secret bytea       NOT NULL CHECK (length(sealed_secret) BETWEEN 1 AND 1024),
    last_step     bigint      NOT NULL DEFAULT 0 CHECK (last_step >= 0),
    created_at    timestamptz NOT NULL,
    confirmed_at  timestamptz
);
GRANT SELECT, INSERT, UPDATE, DELETE ON user_totp TO stockade_app;

CREATE TABLE user_recovery_codes (
    user_id    uuid        NOT NULL REFERENCES users (id),
    code_hash  bytea       NOT NULL CHECK (length(code_hash) = 32),
    created_at timestamptz NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (user_id, code_hash)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON user_recovery_codes TO stockade_app;

CREATE TABLE operator_totp (
    operator_id   uuid        NOT NULL PRIMARY KEY REFERENCES operators (id),
    sealed_secret bytea       NOT NULL CHECK (length(sealed_secret) BETWEEN 1 AND 1024),
    last_step     bigint      NOT NULL DEFAULT 0 CHECK (last_step >= 0),
    created_at    timestamptz NOT NULL,
    confirmed_at  timestamptz
);
GRANT SELECT, INSERT, UPDATE, DELETE ON operator_totp TO stockade_app;

CREATE TABLE operator_recovery_codes (
    operator_id uuid        NOT NULL REFERENCES operators (id),
    code_hash   bytea       NOT NULL CHECK (length(code_hash) = 32),
    created_at  timestamptz NOT NULL,
    used_at     timestamptz,
    PRIMARY KEY (operator_id, code_hash)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON operator_recovery_codes TO stockade_app;

-- A shop's two-factor policy: every member, or the members of the listed
-- roles (sorted, distinct, joined by single spaces). No row: nobody.
CREATE TABLE two_factor_policies (
    shop_id     uuid        NOT NULL REFERENCES shops (id),
    all_members boolean     NOT NULL,
    roles       text        NOT NULL DEFAULT '' CHECK (octet_length(roles) <= 1000),
    updated_at  timestamptz NOT NULL,
    updated_by  text        NOT NULL DEFAULT '' CHECK (octet_length(updated_by) <= 200),
    PRIMARY KEY (shop_id)
);
SELECT stockade_tenant_table('two_factor_policies');

-- A session records its assurance level and when its user last proved who
-- they are (NULL: at creation).
ALTER TABLE sessions ADD COLUMN aal smallint NOT NULL DEFAULT 1 CHECK (aal IN (1, 2));
ALTER TABLE sessions ADD COLUMN reauthenticated_at timestamptz;
ALTER TABLE operator_sessions ADD COLUMN aal smallint NOT NULL DEFAULT 1 CHECK (aal IN (1, 2));

-- +goose Down
ALTER TABLE operator_sessions DROP COLUMN aal;
ALTER TABLE sessions DROP COLUMN reauthenticated_at;
ALTER TABLE sessions DROP COLUMN aal;
DROP TABLE two_factor_policies;
DROP TABLE operator_recovery_codes;
DROP TABLE operator_totp;
DROP TABLE user_recovery_codes;
DROP TABLE user_totp;
