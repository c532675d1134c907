-- Org invitations (TEN-6 with consent): an org role is offered by mail and
-- exists only once the invitee accepts it. Global org-level rows, like
-- org_members, reached only through the global unit of work. Only the
-- SHA-256 of the mailed token is kept; it is unique over all orgs, and
-- every statement that finds a row by its token also binds org_id.

-- +goose Up
CREATE TABLE org_invitations (
    org_id      uuid        NOT NULL REFERENCES orgs (id),
    id          uuid        NOT NULL,
    token_hash  bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    email       text        NOT NULL CHECK (email <> '' AND octet_length(email) <= 254),
    role        text        NOT NULL CHECK (role IN ('owner', 'admin')),
    invited_by  uuid        REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by uuid        REFERENCES users (id),
    declined_at timestamptz,
    revoked_at  timestamptz,
    PRIMARY KEY (org_id, id),
    CHECK ((accepted_at IS NULL) = (accepted_by IS NULL)),
    CHECK (num_nonnulls(accepted_at, declined_at, revoked_at) <= 1)
);
-- Serves List (newest first) and the sweep of expired rows.
CREATE INDEX org_invitations_by_created ON org_invitations (org_id, created_at, id);
CREATE INDEX org_invitations_by_expiry ON org_invitations (expires_at) WHERE accepted_at IS NULL;
GRANT SELECT, INSERT, UPDATE, DELETE ON org_invitations TO stockade_app;

-- +goose Down
DROP TABLE org_invitations;
