-- Housekeeping deletes done jobs some days after they finish (JobRepo.
-- DeleteDone): the application role may delete its shop's jobs (row-level
-- security still binds it to the shop), and an index serves the deletion.

-- +goose Up
GRANT DELETE ON jobs TO stockade_app;
CREATE INDEX jobs_done ON jobs (shop_id, updated_at) WHERE state = 'done';

-- +goose Down
DROP INDEX jobs_done;
REVOKE DELETE ON jobs FROM stockade_app;
