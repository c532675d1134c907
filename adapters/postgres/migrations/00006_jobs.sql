-- Background jobs (TEN-8): a tenant table, and the one cross-shop path of
-- the job system, the claim.
--
-- Same conventions as 00001..00003 for the table: owned by the schema
-- owner, granted to stockade_app, ENABLE + FORCE ROW LEVEL SECURITY with
-- the tenant policy on the transaction-local GUC app.shop_id. Enqueue, Get,
-- List, Complete, Fail and Retry run inside InShop and see one shop's jobs
-- only, exactly like every other tenant table.
--
-- The claim must see every shop's due jobs, and the application role must
-- not. It is the function stockade_claim_jobs, SECURITY DEFINER, owned by
-- the role running this migration (the schema owner), with search_path
-- pinned so that no object planted by a caller can stand in for one it
-- names. Under FORCE ROW LEVEL SECURITY the owner is held to the policies
-- too, so the function runs under a second, permissive policy, jobs_claim,
-- which applies only TO the owner role, and only while current_user is the
-- owner itself and the function has turned the transaction-local
-- app.claim_jobs on (it turns it off again before it returns). Inside the function both hold; outside
-- it the owner is bound by tenant_isolation as on every tenant table, and
-- a role that was (wrongly) made a member of the owner role, and has not
-- SET ROLE to it, is not current_user = owner. Permissive policies are
-- OR-ed, so for the application role only tenant_isolation remains: a
-- plain SELECT or UPDATE on jobs still sees its unit of work's shop alone,
-- and setting app.claim_jobs itself changes nothing for it. EXECUTE on the
-- function is granted to stockade_app only (revoked from PUBLIC). The
-- function takes the rows it hands out with FOR UPDATE SKIP LOCKED, so
-- concurrent claimers (several runners, several processes) never receive
-- the same job, and never wait for one another.
--
-- What the function gives the application role is what the runner needs
-- and no more: it marks due jobs running (and jobs whose lease ran out after
-- their last attempt dead) and returns the claimed rows. The runner then
-- does each job's work, and marks it done or failed, inside InShop of the
-- job's shop, where tenant_isolation applies.
--
-- Only queued and running jobs are hot. The claim's indexes are partial on
-- those states, so done and dead rows, however many pile up, cost the
-- claim nothing. The claim walks jobs_due in order and stops after lim
-- rows; the function turns enable_sort off so that the planner does so
-- even when the statistics still describe an empty table (a burst of
-- enqueues arrives well before autoanalyze), instead of collecting and
-- sorting every due job on each claim. The remaining sorts (the running
-- jobs whose lease ran out, and at most 2 × lim picked rows) are small, but
-- the penalty enable_sort adds to their cost would set off JIT compilation
-- (hundreds of milliseconds a claim), so jit is off in the function too.

-- +goose Up
CREATE TABLE jobs (
    shop_id      uuid        NOT NULL REFERENCES shops (id),
    id           uuid        NOT NULL,
    kind         text        NOT NULL CHECK (octet_length(kind) BETWEEN 1 AND 64),
    payload      jsonb,
    state        text        NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    attempts     integer     NOT NULL CHECK (attempts >= 0),
    max_attempts integer     NOT NULL CHECK (max_attempts BETWEEN 1 AND 1000),
    run_at       timestamptz NOT NULL,
    locked_until timestamptz,
    last_error   text        NOT NULL DEFAULT '' CHECK (octet_length(last_error) <= 1000),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (shop_id, id),
    CHECK (attempts <= max_attempts),
    CHECK (state <> 'queued' OR attempts < max_attempts),
    CHECK ((state = 'running') = (locked_until IS NOT NULL))
);
-- The claim: due queued jobs in run_at order, and running jobs whose lease
-- ran out.
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_leased ON jobs (locked_until) WHERE state = 'running';
-- Serves List: a shop's jobs by creation.
CREATE INDEX jobs_by_created ON jobs (shop_id, created_at, id);
GRANT SELECT, INSERT, UPDATE ON jobs TO stockade_app;

ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE jobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON jobs
    USING (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid)
    WITH CHECK (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid);

-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format($p$CREATE POLICY jobs_claim ON jobs TO %1$I
        USING (current_user = %2$L AND current_setting('app.claim_jobs', true) = 'on')
        WITH CHECK (current_user = %2$L AND current_setting('app.claim_jobs', true) = 'on')$p$,
        current_user, current_user);
END
$$;
-- +goose StatementEnd

-- stockade_claim_jobs marks up to lim due jobs running with a lease until
-- claim_at + lease, stamped updated_at = stamp, and returns them (in no
-- particular order). Running jobs whose lease ran out after their last
-- attempt become dead ('lease expired') instead. See ports.JobQueue.
-- +goose StatementBegin
CREATE FUNCTION stockade_claim_jobs(claim_at timestamptz, lim integer, lease interval, stamp timestamptz)
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
REVOKE ALL ON FUNCTION stockade_claim_jobs(timestamptz, integer, interval, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stockade_claim_jobs(timestamptz, integer, interval, timestamptz) TO stockade_app;

-- +goose Down
DROP FUNCTION stockade_claim_jobs(timestamptz, integer, interval, timestamptz);
DROP TABLE jobs;
