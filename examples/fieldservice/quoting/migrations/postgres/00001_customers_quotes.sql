-- The field-service app's tables. Every row carries shop_id, keys on
-- (shop_id, id), and a quote's customer is named with its shop, so the
-- database refuses a quote pointing at another shop's customer.
-- stockade_tenant_table turns on row-level security (ENABLE + FORCE, USING
-- + WITH CHECK on the tenant setting) and grants the app role.

-- +goose Up
CREATE TABLE customers (
    shop_id uuid NOT NULL REFERENCES shops (id),
    id      uuid NOT NULL,
    name    text NOT NULL CHECK (name <> ''),
    PRIMARY KEY (shop_id, id)
);
SELECT stockade_tenant_table('customers');

CREATE TABLE quotes (
    shop_id     uuid   NOT NULL REFERENCES shops (id),
    id          uuid   NOT NULL,
    customer_id uuid   NOT NULL,
    title       text   NOT NULL CHECK (title <> ''),
    cents       bigint NOT NULL CHECK (cents >= 0),
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, customer_id) REFERENCES customers (shop_id, id)
);
CREATE INDEX quotes_by_customer ON quotes (shop_id, customer_id);
SELECT stockade_tenant_table('quotes');

-- +goose Down
DROP TABLE quotes;
DROP TABLE customers;
