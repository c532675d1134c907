-- Second factors (AUTH-11, AUTH-13, AUTH-18): TOTP factors and recovery
-- codes of users and of operators (global rows), each shop's two-factor
-- policy (a tenant table: the store binds shop_id in every statement), and
-- the assurance level of member and operator sessions. Times are INTEGER
-- microseconds since the Unix epoch (UTC).
--
-- A TOTP secret is sealed by the server under its key manager before it
-- reaches the database: the column holds only sealed bytes. A recovery code
-- is kept as the SHA-256 of a high-entropy code shown once.

-- +goose Up
CREATE TABLE user_totp (
    user_id       TEXT    NOT NULL PRIMARY KEY REFERENCES users (id),
    sealed_secret BLOB    NOT NULL CHECK (length(sealed_secret) BETWEEN 1 AND 1024),
    last_step     INTEGER NOT NULL DEFAULT 0 CHECK (last_step >= 0),
    created_at    INTEGER NOT NULL,
    confirmed_at  INTEGER
) STRICT;

CREATE TABLE user_recovery_codes (
    user_id    TEXT    NOT NULL REFERENCES users (id),
    code_hash  BLOB    NOT NULL CHECK (length(code_hash) = 32),
    created_at INTEGER NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (user_id, code_hash)
) STRICT;

CREATE TABLE operator_totp (
    operator_id   TEXT    NOT NULL PRIMARY KEY REFERENCES operators (id),
    sealed_secret BLOB    NOT NULL CHECK (length(sealed_secret) BETWEEN 1 AND 1024),
    last_step     INTEGER NOT NULL DEFAULT 0 CHECK (last_step >= 0),
    created_at    INTEGER NOT NULL,
    confirmed_at  INTEGER
) STRICT;

CREATE TABLE operator_recovery_codes (
    operator_id TEXT    NOT NULL REFERENCES operators (id),
    code_hash   BLOB    NOT NULL CHECK (length(code_hash) = 32),
    created_at  INTEGER NOT NULL,
    used_at     INTEGER,
    PRIMARY KEY (operator_id, code_hash)
) STRICT;

-- A shop's two-factor policy: every member, or the members of the listed
-- roles (sorted, distinct, joined by single spaces). No row: nobody.
CREATE TABLE two_factor_policies (
    shop_id     TEXT    NOT NULL REFERENCES shops (id),
    all_members INTEGER NOT NULL CHECK (all_members IN (0, 1)),
    roles       TEXT    NOT NULL DEFAULT '' CHECK (length(CAST(roles AS BLOB)) <= 1000),
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT    NOT NULL DEFAULT '' CHECK (length(CAST(updated_by AS BLOB)) <= 200),
    PRIMARY KEY (shop_id)
) STRICT;

-- A session records its assurance level and when its user last proved who
-- they are (NULL: at creation).
ALTER TABLE sessions ADD COLUMN aal INTEGER NOT NULL DEFAULT 1 CHECK (aal IN (1, 2));
ALTER TABLE sessions ADD COLUMN reauthenticated_at INTEGER;
ALTER TABLE operator_sessions ADD COLUMN aal INTEGER NOT NULL DEFAULT 1 CHECK (aal IN (1, 2));

-- +goose Down
ALTER TABLE operator_sessions DROP COLUMN aal;
ALTER TABLE sessions DROP COLUMN reauthenticated_at;
ALTER TABLE sessions DROP COLUMN aal;
DROP TABLE two_factor_policies;
DROP TABLE operator_recovery_codes;
DROP TABLE operator_totp;
DROP TABLE user_recovery_codes;
DROP TABLE user_totp;
