-- Background jobs (TEN-8): a tenant table. Enqueue, Get, List, Complete,
-- Fail and Retry bind the unit of work's shop in every statement (TEN-4).
-- The claim (ports.JobQueue) is the one statement that reads across shops:
-- the adapter runs it on the single writer connection inside BEGIN
-- IMMEDIATE, so two claimers are serialised and never receive the same
-- job.
--
-- Only queued and running jobs are hot. The claim's indexes are partial on
-- those states, so done and dead rows, however many pile up, cost the
-- claim nothing.

-- +goose Up
CREATE TABLE jobs (
    shop_id      TEXT    NOT NULL REFERENCES shops (id),
    id           TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (length(CAST(kind AS BLOB)) BETWEEN 1 AND 64),
    payload      TEXT    CHECK (payload IS NULL OR json_valid(payload)),
    state        TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    attempts     INTEGER NOT NULL CHECK (attempts >= 0),
    max_attempts INTEGER NOT NULL CHECK (max_attempts BETWEEN 1 AND 1000),
    run_at       INTEGER NOT NULL,
    locked_until INTEGER,
    last_error   TEXT    NOT NULL DEFAULT '' CHECK (length(CAST(last_error AS BLOB)) <= 1000),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (shop_id, id),
    CHECK (attempts <= max_attempts),
    CHECK (state <> 'queued' OR attempts < max_attempts),
    CHECK ((state = 'running') = (locked_until IS NOT NULL))
) STRICT;
-- The claim: due queued jobs in run_at order, and running jobs whose lease
-- ran out.
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_leased ON jobs (locked_until) WHERE state = 'running';
-- Serves List: a shop's jobs by creation.
CREATE INDEX jobs_by_created ON jobs (shop_id, created_at, id);

-- +goose Down
DROP TABLE jobs;
