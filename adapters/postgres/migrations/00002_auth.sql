-- Authentication: sessions and magic links (tenant tables), passwords,
-- identity links and rate-limit counters (global tables).
--
-- Same conventions as 00001: the schema owner creates, the group role
-- stockade_app receives only the grants the repositories need, and every
-- tenant table has ENABLE + FORCE ROW LEVEL SECURITY with one policy whose
-- USING and WITH CHECK read the transaction-local GUC app.shop_id.
--
-- Ending a membership cascades to that member's sessions and magic links in
-- the shop. Referential actions run as the referencing table's owner with
-- FORCE ROW LEVEL SECURITY suspended (PostgreSQL's RI triggers), so the
-- cascade reaches the rows whatever the deleting role may see; it stays
-- inside one shop because the foreign key carries shop_id.
-- TestMembershipRemovalCascades proves it as the application role.

-- +goose Up

-- Sessions (AUTH-6, AUTH-8, TEN-7): only the SHA-256 of the token is kept.
CREATE TABLE sessions (
    shop_id      uuid        NOT NULL,
    id           uuid        NOT NULL,
    user_id      uuid        NOT NULL,
    token_hash   bytea       NOT NULL CHECK (length(token_hash) = 32),
    method       text        NOT NULL,
    user_agent   text        NOT NULL DEFAULT '',
    ip           text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, user_id) REFERENCES memberships (shop_id, user_id) ON DELETE CASCADE
);
CREATE INDEX sessions_by_user ON sessions (shop_id, user_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON sessions TO stockade_app;

-- Magic links (AUTH-4): single use, bound to a shop and an address.
CREATE TABLE magic_links (
    shop_id     uuid        NOT NULL,
    token_hash  bytea       NOT NULL CHECK (length(token_hash) = 32),
    user_id     uuid        NOT NULL,
    email       text        NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    consumed_at timestamptz,
    PRIMARY KEY (shop_id, token_hash),
    FOREIGN KEY (shop_id, user_id) REFERENCES memberships (shop_id, user_id) ON DELETE CASCADE
);
-- Serves the cascade from memberships and per-user housekeeping.
CREATE INDEX magic_links_by_user ON magic_links (shop_id, user_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON magic_links TO stockade_app;

-- Global tables.

CREATE TABLE passwords (
    user_id    uuid        NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    hash       text        NOT NULL CHECK (hash <> '' AND octet_length(hash) <= 1024),
    updated_at timestamptz NOT NULL
);
GRANT SELECT, INSERT, UPDATE ON passwords TO stockade_app;

CREATE TABLE identities (
    issuer     text        NOT NULL CHECK (issuer <> '' AND octet_length(issuer) <= 255),
    subject    text        NOT NULL CHECK (subject <> '' AND octet_length(subject) <= 255),
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX identities_by_user ON identities (user_id);
GRANT SELECT, INSERT ON identities TO stockade_app;

-- Fixed-window attempt counters (AUTH-10), one row per key, shared by every
-- server instance. Hit is a single upsert, so concurrent hits count exactly.
CREATE TABLE rate_limits (
    key          text        NOT NULL PRIMARY KEY CHECK (key <> '' AND octet_length(key) <= 200),
    window_start timestamptz NOT NULL,
    count        integer     NOT NULL CHECK (count > 0)
);
CREATE INDEX rate_limits_by_start ON rate_limits (window_start);
GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limits TO stockade_app;

-- Row-level security on the tenant tables.
ALTER TABLE sessions    ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions    FORCE ROW LEVEL SECURITY;
ALTER TABLE magic_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE magic_links FORCE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON sessions
    USING (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid)
    WITH CHECK (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON magic_links
    USING (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid)
    WITH CHECK (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid);
