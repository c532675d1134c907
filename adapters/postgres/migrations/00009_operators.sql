-- Placeholder: filled by the work on operators.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
