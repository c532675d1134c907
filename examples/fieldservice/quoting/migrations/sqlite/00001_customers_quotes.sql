-- The field-service app's tables. Every row carries shop_id, keys on
-- (shop_id, id), and a quote's customer is named with its shop, so the
-- database refuses a quote pointing at another shop's customer. Stockade's
-- wall covers both tables through tx.SQL() once they are declared with
-- sqlite.WithAppTables.

-- +goose Up
CREATE TABLE customers (
    shop_id TEXT NOT NULL REFERENCES shops (id),
    id      TEXT NOT NULL,
    name    TEXT NOT NULL CHECK (name <> ''),
    PRIMARY KEY (shop_id, id)
);

CREATE TABLE quotes (
    shop_id     TEXT    NOT NULL REFERENCES shops (id),
    id          TEXT    NOT NULL,
    customer_id TEXT    NOT NULL,
    title       TEXT    NOT NULL CHECK (title <> ''),
    cents       INTEGER NOT NULL CHECK (cents >= 0),
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, customer_id) REFERENCES customers (shop_id, id)
);

CREATE INDEX quotes_by_customer ON quotes (shop_id, customer_id);

-- +goose Down
DROP TABLE quotes;
DROP TABLE customers;
