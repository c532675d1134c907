-- stockade_tenant_table makes one of the embedding app's tables a tenant
-- table, exactly like Stockade's own: the owner calls it in an app
-- migration, after CREATE TABLE,
--
--     SELECT stockade_tenant_table('quotes');
--
-- It checks that the table has a NOT NULL uuid shop_id column that is part
-- of its primary key (so other tables can carry shop_id in composite
-- foreign keys), then turns on ENABLE + FORCE ROW LEVEL SECURITY, creates
-- the policy tenant_isolation with USING and WITH CHECK on the tenant
-- setting app.shop_id (the same expression as every Stockade tenant
-- table), and grants SELECT, INSERT, UPDATE, DELETE (and USAGE on the
-- table's own sequences) to stockade_app. It runs with the caller's rights
-- (the table's owner); the application role cannot execute it. Calling it
-- again is harmless.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION stockade_tenant_table(tbl regclass) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    col record;
    seq regclass;
BEGIN
    SELECT a.atttypid, a.attnotnull, a.attnum INTO col
    FROM pg_attribute a
    WHERE a.attrelid = tbl AND a.attname = 'shop_id' AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'stockade_tenant_table: table % has no shop_id column', tbl
            USING ERRCODE = 'invalid_table_definition';
    END IF;
    IF col.atttypid <> 'uuid'::regtype OR NOT col.attnotnull THEN
        RAISE EXCEPTION 'stockade_tenant_table: %.shop_id must be uuid NOT NULL', tbl
            USING ERRCODE = 'invalid_table_definition';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_constraint c
                   WHERE c.conrelid = tbl AND c.contype = 'p' AND col.attnum = ANY (c.conkey)) THEN
        RAISE EXCEPTION 'stockade_tenant_table: the primary key of % must include shop_id, e.g. PRIMARY KEY (shop_id, id)', tbl
            USING ERRCODE = 'invalid_table_definition';
    END IF;
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %s', tbl);
    EXECUTE format($f$CREATE POLICY tenant_isolation ON %s
        USING (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid)
        WITH CHECK (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid)$f$, tbl);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO stockade_app', tbl);
    FOR seq IN
        SELECT d.objid::regclass FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
        WHERE d.refobjid = tbl AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    LOOP
        EXECUTE format('GRANT USAGE ON SEQUENCE %s TO stockade_app', seq);
    END LOOP;
END
$$;
-- +goose StatementEnd
REVOKE EXECUTE ON FUNCTION stockade_tenant_table(regclass) FROM PUBLIC;

-- +goose Down
DROP FUNCTION stockade_tenant_table(regclass);
