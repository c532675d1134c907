-- SCIM 2.0 provisioning per org (AUTH-14): the org's bearer tokens, the
-- users and groups its identity provider pushed, group members, the org
-- owner's mapping of groups to (shop, role) and the memberships SCIM
-- granted. Global org-level rows, like org_members: reached only through
-- the global unit of work, and every statement binds org_id. A token is
-- kept only as its SHA-256, unique over all orgs. A mapping or grant names
-- a shop of the org in target_shop_id (not shop_id: these are not tenant
-- rows) and goes with the shop (ON DELETE CASCADE). Times are INTEGER
-- microseconds since the Unix epoch (UTC); IDs are UUID text.

-- +goose Up
CREATE TABLE scim_tokens (
    org_id     TEXT    NOT NULL REFERENCES orgs (id),
    id         TEXT    NOT NULL,
    token_hash BLOB    NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_by TEXT    REFERENCES users (id),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    PRIMARY KEY (org_id, id)
) STRICT;

CREATE TABLE scim_users (
    org_id       TEXT    NOT NULL REFERENCES orgs (id),
    id           TEXT    NOT NULL,
    user_id      TEXT    NOT NULL REFERENCES users (id),
    user_name    TEXT    NOT NULL CHECK (user_name <> '' AND length(CAST(user_name AS BLOB)) <= 254),
    external_id  TEXT    NOT NULL DEFAULT '' CHECK (length(CAST(external_id AS BLOB)) <= 256),
    given_name   TEXT    NOT NULL DEFAULT '' CHECK (length(CAST(given_name AS BLOB)) <= 256),
    family_name  TEXT    NOT NULL DEFAULT '' CHECK (length(CAST(family_name AS BLOB)) <= 256),
    display_name TEXT    NOT NULL DEFAULT '' CHECK (length(CAST(display_name AS BLOB)) <= 256),
    active       INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, user_id),
    UNIQUE (org_id, user_name)
) STRICT;

CREATE TABLE scim_groups (
    org_id       TEXT    NOT NULL REFERENCES orgs (id),
    id           TEXT    NOT NULL,
    display_name TEXT    NOT NULL CHECK (display_name <> '' AND length(CAST(display_name AS BLOB)) <= 256),
    external_id  TEXT    NOT NULL DEFAULT '' CHECK (length(CAST(external_id AS BLOB)) <= 256),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, display_name)
) STRICT;

CREATE TABLE scim_group_members (
    org_id   TEXT NOT NULL,
    group_id TEXT NOT NULL,
    user_id  TEXT NOT NULL, -- the SCIM user's id (scim_users.id)
    PRIMARY KEY (org_id, group_id, user_id),
    FOREIGN KEY (org_id, group_id) REFERENCES scim_groups (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES scim_users (org_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX scim_group_members_user ON scim_group_members (org_id, user_id);

CREATE TABLE scim_mappings (
    org_id         TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    group_id       TEXT    NOT NULL,
    target_shop_id TEXT    NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    role           TEXT    NOT NULL CHECK (role IN ('owner', 'admin', 'tech', 'sales', 'viewer')),
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, group_id, target_shop_id),
    FOREIGN KEY (org_id, group_id) REFERENCES scim_groups (org_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX scim_mappings_shop ON scim_mappings (target_shop_id);

CREATE TABLE scim_grants (
    org_id         TEXT NOT NULL,
    scim_user_id   TEXT NOT NULL,
    target_shop_id TEXT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    role           TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'tech', 'sales', 'viewer')),
    PRIMARY KEY (org_id, scim_user_id, target_shop_id),
    FOREIGN KEY (org_id, scim_user_id) REFERENCES scim_users (org_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX scim_grants_shop ON scim_grants (target_shop_id);

-- +goose Down
DROP TABLE scim_grants;
DROP TABLE scim_mappings;
DROP TABLE scim_group_members;
DROP TABLE scim_groups;
DROP TABLE scim_users;
DROP TABLE scim_tokens;
