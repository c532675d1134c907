-- The audit log accepts only appends that continue its chain, and the
-- prefix from before the chain is fixed once (AUD-4, issue 16).
--
-- The application role loses INSERT on audit_events and INSERT and UPDATE
-- on audit_heads. It appends through one function, stockade_audit_append,
-- SECURITY DEFINER and owned by the schema owner with search_path pinned:
-- for the shop of the transaction (app.shop_id, which row-level security
-- enforces too) it moves the head on by one under the head's row lock,
-- computes the event's hash itself from the fields it stores, over the
-- canonical encoding of ports.AuditHash (the porttest suite checks that it
-- agrees with the Go encoding byte for byte), and inserts the event linked
-- to the old head. A row the application role writes is thus always the
-- head's next event, links to the head's hash and hashes as stored; a raw
-- INSERT is refused, so no row can sit where the next append goes.
--
-- audit_heads.unhashed is the number of a shop's first events that come
-- from before the chain (migration 00007): computed here once, for the
-- shops that exist, and zero for every shop created since. Verification
-- reports any unhashed event past it. A trigger refuses to change it, to
-- insert a head with any other value, and to delete a head, for every role.

-- +goose Up
ALTER TABLE audit_heads ADD COLUMN unhashed bigint NOT NULL DEFAULT 0 CHECK (unhashed >= 0);

-- The owner is bound by FORCE ROW LEVEL SECURITY: lift it for this update
-- only (the migration's transaction).
ALTER TABLE audit_heads NO FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_events NO FORCE ROW LEVEL SECURITY;
UPDATE audit_heads h SET unhashed = coalesce(
    (SELECT min(e.seq) - 1 FROM audit_events e WHERE e.shop_id = h.shop_id AND e.hash IS NOT NULL),
    h.seq);
ALTER TABLE audit_heads FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;

-- +goose StatementBegin
CREATE FUNCTION stockade_refuse_audit_head_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_heads: the prefix from before the chain is fixed, and a head is never deleted'
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_heads_prefix_fixed
    BEFORE UPDATE ON audit_heads
    FOR EACH ROW WHEN (NEW.unhashed IS DISTINCT FROM OLD.unhashed)
    EXECUTE FUNCTION stockade_refuse_audit_head_change();
CREATE TRIGGER audit_heads_prefix_zero
    BEFORE INSERT ON audit_heads
    FOR EACH ROW WHEN (NEW.unhashed <> 0)
    EXECUTE FUNCTION stockade_refuse_audit_head_change();
CREATE TRIGGER audit_heads_no_delete
    BEFORE DELETE ON audit_heads
    FOR EACH ROW EXECUTE FUNCTION stockade_refuse_audit_head_change();
CREATE TRIGGER audit_heads_no_truncate
    BEFORE TRUNCATE ON audit_heads
    FOR EACH STATEMENT EXECUTE FUNCTION stockade_refuse_audit_head_change();

-- str and opt of the canonical encoding (ports.AuditHash): a 4-byte
-- big-endian byte length and the UTF-8 bytes; one byte 0 for NULL, or 1
-- and the JSON text as stored. Called from stockade_audit_append, whose
-- pinned search_path they run under (no SET, so they can be inlined).
-- +goose StatementBegin
CREATE FUNCTION stockade_audit_str(s text) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT int4send(length(convert_to(s, 'UTF8'))) || convert_to(s, 'UTF8') $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION stockade_audit_opt(j json) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN j IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || stockade_audit_str(j::text) END $$;
-- +goose StatementEnd

-- stockade_audit_append appends one event to the log of the transaction's
-- shop and returns its seq, prev_hash and hash. Unique and foreign-key
-- violations (a repeated event ID, an unknown shop) surface as usual.
-- +goose StatementBegin
CREATE FUNCTION stockade_audit_append(
    p_id uuid, p_at timestamptz, p_actor text, p_impersonator text, p_action text, p_target text,
    p_outcome text, p_before json, p_after json, p_ip text, p_user_agent text, p_request_id text,
    OUT seq bigint, OUT prev_hash bytea, OUT hash bytea)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    shop uuid := NULLIF(current_setting('app.shop_id', true), '')::uuid;
    pre  bytea;
    body bytea;
BEGIN
    IF shop IS NULL THEN
        RAISE EXCEPTION 'stockade_audit_append: no shop in this transaction' USING ERRCODE = 'insufficient_privilege';
    END IF;
    pre := convert_to('stockade-audit-v1', 'UTF8') || uuid_send(shop);
    -- Unix time in microseconds, exact whatever extract() returns.
    body := uuid_send(p_id)
        || int8send(extract(epoch FROM date_trunc('second', p_at))::bigint * 1000000
                    + extract(microseconds FROM p_at)::bigint % 1000000)
        || stockade_audit_str(p_actor) || stockade_audit_str(p_impersonator)
        || stockade_audit_str(p_action) || stockade_audit_str(p_target) || stockade_audit_str(p_outcome)
        || stockade_audit_opt(p_before) || stockade_audit_opt(p_after)
        || stockade_audit_str(p_ip) || stockade_audit_str(p_user_agent) || stockade_audit_str(p_request_id);
    IF body IS NULL THEN
        RAISE EXCEPTION 'stockade_audit_append: a field is missing' USING ERRCODE = 'not_null_violation';
    END IF;
    WITH head AS (
        INSERT INTO audit_heads AS h (shop_id, seq, prev_hash, hash)
        VALUES (shop, 1, NULL, sha256(pre || int8send(1) || body || decode(repeat('00', 32), 'hex')))
        ON CONFLICT (shop_id) DO UPDATE SET
            seq = h.seq + 1,
            prev_hash = h.hash,
            hash = sha256(pre || int8send(h.seq + 1) || body || coalesce(h.hash, decode(repeat('00', 32), 'hex')))
        RETURNING h.seq, h.prev_hash, h.hash)
    INSERT INTO audit_events AS e (shop_id, seq, id, at, actor, impersonator, action, target, outcome,
        before, after, ip, user_agent, request_id, prev_hash, hash)
    SELECT shop, head.seq, p_id, p_at, p_actor, p_impersonator, p_action, p_target, p_outcome,
        p_before, p_after, p_ip, p_user_agent, p_request_id, head.prev_hash, head.hash FROM head
    RETURNING e.seq, e.prev_hash, e.hash INTO seq, prev_hash, hash;
END
$$;
-- +goose StatementEnd

REVOKE ALL ON FUNCTION stockade_audit_append(uuid, timestamptz, text, text, text, text, text, json, json, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stockade_audit_append(uuid, timestamptz, text, text, text, text, text, json, json, text, text, text) TO stockade_app;
REVOKE INSERT ON audit_events FROM stockade_app;
REVOKE INSERT, UPDATE ON audit_heads FROM stockade_app;

-- +goose Down
GRANT INSERT ON audit_events TO stockade_app;
GRANT INSERT, UPDATE ON audit_heads TO stockade_app;
DROP FUNCTION stockade_audit_append(uuid, timestamptz, text, text, text, text, text, json, json, text, text, text);
DROP FUNCTION stockade_audit_opt(json);
DROP FUNCTION stockade_audit_str(text);
DROP TRIGGER audit_heads_no_truncate ON audit_heads;
DROP TRIGGER audit_heads_no_delete ON audit_heads;
DROP TRIGGER audit_heads_prefix_zero ON audit_heads;
DROP TRIGGER audit_heads_prefix_fixed ON audit_heads;
DROP FUNCTION stockade_refuse_audit_head_change();
ALTER TABLE audit_heads DROP COLUMN unhashed;
