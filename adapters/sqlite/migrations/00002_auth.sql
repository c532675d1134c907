-- Authentication: sessions and magic links (tenant tables), passwords,
-- identity links and rate-limit counters (global tables).
-- Token hashes are the 32-byte SHA-256 of a secret the store never sees.
-- A session or magic link references its user's membership in its own shop,
-- so ending the membership deletes them (ON DELETE CASCADE) and neither can
-- point at another shop's member.

-- +goose Up
CREATE TABLE sessions (
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
-- Serves ListByUser, DeleteByUser and the cascade from memberships.
CREATE INDEX sessions_by_user ON sessions (shop_id, user_id);

CREATE TABLE magic_links (
    shop_id     TEXT    NOT NULL,
    token_hash  BLOB    NOT NULL CHECK (length(token_hash) = 32),
    user_id     TEXT    NOT NULL,
    email       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    consumed_at INTEGER,
    PRIMARY KEY (shop_id, token_hash),
    FOREIGN KEY (shop_id, user_id) REFERENCES memberships (shop_id, user_id) ON DELETE CASCADE
) STRICT;
-- Serves the cascade from memberships.
CREATE INDEX magic_links_by_user ON magic_links (shop_id, user_id);

CREATE TABLE passwords (
    user_id    TEXT    NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT    NOT NULL CHECK (hash <> ''),
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE identities (
    issuer     TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject)
) STRICT;
CREATE INDEX identities_by_user ON identities (user_id, created_at);

-- Fixed-window counters shared by every server instance (AUTH-10).
CREATE TABLE rate_limits (
    key          TEXT    NOT NULL PRIMARY KEY,
    window_start INTEGER NOT NULL,
    count        INTEGER NOT NULL
) STRICT;
