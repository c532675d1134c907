-- +goose Up
-- A user-wide session epoch: sessions created before it stop working in
-- every shop (password change or reset), without a cross-tenant delete.
ALTER TABLE users ADD COLUMN sessions_valid_after timestamptz;

-- +goose Down
ALTER TABLE users DROP COLUMN sessions_valid_after;
