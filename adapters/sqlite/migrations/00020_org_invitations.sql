-- Org invitations (TEN-6 with consent): an org role is offered by mail and
-- exists only once the invitee accepts it. Global org-level rows, like
-- org_members. Only the SHA-256 of the mailed token is kept; it is unique
-- over all orgs, and every statement that finds a row by its token also
-- binds org_id. Times are INTEGER microseconds since the Unix epoch (UTC);
-- IDs are UUID text.

-- +goose Up
CREATE TABLE org_invitations (
    org_id      TEXT    NOT NULL REFERENCES orgs (id),
    id          TEXT    NOT NULL,
    token_hash  BLOB    NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    email       TEXT    NOT NULL CHECK (email <> '' AND length(CAST(email AS BLOB)) <= 254),
    role        TEXT    NOT NULL CHECK (role IN ('owner', 'admin')),
    invited_by  TEXT    REFERENCES users (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    accepted_at INTEGER,
    accepted_by TEXT    REFERENCES users (id),
    declined_at INTEGER,
    revoked_at  INTEGER,
    PRIMARY KEY (org_id, id),
    CHECK ((accepted_at IS NULL) = (accepted_by IS NULL)),
    CHECK ((accepted_at IS NOT NULL) + (declined_at IS NOT NULL) + (revoked_at IS NOT NULL) <= 1)
) STRICT;
-- Serves List (newest first) and the sweep of expired rows.
CREATE INDEX org_invitations_by_created ON org_invitations (org_id, created_at, id);
CREATE INDEX org_invitations_by_expiry ON org_invitations (expires_at) WHERE accepted_at IS NULL;

-- +goose Down
DROP TABLE org_invitations;
