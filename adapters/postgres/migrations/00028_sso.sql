-- Per-org single sign-on (AUTH-14): an org's OpenID Connect connection and
-- the e-mail domains it claims. Global org-level rows, like org_members,
-- reached only through the global unit of work.
--
-- The client secret is sealed by the server under its key manager before it
-- reaches the database: the column holds only sealed bytes. A domain may be
-- claimed by several orgs but verified by one: the partial unique index.

-- +goose Up
CREATE TABLE sso_connections (
    org_id        uuid        NOT NULL PRIMARY KEY REFERENCES orgs (id),
    issuer        text        NOT NULL CHECK (issuer <> '' AND octet_length(issuer) <= 2048),
    client_id     text        NOT NULL CHECK (client_id <> '' AND octet_length(client_id) <= 512),
    sealed_secret bytea       NOT NULL CHECK (length(sealed_secret) BETWEEN 1 AND 4096),
    default_role  text        NOT NULL CHECK (default_role <> ''),
    enabled       boolean     NOT NULL,
    mandatory     boolean     NOT NULL,
    break_glass   uuid        REFERENCES users (id),
    updated_by    text        NOT NULL CHECK (updated_by <> ''),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
GRANT SELECT, INSERT, UPDATE, DELETE ON sso_connections TO stockade_app;

CREATE TABLE org_domains (
    org_id      uuid        NOT NULL REFERENCES orgs (id),
    domain      text        NOT NULL CHECK (domain <> '' AND octet_length(domain) <= 253 AND domain = lower(domain)),
    token       text        NOT NULL CHECK (token <> '' AND octet_length(token) <= 128),
    created_at  timestamptz NOT NULL,
    verified_at timestamptz,
    PRIMARY KEY (org_id, domain)
);
CREATE UNIQUE INDEX org_domains_verified ON org_domains (domain) WHERE verified_at IS NOT NULL;
GRANT SELECT, INSERT, UPDATE, DELETE ON org_domains TO stockade_app;

-- +goose Down
DROP TABLE org_domains;
DROP TABLE sso_connections;
