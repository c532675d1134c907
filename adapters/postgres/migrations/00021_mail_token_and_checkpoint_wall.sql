-- Two more holes in the wall around the application role (issue 16,
-- items 4 and 6, the tables 00007 and 00016 left open).
--
-- Same conventions as 00001..00020: run as the schema owner, which owns
-- every object created here.
--
-- 1. Pending sign-up passwords. mail_tokens.password_hash holds the hash
-- of the password a sign-up chose until the mailed link is followed
-- (00016). stockade_app loses its table-wide SELECT on mail_tokens and
-- keeps a column grant without password_hash and without token_hash: a SQL
-- injection as the application role can neither select a pending hash nor
-- test one in a WHERE or RETURNING clause, nor list the keys it could
-- consume tokens by. INSERT (Create) and DELETE (DeleteExpired, which
-- reads expires_at only) keep their grants.
--
-- The server reads one pending hash at a time, when a link is followed,
-- through stockade_consume_mail_token: SECURITY DEFINER, owned by the
-- schema owner, search_path pinned, EXECUTE granted to stockade_app only.
-- It is Consume's old statement: it deletes every token of the purpose
-- mailed to the named token's address while the named token is live, and
-- returns the named token's row, and no other. Like 00018's readers it
-- insists that the statement the client sent (current_query(), the
-- top-level text, which nested SQL cannot change) is exactly the
-- repository's fixed, parameterised statement, so no injected statement
-- can drive it over rows or over hashes it computes: only a caller that
-- binds the SHA-256 of a mailed token, as the repository does, gets a row.
--
-- 2. Checkpoints that the log does not state. The application role could
-- INSERT any row into audit_checkpoints (00007), which never changes again:
-- one row with a junk signature, a head the log never had, or a number at
-- the end of the range makes `stockade audit checkpoint` and the server's
-- housekeeping refuse (or fail) to sign that shop's chain from then on.
-- stockade_app loses INSERT on audit_checkpoints and adds through
-- stockade_audit_checkpoint_add (SECURITY DEFINER, owned by the schema
-- owner, search_path pinned, EXECUTE to stockade_app only, the same
-- current_query() guard), which for the transaction's shop (app.shop_id)
-- numbers the checkpoint after the shop's last one and stores it only
-- when the shop's event at seq = size carries exactly the given hash (so
-- size is at most the head's) and size is no smaller than any earlier
-- checkpoint's (AUD-4: a shrinking checkpoint is tamper, never accepted).
-- The database cannot check the Ed25519 signature in the note: a client
-- holding the application role's password can still send the exact
-- statement with a consistent size and hash and a junk note, which
-- verification then reports as a bad signature.

-- +goose Up
REVOKE SELECT ON mail_tokens FROM stockade_app;
GRANT SELECT (purpose, email, user_id, name, created_at, expires_at) ON mail_tokens TO stockade_app;

-- The repository's statement is exactly:
-- SELECT * FROM stockade_consume_mail_token($1, $2, $3)
-- +goose StatementBegin
CREATE FUNCTION stockade_consume_mail_token(p_token_hash bytea, p_purpose text, p_now timestamptz)
RETURNS TABLE (token_hash bytea, purpose text, email text, user_id uuid, name text, password_hash text,
    created_at timestamptz, expires_at timestamptz)
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF pg_catalog.current_query() IS DISTINCT FROM 'SELECT * FROM stockade_consume_mail_token($1, $2, $3)' THEN
        RAISE EXCEPTION 'stockade_consume_mail_token: only the mail token repository''s own statement may consume a token'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN QUERY
    WITH gone AS (
        DELETE FROM public.mail_tokens m
        WHERE m.purpose = p_purpose AND m.email = (
            SELECT t.email FROM public.mail_tokens t
            WHERE t.token_hash = p_token_hash AND t.purpose = p_purpose AND t.expires_at > p_now)
        RETURNING m.token_hash, m.purpose, m.email, m.user_id, m.name, m.password_hash, m.created_at, m.expires_at)
    SELECT g.token_hash, g.purpose, g.email, g.user_id, g.name, g.password_hash, g.created_at, g.expires_at
    FROM gone g WHERE g.token_hash = p_token_hash;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION stockade_consume_mail_token(bytea, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stockade_consume_mail_token(bytea, text, timestamptz) TO stockade_app;

-- The repository's statement is exactly:
-- SELECT stockade_audit_checkpoint_add($1, $2, $3, $4)
-- It returns the stored checkpoint's number.
-- +goose StatementBegin
CREATE FUNCTION stockade_audit_checkpoint_add(p_size bigint, p_hash bytea, p_note text, p_at timestamptz)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    shop    uuid := NULLIF(current_setting('app.shop_id', true), '')::uuid;
    next_n  bigint;
    largest bigint;
    stated  bytea;
BEGIN
    IF pg_catalog.current_query() IS DISTINCT FROM 'SELECT stockade_audit_checkpoint_add($1, $2, $3, $4)' THEN
        RAISE EXCEPTION 'stockade_audit_checkpoint_add: only the checkpoint repository''s own statement may add a checkpoint'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF shop IS NULL THEN
        RAISE EXCEPTION 'stockade_audit_checkpoint_add: no shop in this transaction' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM public.shops s WHERE s.id = shop) THEN
        RAISE EXCEPTION 'stockade_audit_checkpoint_add: no such shop' USING ERRCODE = 'foreign_key_violation';
    END IF;
    -- One statement, one snapshot: two concurrent adds that both miss the
    -- other's row pick the same number, and the primary key refuses the
    -- second (so no smaller checkpoint slips in after a larger one).
    SELECT coalesce(max(c.n), 0) + 1, max(c.size),
        (SELECT e.hash FROM public.audit_events e WHERE e.shop_id = shop AND e.seq = p_size)
    INTO next_n, largest, stated
    FROM public.audit_checkpoints c WHERE c.shop_id = shop;
    IF stated IS NULL OR stated IS DISTINCT FROM p_hash OR p_size < coalesce(largest, 0) THEN
        RAISE EXCEPTION 'stockade_audit_checkpoint_add: a checkpoint must state the hash of the log''s event at its size and be no smaller than an earlier one'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'audit_checkpoint_follows_the_log';
    END IF;
    INSERT INTO public.audit_checkpoints (shop_id, n, size, hash, note, created_at)
    VALUES (shop, next_n, p_size, p_hash, p_note, p_at);
    RETURN next_n;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION stockade_audit_checkpoint_add(bigint, bytea, text, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stockade_audit_checkpoint_add(bigint, bytea, text, timestamptz) TO stockade_app;
REVOKE INSERT ON audit_checkpoints FROM stockade_app;

-- +goose Down
GRANT INSERT ON audit_checkpoints TO stockade_app;
DROP FUNCTION stockade_audit_checkpoint_add(bigint, bytea, text, timestamptz);
DROP FUNCTION stockade_consume_mail_token(bytea, text, timestamptz);
REVOKE SELECT (purpose, email, user_id, name, created_at, expires_at) ON mail_tokens FROM stockade_app;
GRANT SELECT ON mail_tokens TO stockade_app;
