-- Billing (BIL-1…BIL-4): a shop's billing state and the provider events it
-- has processed (tenant tables), and the billing directory (global).
--
-- Same conventions as the earlier migrations: owned by the schema owner,
-- granted to stockade_app, tenant tables with ENABLE + FORCE ROW LEVEL
-- SECURITY and the tenant policy on the transaction-local GUC app.shop_id.

-- +goose Up

-- The billing state. Its columns are the allow-list of BIL-1 — provider
-- references and what the UI shows, never card data — plus the shop, the
-- freshness of each part (the provider's time of the state stored, so an
-- older event never overwrites a newer one) and the row's own times. A test
-- compares this column list with the allow-list: adding a column here
-- means arguing for it there. The CHECKs refuse anything but a provider
-- ID's shape in the reference columns and four digits in card_last4, so
-- not even a bug can park a card number here.
CREATE TABLE billing_accounts (
    shop_id              uuid        NOT NULL PRIMARY KEY REFERENCES shops (id),
    customer_id          text        CHECK (customer_id ~ '^cus_[A-Za-z0-9_]{1,200}$'),
    subscription_id      text        CHECK (subscription_id ~ '^sub_[A-Za-z0-9_]{1,200}$'),
    subscription_status  text        CHECK (subscription_status IN ('incomplete', 'incomplete_expired', 'trialing',
                                        'active', 'past_due', 'canceled', 'unpaid', 'paused')),
    price_id             text        CHECK (price_id ~ '^(price|plan)_[A-Za-z0-9_]{1,200}$'),
    current_period_end   timestamptz,
    cancel_at_period_end boolean     NOT NULL DEFAULT false,
    card_brand           text        CHECK (card_brand ~ '^[a-z0-9_]{1,32}$'),
    card_last4           text        CHECK (card_last4 ~ '^[0-9]{4}$'),
    connect_account_id   text        CHECK (connect_account_id ~ '^acct_[A-Za-z0-9_]{1,200}$'),
    charges_enabled      boolean     NOT NULL DEFAULT false,
    payouts_enabled      boolean     NOT NULL DEFAULT false,
    details_submitted    boolean     NOT NULL DEFAULT false,
    subscription_as_of   timestamptz,
    card_as_of           timestamptz,
    connect_as_of        timestamptz,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    CHECK ((subscription_id IS NULL) = (subscription_status IS NULL)),
    CHECK ((card_brand IS NULL) = (card_last4 IS NULL))
);
GRANT SELECT, INSERT, UPDATE ON billing_accounts TO stockade_app;

ALTER TABLE billing_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON billing_accounts
    USING (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid)
    WITH CHECK (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid);

-- Processed provider events: a redelivered event finds its ID here and
-- changes nothing. The key carries shop_id like every tenant key, so one
-- shop can never learn which events another has seen.
CREATE TABLE billing_events (
    shop_id      uuid        NOT NULL REFERENCES shops (id),
    event_id     text        NOT NULL CHECK (event_id ~ '^evt_[A-Za-z0-9_]{1,200}$'),
    type         text        NOT NULL CHECK (octet_length(type) BETWEEN 1 AND 100),
    created      timestamptz NOT NULL,
    processed_at timestamptz NOT NULL,
    PRIMARY KEY (shop_id, event_id)
);
-- Serves DeleteEventsBefore.
CREATE INDEX billing_events_by_created ON billing_events (shop_id, created);
GRANT SELECT, INSERT, DELETE ON billing_events TO stockade_app;

ALTER TABLE billing_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON billing_events
    USING (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid)
    WITH CHECK (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid);

-- The billing directory lives in the global shop directory: a webhook names
-- a customer or a Connect account, never a shop, and must find the shop
-- before any tenant unit of work can be opened. A customer or account
-- belongs to at most one shop (the unique indexes), so an event can reach
-- one shop only. cancelled_at is the retention clock (BIL-4, LIFE-2): it is
-- global too, so that the shops past retention can be listed across shops.
-- The billing repository of a shop's unit of work writes these columns of
-- its own shop's row only.
ALTER TABLE shops
    ADD COLUMN stripe_customer_id text CHECK (stripe_customer_id ~ '^cus_[A-Za-z0-9_]{1,200}$'),
    ADD COLUMN stripe_account_id  text CHECK (stripe_account_id ~ '^acct_[A-Za-z0-9_]{1,200}$'),
    ADD COLUMN cancelled_at       timestamptz;
CREATE UNIQUE INDEX shops_by_stripe_customer ON shops (stripe_customer_id);
CREATE UNIQUE INDEX shops_by_stripe_account ON shops (stripe_account_id);
CREATE INDEX shops_by_cancelled ON shops (cancelled_at, id) WHERE cancelled_at IS NOT NULL;

-- +goose Down
DROP INDEX shops_by_cancelled;
DROP INDEX shops_by_stripe_account;
DROP INDEX shops_by_stripe_customer;
ALTER TABLE shops DROP COLUMN cancelled_at, DROP COLUMN stripe_account_id, DROP COLUMN stripe_customer_id;
DROP TABLE billing_events;
DROP TABLE billing_accounts;
