-- Operators and impersonation (AUD-5).
--
-- Same conventions as 00001..00005: owned by the schema owner, granted to
-- stockade_app, tenant tables with ENABLE + FORCE ROW LEVEL SECURITY and
-- the tenant policy on the transaction-local GUC app.shop_id.
--
-- Operators are global identities apart from users: they are members of no
-- shop. Their sessions are global rows too and grant nothing in a shop. An
-- impersonation is a row of the shop it happens in; the session it yields
-- is an ordinary session row that names it (sessions.impersonation_id), so
-- the one-round-trip session lookup serves it too.

-- +goose Up
CREATE TABLE operators (
    id            uuid        NOT NULL PRIMARY KEY,
    email         text        NOT NULL UNIQUE CHECK (email <> '' AND email = lower(email) AND octet_length(email) <= 254),
    name          text        NOT NULL DEFAULT '' CHECK (octet_length(name) <= 200),
    password_hash text        NOT NULL CHECK (password_hash <> '' AND octet_length(password_hash) <= 1024),
    created_at    timestamptz NOT NULL,
    disabled_at   timestamptz
);
-- The application role never deletes an operator: disabling keeps the
-- identity that audit events name.
GRANT SELECT, INSERT, UPDATE ON operators TO stockade_app;

-- Only the SHA-256 of the session token is kept.
CREATE TABLE operator_sessions (
    id           uuid        NOT NULL PRIMARY KEY,
    operator_id  uuid        NOT NULL REFERENCES operators (id),
    token_hash   bytea       NOT NULL CHECK (length(token_hash) = 32),
    user_agent   text        NOT NULL DEFAULT '',
    ip           text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX operator_sessions_by_operator ON operator_sessions (operator_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON operator_sessions TO stockade_app;

-- An impersonation: who, as whom, why, until when. Only the SHA-256 of the
-- one-time hand-off code is kept, and only until it is redeemed. A code
-- hash is unique within its shop (every unique key of a tenant table
-- carries shop_id).
CREATE TABLE impersonations (
    shop_id         uuid        NOT NULL REFERENCES shops (id),
    id              uuid        NOT NULL,
    operator_id     uuid        NOT NULL REFERENCES operators (id),
    user_id         uuid        NOT NULL REFERENCES users (id),
    reason          text        NOT NULL CHECK (reason <> '' AND octet_length(reason) <= 500),
    code_hash       bytea       CHECK (length(code_hash) = 32),
    code_expires_at timestamptz NOT NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    redeemed_at     timestamptz,
    ended_at        timestamptz,
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, code_hash),
    CHECK ((code_hash IS NULL) = (redeemed_at IS NOT NULL))
);
-- Serves List: newest first.
CREATE INDEX impersonations_by_created ON impersonations (shop_id, created_at, id);
-- Serves the foreign keys' checks when an operator or user row is locked.
CREATE INDEX impersonations_by_operator ON impersonations (operator_id);
CREATE INDEX impersonations_by_user ON impersonations (user_id);
-- No DELETE: an impersonation is a record.
GRANT SELECT, INSERT, UPDATE ON impersonations TO stockade_app;

ALTER TABLE impersonations ENABLE ROW LEVEL SECURITY;
ALTER TABLE impersonations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON impersonations
    USING (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid)
    WITH CHECK (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid);

-- A session may be an impersonation's; the foreign key carries shop_id, so
-- it can only name an impersonation of its own shop.
ALTER TABLE sessions ADD COLUMN impersonation_id uuid;
ALTER TABLE sessions ADD CONSTRAINT sessions_impersonation_fk
    FOREIGN KEY (shop_id, impersonation_id) REFERENCES impersonations (shop_id, id);
CREATE INDEX sessions_by_impersonation ON sessions (shop_id, impersonation_id) WHERE impersonation_id IS NOT NULL;

-- The session lookup asks this only for an impersonation session: the
-- operator behind the impersonation while it has not ended and the
-- operator is not disabled, else NULL. PL/pgSQL keeps its query's plan
-- for the connection, so the one-message lookup (simple protocol, planned
-- on every call) does not pay for planning two more joins on every
-- request. SECURITY INVOKER: the caller's row-level security applies.
-- +goose StatementBegin
CREATE FUNCTION stockade_live_impersonator(shop uuid, imp uuid) RETURNS uuid
LANGUAGE plpgsql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    op uuid;
BEGIN
    SELECT i.operator_id INTO op
    FROM impersonations i JOIN operators o ON o.id = i.operator_id
    WHERE i.shop_id = shop AND i.id = imp AND i.ended_at IS NULL AND o.disabled_at IS NULL;
    RETURN op;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION stockade_live_impersonator(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stockade_live_impersonator(uuid, uuid) TO stockade_app;

-- +goose Down
DROP FUNCTION stockade_live_impersonator(uuid, uuid);
DROP INDEX sessions_by_impersonation;
ALTER TABLE sessions DROP CONSTRAINT sessions_impersonation_fk;
ALTER TABLE sessions DROP COLUMN impersonation_id;
DROP TABLE impersonations;
DROP TABLE operator_sessions;
DROP TABLE operators;
