-- Credentials outside the wall, and bounded claim leases.
--
-- Same conventions as 00001..00014: run as the schema owner, which owns
-- every object created here.
--
-- 1. Password hashes (users' in passwords.hash, operators' in
-- operators.password_hash) are no longer readable by stockade_app: its
-- table-wide SELECT on both tables becomes a column grant that leaves the
-- hash out. A SQL injection as the application role can then neither
-- select a hash nor test one in a WHERE or RETURNING clause (each needs
-- SELECT on the column). Writes keep their grants: the repositories set and
-- replace hashes with INSERT … ON CONFLICT DO UPDATE SET hash = $2 (no read
-- of the column) and UPDATE … WHERE id = $1.
--
-- The server needs one hash at a time, at sign-in. It reads it through two
-- SECURITY DEFINER functions owned by the schema owner, search_path pinned,
-- EXECUTE granted to stockade_app only: stockade_password_hash (one user, by
-- ID) and stockade_operator_credentials (one operator, by e-mail). A
-- function by key alone would still hand every hash to
-- `SELECT stockade_password_hash(id) FROM users`, so each also insists that
-- the statement the client sent (current_query(), the top-level text, which
-- nested SQL such as query_to_xml cannot change) is exactly the repository's
-- fixed, parameterised statement: it takes one bound key and returns one row,
-- and no injected statement is that text. A client that rewrites statement
-- texts (say, a driver that inlines parameters, or a proxy that adds
-- comments) gets insufficient_privilege at sign-in.
--
-- 2. stockade_claim_jobs and stockade_claim_outbox accept a lease of at most
-- 24 hours (the runners use minutes): a caller could otherwise take every
-- due job or message for centuries. The bodies are 00006's and 00011's with
-- that bound added to the argument check.

-- +goose Up
REVOKE SELECT ON passwords FROM stockade_app;
GRANT SELECT (user_id, updated_at) ON passwords TO stockade_app;
REVOKE SELECT ON operators FROM stockade_app;
GRANT SELECT (id, email, name, created_at, disabled_at) ON operators TO stockade_app;

