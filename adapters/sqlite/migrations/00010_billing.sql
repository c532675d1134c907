-- Placeholder: filled by the work on billing.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
