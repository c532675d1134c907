-- Per-org single sign-on (AUTH-14): an org's OpenID Connect connection and
-- the e-mail domains it claims. Global org-level rows, like org_members.
-- Times are INTEGER microseconds since the Unix epoch (UTC); IDs are UUID
-- text.
--
-- The client secret is sealed by the server under its key manager before it
-- reaches the database: the column holds only sealed bytes. A domain may be
-- claimed by several orgs but verified by one: the partial unique index.

-- +goose Up
CREATE TABLE sso_connections (
    org_id        TEXT    NOT NULL PRIMARY KEY REFERENCES orgs (id),
    issuer        TEXT    NOT NULL CHECK (issuer <> '' AND length(CAST(issuer AS BLOB)) <= 2048),
    client_id     TEXT    NOT NULL CHECK (client_id <> '' AND length(CAST(client_id AS BLOB)) <= 512),
    sealed_secret BLOB    NOT NULL CHECK (length(sealed_secret) BETWEEN 1 AND 4096),
    default_role  TEXT    NOT NULL CHECK (default_role <> ''),
    enabled       INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    mandatory     INTEGER NOT NULL CHECK (mandatory IN (0, 1)),
    break_glass   TEXT    REFERENCES users (id),
    updated_by    TEXT    NOT NULL CHECK (updated_by <> ''),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE org_domains (
    org_id      TEXT    NOT NULL REFERENCES orgs (id),
    domain      TEXT    NOT NULL CHECK (domain <> '' AND length(CAST(domain AS BLOB)) <= 253 AND domain = lower(domain)),
    token       TEXT    NOT NULL CHECK (token <> '' AND length(CAST(token AS BLOB)) <= 128),
    created_at  INTEGER NOT NULL,
    verified_at INTEGER,
    PRIMARY KEY (org_id, domain)
) STRICT;
CREATE UNIQUE INDEX org_domains_verified ON org_domains (domain) WHERE verified_at IS NOT NULL;

-- +goose Down
DROP TABLE org_domains;
DROP TABLE sso_connections;
