-- Foundation schema for PostgreSQL.
--
-- Runs as the schema owner role. The application connects as a login role
-- that is a member of the group role stockade_app: it owns nothing, is not
-- a superuser and has no BYPASSRLS, so every tenant table's row-level
-- security applies to it (TEN-3). Tenant tables have ENABLE + FORCE ROW
-- LEVEL SECURITY and one policy with USING and WITH CHECK on the
-- transaction-local GUC app.shop_id, which InShop sets. With no tenant set
-- the GUC reads '' (or NULL), NULLIF turns that into NULL, and the policy
-- matches no row.

-- +goose Up
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'stockade_app') THEN
        CREATE ROLE stockade_app NOLOGIN;
    END IF;
END
$$;
-- +goose StatementEnd

GRANT USAGE ON SCHEMA public TO stockade_app;
GRANT SELECT ON stockade_schema_migrations TO stockade_app;

CREATE TABLE roles (
    name        text    NOT NULL PRIMARY KEY,
    rank        integer NOT NULL UNIQUE,
    description text    NOT NULL
);
INSERT INTO roles (name, rank, description) VALUES
    ('owner',  1, 'Full control of the shop, its billing and its members'),
    ('admin',  2, 'Manages the shop''s settings and members'),
    ('tech',   3, 'Field technician: jobs, photos and quotes assigned to them'),
    ('sales',  4, 'Customers, quotes and invoices'),
    ('viewer', 5, 'Read-only access');
GRANT SELECT ON roles TO stockade_app;

CREATE TABLE orgs (
    id         uuid        NOT NULL PRIMARY KEY,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE shops (
    id         uuid        NOT NULL PRIMARY KEY,
    org_id     uuid        NOT NULL REFERENCES orgs (id),
    slug       text        NOT NULL UNIQUE CHECK (slug = lower(slug)),
    name       text        NOT NULL,
    status     text        NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at timestamptz NOT NULL
);
CREATE INDEX shops_by_org ON shops (org_id, created_at);

CREATE TABLE users (
    id         uuid        NOT NULL PRIMARY KEY,
    email      text        NOT NULL UNIQUE,
    name       text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL
);

GRANT SELECT, INSERT, UPDATE ON orgs, shops, users TO stockade_app;

-- Tenant tables.

CREATE TABLE memberships (
    shop_id    uuid        NOT NULL REFERENCES shops (id),
    user_id    uuid        NOT NULL REFERENCES users (id),
    role       text        NOT NULL REFERENCES roles (name),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (shop_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON memberships TO stockade_app;

-- The head of each shop's audit log; appends bump seq inside the appending
-- transaction (row lock), so one shop's sequence is gap-free and serial.
CREATE TABLE audit_heads (
    shop_id uuid   NOT NULL PRIMARY KEY REFERENCES shops (id),
    seq     bigint NOT NULL
);
GRANT SELECT, INSERT, UPDATE ON audit_heads TO stockade_app;

-- Append-only: the application role may INSERT and SELECT, nothing else,
-- and a trigger refuses UPDATE, DELETE and TRUNCATE for every role.
CREATE TABLE audit_events (
    shop_id      uuid        NOT NULL REFERENCES shops (id),
    seq          bigint      NOT NULL,
    id           uuid        NOT NULL,
    at           timestamptz NOT NULL,
    actor        text        NOT NULL,
    impersonator text        NOT NULL DEFAULT '',
    action       text        NOT NULL,
    target       text        NOT NULL DEFAULT '',
    outcome      text        NOT NULL,
    before       json,
    after        json,
    ip           text        NOT NULL DEFAULT '',
    user_agent   text        NOT NULL DEFAULT '',
    request_id   text        NOT NULL DEFAULT '',
    PRIMARY KEY (shop_id, seq),
    UNIQUE (shop_id, id)
);
GRANT SELECT, INSERT ON audit_events TO stockade_app;

-- +goose StatementBegin
CREATE FUNCTION stockade_refuse_audit_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_events_append_only
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION stockade_refuse_audit_change();
CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION stockade_refuse_audit_change();

-- Row-level security on every tenant table.
ALTER TABLE memberships  ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships  FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_heads  ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_heads  FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON memberships
    USING (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid)
    WITH CHECK (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON audit_heads
    USING (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid)
    WITH CHECK (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON audit_events
    USING (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid)
    WITH CHECK (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid);
