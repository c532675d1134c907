-- Tenancy: invitations to join a shop (TEN-9, a tenant table) and org
-- memberships (TEN-6, global org-level rows).
--
-- Same conventions as 00001..00003: owned by the schema owner, granted to
-- stockade_app, tenant tables with ENABLE + FORCE ROW LEVEL SECURITY and
-- the tenant policy on the transaction-local GUC app.shop_id.

-- +goose Up

-- Invitations: only the SHA-256 of the mailed token is kept. A token hash
-- is unique within its shop: a conflict with another shop's row would tell
-- one shop what another holds, and every unique key of a tenant table
-- carries shop_id so that the schema can be distributed by it.
CREATE TABLE invitations (
    shop_id     uuid        NOT NULL REFERENCES shops (id),
    id          uuid        NOT NULL,
    token_hash  bytea       NOT NULL CHECK (length(token_hash) = 32),
    email       text        NOT NULL CHECK (email <> '' AND octet_length(email) <= 254),
    role        text        NOT NULL REFERENCES roles (name),
    invited_by  uuid        REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by uuid        REFERENCES users (id),
    revoked_at  timestamptz,
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, token_hash),
    CHECK ((accepted_at IS NULL) = (accepted_by IS NULL)),
    CHECK (accepted_at IS NULL OR revoked_at IS NULL)
);
-- Serves List: newest first.
CREATE INDEX invitations_by_created ON invitations (shop_id, created_at, id);
GRANT SELECT, INSERT, UPDATE, DELETE ON invitations TO stockade_app;

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON invitations
    USING (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid)
    WITH CHECK (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid);

-- Org memberships: a user's role in an org (HQ). Global rows, reached only
-- through the global unit of work; the application role may lock rows
-- (UPDATE) so that removing an owner is checked against the others.
CREATE TABLE org_members (
    org_id     uuid        NOT NULL REFERENCES orgs (id),
    user_id    uuid        NOT NULL REFERENCES users (id),
    role       text        NOT NULL CHECK (role IN ('owner', 'admin')),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX org_members_by_user ON org_members (user_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON org_members TO stockade_app;

-- +goose Down
DROP TABLE org_members;
DROP TABLE invitations;
