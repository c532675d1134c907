-- Placeholder: filled by the work on messaging.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