-- The repository's statement is exactly: SELECT stockade_password_hash($1)
-- Returns NULL when the user has no password.
-- +goose StatementBegin
CREATE FUNCTION stockade_password_hash(who uuid) RETURNS text
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    h text;
BEGIN
    IF pg_catalog.current_query() IS DISTINCT FROM 'SELECT stockade_password_hash($1)' THEN
        RAISE EXCEPTION 'stockade_password_hash: only the password repository''s own statement may read a hash'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT p.hash INTO h FROM public.passwords p WHERE p.user_id = who;
    RETURN h;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION stockade_password_hash(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stockade_password_hash(uuid) TO stockade_app;

-- The repository's statement is exactly:
-- SELECT * FROM stockade_operator_credentials($1)
-- addr must already be normalised (lower case); no row for an unknown one.
-- +goose StatementBegin
CREATE FUNCTION stockade_operator_credentials(addr text)
RETURNS TABLE (id uuid, email text, name text, created_at timestamptz, disabled_at timestamptz, password_hash text)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF pg_catalog.current_query() IS DISTINCT FROM 'SELECT * FROM stockade_operator_credentials($1)' THEN
        RAISE EXCEPTION 'stockade_operator_credentials: only the operator repository''s own statement may read a hash'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN QUERY
    SELECT o.id, o.email, o.name, o.created_at, o.disabled_at, o.password_hash
    FROM public.operators o WHERE o.email = addr;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION stockade_operator_credentials(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stockade_operator_credentials(text) TO stockade_app;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION stockade_claim_jobs(claim_at timestamptz, lim integer, lease interval, stamp timestamptz)
RETURNS SETOF jobs
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
SET enable_sort = off
SET jit = off
AS $$
BEGIN
    IF claim_at IS NULL OR stamp IS NULL OR lim IS NULL OR lim < 1 OR lim > 1000 OR lease IS NULL OR lease <= interval '0' OR lease > interval '24 hours' THEN
        RAISE EXCEPTION 'stockade_claim_jobs: want times, 1 <= lim <= 1000 and a lease of at most 24 hours'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Opens jobs_claim for the owner, until the end of the function (or of
    -- the transaction, should the function fail).
    PERFORM set_config('app.claim_jobs', 'on', true);

    UPDATE jobs SET state = 'dead', locked_until = NULL, last_error = 'lease expired', updated_at = stamp
    WHERE (shop_id, id) IN (
        SELECT shop_id, id FROM jobs
        WHERE state = 'running' AND locked_until <= claim_at AND attempts >= max_attempts
        FOR UPDATE SKIP LOCKED);

    RETURN QUERY
    WITH queued AS (
        SELECT shop_id, id, run_at FROM jobs
        WHERE state = 'queued' AND run_at <= claim_at
        ORDER BY run_at, id LIMIT lim
        FOR UPDATE SKIP LOCKED
    ), leased AS (
        SELECT shop_id, id, run_at FROM jobs
        WHERE state = 'running' AND locked_until <= claim_at AND attempts < max_attempts
        ORDER BY run_at, id LIMIT lim
        FOR UPDATE SKIP LOCKED
    ), picked AS (
        SELECT shop_id, id FROM (SELECT * FROM queued UNION ALL SELECT * FROM leased) due
        ORDER BY run_at, id LIMIT lim
    )
    UPDATE jobs j SET state = 'running', attempts = j.attempts + 1, locked_until = claim_at + lease, updated_at = stamp
    FROM picked p
    WHERE j.shop_id = p.shop_id AND j.id = p.id
    RETURNING j.*;

    PERFORM set_config('app.claim_jobs', '', true);
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION stockade_claim_outbox(claim_at timestamptz, lim integer, lease interval, stamp timestamptz)
RETURNS SETOF outbox_messages
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
SET enable_sort = off
SET jit = off
AS $$
BEGIN
    IF claim_at IS NULL OR stamp IS NULL OR lim IS NULL OR lim < 1 OR lim > 1000 OR lease IS NULL OR lease <= interval '0' OR lease > interval '24 hours' THEN
        RAISE EXCEPTION 'stockade_claim_outbox: want times, 1 <= lim <= 1000 and a lease of at most 24 hours'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM set_config('app.messaging_maintenance', 'on', true);

    UPDATE outbox_messages SET
        state = CASE WHEN dispatched = attempts THEN 'unknown' ELSE 'dead' END,
        last_error = CASE WHEN dispatched = attempts THEN 'lease expired during the provider call' ELSE 'lease expired' END,
        locked_until = NULL, updated_at = stamp
    WHERE (shop_id, id) IN (
        SELECT shop_id, id FROM outbox_messages
        WHERE state = 'sending' AND locked_until <= claim_at AND attempts >= max_attempts
        FOR UPDATE SKIP LOCKED);

    RETURN QUERY
    WITH queued AS (
        SELECT shop_id, id, run_at FROM outbox_messages
        WHERE state = 'queued' AND run_at <= claim_at
        ORDER BY run_at, id LIMIT lim
        FOR UPDATE SKIP LOCKED
    ), leased AS (
        SELECT shop_id, id, run_at FROM outbox_messages
        WHERE state = 'sending' AND locked_until <= claim_at AND attempts < max_attempts
        ORDER BY run_at, id LIMIT lim
        FOR UPDATE SKIP LOCKED
    ), picked AS (
        SELECT shop_id, id FROM (SELECT * FROM queued UNION ALL SELECT * FROM leased) due
        ORDER BY run_at, id LIMIT lim
    )
    UPDATE outbox_messages m SET state = 'sending', attempts = m.attempts + 1, locked_until = claim_at + lease, updated_at = stamp
    FROM picked p
    WHERE m.shop_id = p.shop_id AND m.id = p.id
    RETURNING m.*;

    PERFORM set_config('app.messaging_maintenance', '', true);
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION stockade_claim_jobs(claim_at timestamptz, lim integer, lease interval, stamp timestamptz)
RETURNS SETOF jobs
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
SET enable_sort = off
SET jit = off
AS $$
BEGIN
    IF claim_at IS NULL OR stamp IS NULL OR lim IS NULL OR lim < 1 OR lim > 1000 OR lease IS NULL OR lease <= interval '0' THEN
        RAISE EXCEPTION 'stockade_claim_jobs: want times, 1 <= lim <= 1000 and a positive lease'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Opens jobs_claim for the owner, until the end of the function (or of
    -- the transaction, should the function fail).
    PERFORM set_config('app.claim_jobs', 'on', true);

    UPDATE jobs SET state = 'dead', locked_until = NULL, last_error = 'lease expired', updated_at = stamp
    WHERE (shop_id, id) IN (
        SELECT shop_id, id FROM jobs
        WHERE state = 'running' AND locked_until <= claim_at AND attempts >= max_attempts
        FOR UPDATE SKIP LOCKED);

    RETURN QUERY
    WITH queued AS (
        SELECT shop_id, id, run_at FROM jobs
        WHERE state = 'queued' AND run_at <= claim_at
        ORDER BY run_at, id LIMIT lim
        FOR UPDATE SKIP LOCKED
    ), leased AS (
        SELECT shop_id, id, run_at FROM jobs
        WHERE state = 'running' AND locked_until <= claim_at AND attempts < max_attempts
        ORDER BY run_at, id LIMIT lim
        FOR UPDATE SKIP LOCKED
    ), picked AS (
        SELECT shop_id, id FROM (SELECT * FROM queued UNION ALL SELECT * FROM leased) due
        ORDER BY run_at, id LIMIT lim
    )
    UPDATE jobs j SET state = 'running', attempts = j.attempts + 1, locked_until = claim_at + lease, updated_at = stamp
    FROM picked p
    WHERE j.shop_id = p.shop_id AND j.id = p.id
    RETURNING j.*;

    PERFORM set_config('app.claim_jobs', '', true);
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION stockade_claim_outbox(claim_at timestamptz, lim integer, lease interval, stamp timestamptz)
RETURNS SETOF outbox_messages
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
SET enable_sort = off
SET jit = off
AS $$
BEGIN
    IF claim_at IS NULL OR stamp IS NULL OR lim IS NULL OR lim < 1 OR lim > 1000 OR lease IS NULL OR lease <= interval '0' THEN
        RAISE EXCEPTION 'stockade_claim_outbox: want times, 1 <= lim <= 1000 and a positive lease'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM set_config('app.messaging_maintenance', 'on', true);

    UPDATE outbox_messages SET
        state = CASE WHEN dispatched = attempts THEN 'unknown' ELSE 'dead' END,
        last_error = CASE WHEN dispatched = attempts THEN 'lease expired during the provider call' ELSE 'lease expired' END,
        locked_until = NULL, updated_at = stamp
    WHERE (shop_id, id) IN (
        SELECT shop_id, id FROM outbox_messages
        WHERE state = 'sending' AND locked_until <= claim_at AND attempts >= max_attempts
        FOR UPDATE SKIP LOCKED);

    RETURN QUERY
    WITH queued AS (
        SELECT shop_id, id, run_at FROM outbox_messages
        WHERE state = 'queued' AND run_at <= claim_at
        ORDER BY run_at, id LIMIT lim
        FOR UPDATE SKIP LOCKED
    ), leased AS (
        SELECT shop_id, id, run_at FROM outbox_messages
        WHERE state = 'sending' AND locked_until <= claim_at AND attempts < max_attempts
        ORDER BY run_at, id LIMIT lim
        FOR UPDATE SKIP LOCKED
    ), picked AS (
        SELECT shop_id, id FROM (SELECT * FROM queued UNION ALL SELECT * FROM leased) due
        ORDER BY run_at, id LIMIT lim
    )
    UPDATE outbox_messages m SET state = 'sending', attempts = m.attempts + 1, locked_until = claim_at + lease, updated_at = stamp
    FROM picked p
    WHERE m.shop_id = p.shop_id AND m.id = p.id
    RETURNING m.*;

    PERFORM set_config('app.messaging_maintenance', '', true);
END
$$;
-- +goose StatementEnd

DROP FUNCTION stockade_operator_credentials(text);
DROP FUNCTION stockade_password_hash(uuid);
REVOKE SELECT (id, email, name, created_at, disabled_at) ON operators FROM stockade_app;
GRANT SELECT ON operators TO stockade_app;
REVOKE SELECT (user_id, updated_at) ON passwords FROM stockade_app;
GRANT SELECT ON passwords TO stockade_app;
