-- The audit hash chain and its signed checkpoints (AUD-4).
--
-- Every event carries the SHA-256 of the shop's previous event (prev_hash)
-- and its own (hash) over the canonical encoding documented on
-- ports.AuditHash. The head row keeps the last event's hash and the one
-- before it: the append statement bumps the head (taking its row lock),
-- computes the new hash from the old one with sha256() and inserts the
-- event, all in one statement, so concurrent appenders build one chain.
-- NULL means none: the prev_hash of a chain's first event, and both
-- columns of the events appended before this migration (the chain starts
-- after them).
--
-- audit_checkpoints holds signed statements of a chain's head (origin,
-- size, head hash, in the signed-note format). Same conventions as
-- audit_events: the application role may INSERT and SELECT only, a trigger
-- refuses UPDATE, DELETE and TRUNCATE for every role, and ENABLE + FORCE
-- ROW LEVEL SECURITY with the tenant policy.

-- +goose Up
ALTER TABLE audit_heads
    ADD COLUMN prev_hash bytea CHECK (length(prev_hash) = 32),
    ADD COLUMN hash      bytea CHECK (length(hash) = 32);
ALTER TABLE audit_events
    ADD COLUMN prev_hash bytea CHECK (length(prev_hash) = 32),
    ADD COLUMN hash      bytea CHECK (length(hash) = 32),
    ADD CHECK (hash IS NOT NULL OR prev_hash IS NULL);

CREATE TABLE audit_checkpoints (
    shop_id    uuid        NOT NULL REFERENCES shops (id),
    n          bigint      NOT NULL CHECK (n >= 1),
    size       bigint      NOT NULL CHECK (size >= 1),
    hash       bytea       NOT NULL CHECK (length(hash) = 32),
    note       text        NOT NULL CHECK (octet_length(note) BETWEEN 1 AND 8192),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (shop_id, n)
);
GRANT SELECT, INSERT ON audit_checkpoints TO stockade_app;

-- +goose StatementBegin
CREATE FUNCTION stockade_refuse_append_only_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_checkpoints_append_only
    BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION stockade_refuse_append_only_change();
CREATE TRIGGER audit_checkpoints_no_truncate
    BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION stockade_refuse_append_only_change();

ALTER TABLE audit_checkpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_checkpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_checkpoints
    USING (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid)
    WITH CHECK (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid);

-- +goose Down
DROP TABLE audit_checkpoints;
DROP FUNCTION stockade_refuse_append_only_change();
ALTER TABLE audit_events DROP COLUMN prev_hash, DROP COLUMN hash;
ALTER TABLE audit_heads DROP COLUMN prev_hash, DROP COLUMN hash;
