-- SCIM 2.0 provisioning per org (AUTH-14): the org's bearer tokens, the
-- users and groups its identity provider pushed, group members, the org
-- owner's mapping of groups to (shop, role) and the memberships SCIM
-- granted. Global org-level rows, like org_members: reached only through
-- the global unit of work (no row-level security), and every statement
-- binds org_id. A token is kept only as its SHA-256, unique over all orgs.
-- A mapping or grant names a shop of the org in target_shop_id (not
-- shop_id: these are not tenant rows) and goes with the shop (ON DELETE
-- CASCADE).

-- +goose Up
CREATE TABLE scim_tokens (
    org_id     uuid        NOT NULL REFERENCES orgs (id),
    id         uuid        NOT NULL,
    token_hash bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_by uuid        REFERENCES users (id),
    created_at timestamptz NOT NULL,
    revoked_at timestamptz,
    PRIMARY KEY (org_id, id)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON scim_tokens TO stockade_app;

CREATE TABLE scim_users (
    org_id       uuid        NOT NULL REFERENCES orgs (id),
    id           uuid        NOT NULL,
    user_id      uuid        NOT NULL REFERENCES users (id),
    user_name    text        NOT NULL CHECK (user_name <> '' AND octet_length(user_name) <= 254),
    external_id  text        NOT NULL DEFAULT '' CHECK (octet_length(external_id) <= 256),
    given_name   text        NOT NULL DEFAULT '' CHECK (octet_length(given_name) <= 256),
    family_name  text        NOT NULL DEFAULT '' CHECK (octet_length(family_name) <= 256),
    display_name text        NOT NULL DEFAULT '' CHECK (octet_length(display_name) <= 256),
    active       boolean     NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, user_id),
    UNIQUE (org_id, user_name)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON scim_users TO stockade_app;

CREATE TABLE scim_groups (
    org_id       uuid        NOT NULL REFERENCES orgs (id),
    id           uuid        NOT NULL,
    display_name text        NOT NULL CHECK (display_name <> '' AND octet_length(display_name) <= 256),
    external_id  text        NOT NULL DEFAULT '' CHECK (octet_length(external_id) <= 256),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, display_name)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON scim_groups TO stockade_app;

CREATE TABLE scim_group_members (
    org_id   uuid NOT NULL,
    group_id uuid NOT NULL,
    user_id  uuid NOT NULL, -- the SCIM user's id (scim_users.id)
    PRIMARY KEY (org_id, group_id, user_id),
    FOREIGN KEY (org_id, group_id) REFERENCES scim_groups (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES scim_users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX scim_group_members_user ON scim_group_members (org_id, user_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON scim_group_members TO stockade_app;

CREATE TABLE scim_mappings (
    org_id         uuid        NOT NULL,
    id             uuid        NOT NULL,
    group_id       uuid        NOT NULL,
    target_shop_id uuid        NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    role           text        NOT NULL CHECK (role IN ('owner', 'admin', 'tech', 'sales', 'viewer')),
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, group_id, target_shop_id),
    FOREIGN KEY (org_id, group_id) REFERENCES scim_groups (org_id, id) ON DELETE CASCADE
);
CREATE INDEX scim_mappings_shop ON scim_mappings (target_shop_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON scim_mappings TO stockade_app;

CREATE TABLE scim_grants (
    org_id         uuid NOT NULL,
    scim_user_id   uuid NOT NULL,
    target_shop_id uuid NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    role           text NOT NULL CHECK (role IN ('owner', 'admin', 'tech', 'sales', 'viewer')),
    PRIMARY KEY (org_id, scim_user_id, target_shop_id),
    FOREIGN KEY (org_id, scim_user_id) REFERENCES scim_users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX scim_grants_shop ON scim_grants (target_shop_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON scim_grants TO stockade_app;

-- +goose Down
DROP TABLE scim_grants;
DROP TABLE scim_mappings;
DROP TABLE scim_group_members;
DROP TABLE scim_groups;
DROP TABLE scim_users;
DROP TABLE scim_tokens;
