-- Tenancy: invitations to join a shop (TEN-9, a tenant table) and org
-- memberships (TEN-6, global org-level rows).
-- Times are INTEGER microseconds since the Unix epoch (UTC); IDs are UUID
-- text. The adapter binds shop_id in every statement on invitations (TEN-4).

-- +goose Up
-- Only the SHA-256 of the mailed token is kept; it is unique within its
-- shop, so another shop's invitations can never cause a conflict.
CREATE TABLE invitations (
    shop_id     TEXT    NOT NULL REFERENCES shops (id),
    id          TEXT    NOT NULL,
    token_hash  BLOB    NOT NULL CHECK (length(token_hash) = 32),
    email       TEXT    NOT NULL CHECK (email <> '' AND length(CAST(email AS BLOB)) <= 254),
    role        TEXT    NOT NULL REFERENCES roles (name),
    invited_by  TEXT    REFERENCES users (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    accepted_at INTEGER,
    accepted_by TEXT    REFERENCES users (id),
    revoked_at  INTEGER,
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, token_hash),
    CHECK ((accepted_at IS NULL) = (accepted_by IS NULL)),
    CHECK (accepted_at IS NULL OR revoked_at IS NULL)
) STRICT;
-- Serves List: newest first.
CREATE INDEX invitations_by_created ON invitations (shop_id, created_at, id);

CREATE TABLE org_members (
    org_id     TEXT    NOT NULL REFERENCES orgs (id),
    user_id    TEXT    NOT NULL REFERENCES users (id),
    role       TEXT    NOT NULL CHECK (role IN ('owner', 'admin')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
) STRICT;
CREATE INDEX org_members_by_user ON org_members (user_id);

-- +goose Down
DROP TABLE org_members;
DROP TABLE invitations;
