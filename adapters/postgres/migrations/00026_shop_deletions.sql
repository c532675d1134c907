-- Shop deletion (LIFE-2 retention, LIFE-3 erasure): the platform-level
-- record of a shop's deletion, written when it starts, carrying its
-- progress, and kept after the shop's rows (its directory row included)
-- are gone. A global table without row-level security and without a
-- foreign key to shops, whose row it outlives.
--
-- The deletion runs as the application role, in units of work bound to
-- the shop (app.shop_id), so row-level security confines every statement
-- to that shop. Most tenant tables already grant DELETE to the app role.
-- Those that do not (the audit chain, impersonations, billing_accounts,
-- messaging_settings, auth_mail) and the directory row are deleted
-- through two SECURITY DEFINER functions owned by the schema owner, with
-- search_path pinned and a current_query() guard like the existing ones:
--
--   stockade_delete_shop_rows(tbl, lim) deletes up to lim rows of one of
--   those tables, of the transaction's shop only, and only while the shop
--   has an unfinished deletion record;
--   stockade_finish_shop_deletion() deletes the shop's directory row and
--   stamps the record finished, once its tenant rows are gone.
--
-- The audit chain's triggers keep refusing UPDATE, DELETE and TRUNCATE for
-- every role, with one exception: a DELETE run by the schema owner's
-- functions (current_user is the owner while the session's user is not)
-- of a shop that has a deletion record. The record cannot be deleted
-- (trigger and no grant) and its who, why and when cannot be changed, so
-- a chain can only vanish with a kept record of why and where it ended.

-- +goose Up
CREATE TABLE shop_deletions (
    deleted_shop_id uuid      NOT NULL PRIMARY KEY,
    org_id       uuid        NOT NULL,
    slug         text        NOT NULL,
    reason       text        NOT NULL CHECK (reason IN ('retention', 'erasure')),
    actor        text        NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
    note         text        NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    cancelled_at timestamptz,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    objects      bigint      NOT NULL DEFAULT 0 CHECK (objects >= 0),
    rows         jsonb       NOT NULL DEFAULT '{}',
    chain_size   bigint      NOT NULL DEFAULT 0 CHECK (chain_size >= 0),
    chain_hash   bytea,
    checkpoint   text        NOT NULL DEFAULT ''
);
GRANT SELECT, INSERT, UPDATE ON shop_deletions TO stockade_app;

-- +goose StatementBegin
CREATE FUNCTION stockade_refuse_shop_deletion_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.deleted_shop_id = OLD.deleted_shop_id AND NEW.reason = OLD.reason AND NEW.actor = OLD.actor
        AND NEW.note = OLD.note AND NEW.started_at = OLD.started_at
        AND (OLD.finished_at IS NULL OR NEW.finished_at IS NOT DISTINCT FROM OLD.finished_at) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'shop_deletions: a deletion record is kept, and who, why and when are fixed'
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER shop_deletions_kept
    BEFORE UPDATE OR DELETE ON shop_deletions
    FOR EACH ROW EXECUTE FUNCTION stockade_refuse_shop_deletion_change();
CREATE TRIGGER shop_deletions_no_truncate
    BEFORE TRUNCATE ON shop_deletions
    FOR EACH STATEMENT EXECUTE FUNCTION stockade_refuse_shop_deletion_change();

-- The audit chain's refusals, with the one exception above. The owner's
-- name is spliced in at migration time, as the maintenance policies do.
-- +goose StatementBegin
DO $do$
BEGIN
    EXECUTE format($f$CREATE OR REPLACE FUNCTION stockade_refuse_audit_change() RETURNS trigger
    LANGUAGE plpgsql AS $b$
    BEGIN
        IF TG_OP = 'DELETE' AND current_user = %1$L AND session_user <> %1$L
            AND EXISTS (SELECT 1 FROM shop_deletions d WHERE d.deleted_shop_id = OLD.shop_id) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
    END
    $b$$f$, current_user);
    EXECUTE format($f$CREATE OR REPLACE FUNCTION stockade_refuse_append_only_change() RETURNS trigger
    LANGUAGE plpgsql AS $b$
    BEGIN
        IF TG_OP = 'DELETE' AND current_user = %1$L AND session_user <> %1$L
            AND EXISTS (SELECT 1 FROM shop_deletions d WHERE d.deleted_shop_id = OLD.shop_id) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION '%% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
    END
    $b$$f$, current_user);
    EXECUTE format($f$CREATE OR REPLACE FUNCTION stockade_refuse_audit_head_change() RETURNS trigger
    LANGUAGE plpgsql AS $b$
    BEGIN
        IF TG_OP = 'DELETE' AND current_user = %1$L AND session_user <> %1$L
            AND EXISTS (SELECT 1 FROM shop_deletions d WHERE d.deleted_shop_id = OLD.shop_id) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_heads: the prefix from before the chain is fixed, and a head is never deleted'
            USING ERRCODE = 'insufficient_privilege';
    END
    $b$$f$, current_user);
END
$do$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION stockade_delete_shop_rows(tbl text, lim integer)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    shop uuid := NULLIF(current_setting('app.shop_id', true), '')::uuid;
    n integer;
BEGIN
    IF pg_catalog.current_query() IS DISTINCT FROM 'SELECT stockade_delete_shop_rows($1, $2)' THEN
        RAISE EXCEPTION 'stockade_delete_shop_rows: called from another statement' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF shop IS NULL THEN
        RAISE EXCEPTION 'stockade_delete_shop_rows: no shop in this transaction' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF lim IS NULL OR lim < 1 THEN
        RAISE EXCEPTION 'stockade_delete_shop_rows: want a positive limit' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF tbl IS NULL OR tbl NOT IN ('impersonations', 'billing_accounts', 'messaging_settings', 'auth_mail',
            'audit_checkpoints', 'audit_events', 'audit_heads') THEN
        RAISE EXCEPTION 'stockade_delete_shop_rows: not a table it deletes from' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM shop_deletions WHERE deleted_shop_id = shop AND finished_at IS NULL) THEN
        RAISE EXCEPTION 'stockade_delete_shop_rows: the shop has no running deletion' USING ERRCODE = 'insufficient_privilege';
    END IF;
    EXECUTE format('DELETE FROM %I WHERE ctid = ANY(ARRAY(SELECT ctid FROM %I WHERE shop_id = $1 LIMIT $2))', tbl, tbl)
        USING shop, lim;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION stockade_delete_shop_rows(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stockade_delete_shop_rows(text, integer) TO stockade_app;

-- +goose StatementBegin
CREATE FUNCTION stockade_finish_shop_deletion(at timestamptz)
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    shop uuid := NULLIF(current_setting('app.shop_id', true), '')::uuid;
BEGIN
    IF pg_catalog.current_query() IS DISTINCT FROM 'SELECT stockade_finish_shop_deletion($1)' THEN
        RAISE EXCEPTION 'stockade_finish_shop_deletion: called from another statement' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF shop IS NULL OR at IS NULL THEN
        RAISE EXCEPTION 'stockade_finish_shop_deletion: no shop in this transaction, or no time' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM shop_deletions WHERE deleted_shop_id = shop) THEN
        RAISE EXCEPTION 'stockade_finish_shop_deletion: the shop has no deletion' USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- The foreign keys of every tenant table refuse this while a row of
    -- the shop is left.
    DELETE FROM shops WHERE id = shop;
    UPDATE shop_deletions SET finished_at = at WHERE deleted_shop_id = shop AND finished_at IS NULL;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION stockade_finish_shop_deletion(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stockade_finish_shop_deletion(timestamptz) TO stockade_app;

-- +goose Down
DROP FUNCTION stockade_finish_shop_deletion(timestamptz);
DROP FUNCTION stockade_delete_shop_rows(text, integer);
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION stockade_refuse_audit_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION stockade_refuse_append_only_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION stockade_refuse_audit_head_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_heads: the prefix from before the chain is fixed, and a head is never deleted'
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
DROP TABLE shop_deletions;
DROP FUNCTION stockade_refuse_shop_deletion_change();
