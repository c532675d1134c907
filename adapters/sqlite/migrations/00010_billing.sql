-- Billing (BIL-1…BIL-4): a shop's billing state and the provider events it
-- has processed (tenant tables), and the billing directory (columns of the
-- global shop directory). Times are INTEGER microseconds since the Unix
-- epoch (UTC); IDs are UUID text. The adapter binds shop_id in every
-- statement on the tenant tables (TEN-4). The Postgres migration of the
-- same number explains the choices; the columns are the same.

-- +goose Up
CREATE TABLE billing_accounts (
    shop_id              TEXT    NOT NULL PRIMARY KEY REFERENCES shops (id),
    customer_id          TEXT    CHECK (customer_id GLOB 'cus_?*' AND length(customer_id) <= 204),
    subscription_id      TEXT    CHECK (subscription_id GLOB 'sub_?*' AND length(subscription_id) <= 204),
    subscription_status  TEXT    CHECK (subscription_status IN ('incomplete', 'incomplete_expired', 'trialing',
                                    'active', 'past_due', 'canceled', 'unpaid', 'paused')),
    price_id             TEXT    CHECK ((price_id GLOB 'price_?*' OR price_id GLOB 'plan_?*') AND length(price_id) <= 206),
    current_period_end   INTEGER,
    cancel_at_period_end INTEGER NOT NULL DEFAULT 0 CHECK (cancel_at_period_end IN (0, 1)),
    card_brand           TEXT    CHECK (card_brand <> '' AND length(card_brand) <= 32 AND card_brand NOT GLOB '*[^a-z0-9_]*'),
    card_last4           TEXT    CHECK (card_last4 GLOB '[0-9][0-9][0-9][0-9]'),
    connect_account_id   TEXT    CHECK (connect_account_id GLOB 'acct_?*' AND length(connect_account_id) <= 205),
    charges_enabled      INTEGER NOT NULL DEFAULT 0 CHECK (charges_enabled IN (0, 1)),
    payouts_enabled      INTEGER NOT NULL DEFAULT 0 CHECK (payouts_enabled IN (0, 1)),
    details_submitted    INTEGER NOT NULL DEFAULT 0 CHECK (details_submitted IN (0, 1)),
    subscription_as_of   INTEGER,
    card_as_of           INTEGER,
    connect_as_of        INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    CHECK ((subscription_id IS NULL) = (subscription_status IS NULL)),
    CHECK ((card_brand IS NULL) = (card_last4 IS NULL))
) STRICT;

CREATE TABLE billing_events (
    shop_id      TEXT    NOT NULL REFERENCES shops (id),
    event_id     TEXT    NOT NULL CHECK (event_id GLOB 'evt_?*' AND length(event_id) <= 204),
    type         TEXT    NOT NULL CHECK (type <> '' AND length(CAST(type AS BLOB)) <= 100),
    created      INTEGER NOT NULL,
    processed_at INTEGER NOT NULL,
    PRIMARY KEY (shop_id, event_id)
) STRICT;
CREATE INDEX billing_events_by_created ON billing_events (shop_id, created);

-- The billing directory and the retention clock, in the shop directory.
ALTER TABLE shops ADD COLUMN stripe_customer_id TEXT CHECK (stripe_customer_id GLOB 'cus_?*');
ALTER TABLE shops ADD COLUMN stripe_account_id TEXT CHECK (stripe_account_id GLOB 'acct_?*');
ALTER TABLE shops ADD COLUMN cancelled_at INTEGER;
CREATE UNIQUE INDEX shops_by_stripe_customer ON shops (stripe_customer_id);
CREATE UNIQUE INDEX shops_by_stripe_account ON shops (stripe_account_id);
CREATE INDEX shops_by_cancelled ON shops (cancelled_at, id) WHERE cancelled_at IS NOT NULL;

-- +goose Down
DROP INDEX shops_by_cancelled;
DROP INDEX shops_by_stripe_account;
DROP INDEX shops_by_stripe_customer;
ALTER TABLE shops DROP COLUMN cancelled_at;
ALTER TABLE shops DROP COLUMN stripe_account_id;
ALTER TABLE shops DROP COLUMN stripe_customer_id;
DROP TABLE billing_events;
DROP TABLE billing_accounts;
