-- Operators and impersonation (AUD-5).
-- Times are INTEGER microseconds since the Unix epoch (UTC); IDs are UUID
-- text. The adapter binds shop_id in every statement on impersonations
-- (TEN-4).
--
-- Operators are global identities apart from users: they are members of no
-- shop. An impersonation is a row of the shop it happens in; the session
-- it yields is an ordinary session row that names it, so the one-statement
-- session lookup serves it too.

-- +goose Up
CREATE TABLE operators (
    id            TEXT    NOT NULL PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE CHECK (email <> '' AND email = lower(email) AND length(CAST(email AS BLOB)) <= 254),
    name          TEXT    NOT NULL DEFAULT '' CHECK (length(CAST(name AS BLOB)) <= 200),
    password_hash TEXT    NOT NULL CHECK (password_hash <> '' AND length(CAST(password_hash AS BLOB)) <= 1024),
    created_at    INTEGER NOT NULL,
    disabled_at   INTEGER
) STRICT;

CREATE TABLE operator_sessions (
    id           TEXT    NOT NULL PRIMARY KEY,
    operator_id  TEXT    NOT NULL REFERENCES operators (id),
    token_hash   BLOB    NOT NULL CHECK (length(token_hash) = 32),
    user_agent   TEXT    NOT NULL DEFAULT '',
    ip           TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX operator_sessions_by_operator ON operator_sessions (operator_id);

-- Only the SHA-256 of the one-time hand-off code is kept, and only until
-- it is redeemed; it is unique within its shop.
CREATE TABLE impersonations (
    shop_id         TEXT    NOT NULL REFERENCES shops (id),
    id              TEXT    NOT NULL,
    operator_id     TEXT    NOT NULL REFERENCES operators (id),
    user_id         TEXT    NOT NULL REFERENCES users (id),
    reason          TEXT    NOT NULL CHECK (reason <> '' AND length(CAST(reason AS BLOB)) <= 500),
    code_hash       BLOB    CHECK (length(code_hash) = 32),
    code_expires_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    redeemed_at     INTEGER,
    ended_at        INTEGER,
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, code_hash),
    CHECK ((code_hash IS NULL) = (redeemed_at IS NOT NULL))
) STRICT;
CREATE INDEX impersonations_by_created ON impersonations (shop_id, created_at, id);

-- A session may be an impersonation's. SQLite cannot add a table
-- constraint to an existing table, so sessions is rebuilt with a foreign
-- key that carries shop_id: a session can only name an impersonation of
-- its own shop. Nothing references sessions, so the swap is safe with
-- foreign keys on.
CREATE TABLE sessions_new (
    shop_id          TEXT    NOT NULL,
    id               TEXT    NOT NULL,
    user_id          TEXT    NOT NULL,
    token_hash       BLOB    NOT NULL CHECK (length(token_hash) = 32),
    method           TEXT    NOT NULL,
    user_agent       TEXT    NOT NULL DEFAULT '',
    ip               TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    last_seen_at     INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    impersonation_id TEXT,
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, user_id) REFERENCES memberships (shop_id, user_id) ON DELETE CASCADE,
    FOREIGN KEY (shop_id, impersonation_id) REFERENCES impersonations (shop_id, id)
) STRICT;
INSERT INTO sessions_new (shop_id, id, user_id, token_hash, method, user_agent, ip, created_at, last_seen_at, expires_at)
    SELECT shop_id, id, user_id, token_hash, method, user_agent, ip, created_at, last_seen_at, expires_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_by_user ON sessions (shop_id, user_id);
CREATE INDEX sessions_by_impersonation ON sessions (shop_id, impersonation_id) WHERE impersonation_id IS NOT NULL;

-- +goose Down
CREATE TABLE sessions_old (
    shop_id      TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    user_id      TEXT    NOT NULL,
    token_hash   BLOB    NOT NULL CHECK (length(token_hash) = 32),
    method       TEXT    NOT NULL,
    user_agent   TEXT    NOT NULL DEFAULT '',
    ip           TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, user_id) REFERENCES memberships (shop_id, user_id) ON DELETE CASCADE
) STRICT;
INSERT INTO sessions_old SELECT shop_id, id, user_id, token_hash, method, user_agent, ip, created_at, last_seen_at, expires_at
    FROM sessions WHERE impersonation_id IS NULL;
DROP TABLE sessions;
ALTER TABLE sessions_old RENAME TO sessions;
CREATE INDEX sessions_by_user ON sessions (shop_id, user_id);
DROP TABLE impersonations;
DROP TABLE operator_sessions;
DROP TABLE operators;
