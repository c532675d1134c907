-- Housekeeping deletes done jobs some days after they finish (JobRepo.
-- DeleteDone); an index serves the deletion.

-- +goose Up
CREATE INDEX jobs_done ON jobs (shop_id, updated_at) WHERE state = 'done';

-- +goose Down
DROP INDEX jobs_done;
