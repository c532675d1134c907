-- Foundation schema for the embedded SQLite store.
-- Times are INTEGER microseconds since the Unix epoch (UTC); IDs are UUID text.
-- Tenant tables key on (shop_id, …); the adapter binds shop_id in every
-- statement so a cross-shop query cannot be expressed (TEN-4).

-- +goose Up
CREATE TABLE roles (
    name        TEXT    NOT NULL PRIMARY KEY,
    rank        INTEGER NOT NULL UNIQUE,
    description TEXT    NOT NULL
) STRICT;

INSERT INTO roles (name, rank, description) VALUES
    ('owner',  1, 'Full control of the shop, its billing and its members'),
    ('admin',  2, 'Manages the shop''s settings and members'),
    ('tech',   3, 'Field technician: jobs, photos and quotes assigned to them'),
    ('sales',  4, 'Customers, quotes and invoices'),
    ('viewer', 5, 'Read-only access');

CREATE TABLE orgs (
    id         TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE shops (
    id         TEXT    NOT NULL PRIMARY KEY,
    org_id     TEXT    NOT NULL REFERENCES orgs (id),
    slug       TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX shops_by_org ON shops (org_id, created_at);

CREATE TABLE users (
    id         TEXT    NOT NULL PRIMARY KEY,
    email      TEXT    NOT NULL UNIQUE,
    name       TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE memberships (
    shop_id    TEXT    NOT NULL REFERENCES shops (id),
    user_id    TEXT    NOT NULL REFERENCES users (id),
    role       TEXT    NOT NULL REFERENCES roles (name),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (shop_id, user_id)
) STRICT;
CREATE INDEX memberships_by_user ON memberships (user_id);

-- One row per shop: the head of its audit log. Appends bump seq inside the
-- appending transaction, so the sequence is gap-free and serialised per shop.
CREATE TABLE audit_heads (
    shop_id TEXT    NOT NULL PRIMARY KEY REFERENCES shops (id),
    seq     INTEGER NOT NULL
) STRICT;

CREATE TABLE audit_events (
    shop_id      TEXT    NOT NULL REFERENCES shops (id),
    seq          INTEGER NOT NULL,
    id           TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    actor        TEXT    NOT NULL,
    impersonator TEXT    NOT NULL DEFAULT '',
    action       TEXT    NOT NULL,
    target       TEXT    NOT NULL DEFAULT '',
    outcome      TEXT    NOT NULL,
    before       TEXT,
    after        TEXT,
    ip           TEXT    NOT NULL DEFAULT '',
    user_agent   TEXT    NOT NULL DEFAULT '',
    request_id   TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (shop_id, seq),
    UNIQUE (shop_id, id)
) STRICT;

-- +goose StatementBegin
CREATE TRIGGER audit_events_append_only_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_events_append_only_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
-- +goose StatementEnd
