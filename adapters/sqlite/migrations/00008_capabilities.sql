-- Placeholder: filled by the work on capabilities.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
