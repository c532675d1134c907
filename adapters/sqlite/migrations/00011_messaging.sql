-- Messaging (MSG-4, MSG-6): contacts and their consent, the transactional
-- outbox, inbound provider events already applied, and each shop's
-- messaging settings. All are tenant tables: the adapter binds shop_id in
-- every statement (TEN-4), except the outbox claim and the two directory
-- lookups, the only statements that read across shops (the claim runs on
-- the single writer connection inside BEGIN IMMEDIATE, so two claimers
-- never receive the same message).
-- Times are INTEGER microseconds since the Unix epoch (UTC); IDs are UUID
-- text.

-- +goose Up
-- One phone number and one address belong to at most one contact of a
-- shop (NULLs do not collide), so consent reaches across channels.
CREATE TABLE messaging_contacts (
    shop_id    TEXT    NOT NULL REFERENCES shops (id),
    id         TEXT    NOT NULL,
    phone      TEXT    CHECK (phone IS NULL OR (phone GLOB '+[1-9]*' AND length(phone) BETWEEN 8 AND 16)),
    email      TEXT    CHECK (email IS NULL OR (email <> '' AND length(CAST(email AS BLOB)) <= 254)),
    time_zone  TEXT    NOT NULL DEFAULT '' CHECK (length(time_zone) <= 64),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, phone),
    UNIQUE (shop_id, email),
    CHECK (phone IS NOT NULL OR email IS NOT NULL)
) STRICT;

-- The latest state of each topic a contact has a record for.
CREATE TABLE messaging_consent (
    shop_id    TEXT    NOT NULL,
    contact_id TEXT    NOT NULL,
    topic      TEXT    NOT NULL CHECK (topic IN ('sms', 'email', 'marketing')),
    opted_out  INTEGER NOT NULL CHECK (opted_out IN (0, 1)),
    source     TEXT    NOT NULL CHECK (source IN ('keyword', 'link', 'admin', 'api', 'provider')),
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (shop_id, contact_id, topic),
    FOREIGN KEY (shop_id, contact_id) REFERENCES messaging_contacts (shop_id, id)
) STRICT;

-- The outbox. payload is the message's content as JSON; only queued and
-- sending messages are hot, and the claim's indexes are partial on those
-- states.
CREATE TABLE outbox_messages (
    shop_id         TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    contact_id      TEXT    NOT NULL,
    channel         TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
    category        TEXT    NOT NULL CHECK (category IN ('transactional', 'marketing')),
    recipient       TEXT    NOT NULL CHECK (recipient <> ''),
    payload         TEXT    NOT NULL CHECK (json_valid(payload)),
    state           TEXT    NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'dead', 'cancelled', 'unknown')),
    attempts        INTEGER NOT NULL CHECK (attempts >= 0),
    max_attempts    INTEGER NOT NULL CHECK (max_attempts BETWEEN 1 AND 1000),
    dispatched      INTEGER NOT NULL DEFAULT 0 CHECK (dispatched BETWEEN 0 AND attempts),
    run_at          INTEGER NOT NULL,
    locked_until    INTEGER,
    last_error      TEXT    NOT NULL DEFAULT '' CHECK (length(CAST(last_error AS BLOB)) <= 1000),
    held_for        TEXT    NOT NULL DEFAULT '' CHECK (length(held_for) <= 100),
    provider_id     TEXT,
    provider_status TEXT    NOT NULL DEFAULT '' CHECK (length(provider_status) <= 64),
    sent_at         INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, contact_id) REFERENCES messaging_contacts (shop_id, id),
    CHECK (attempts <= max_attempts),
    CHECK (state <> 'queued' OR attempts < max_attempts),
    CHECK ((state = 'sending') = (locked_until IS NOT NULL))
) STRICT;
CREATE INDEX outbox_due ON outbox_messages (run_at, id) WHERE state = 'queued';
CREATE INDEX outbox_leased ON outbox_messages (locked_until) WHERE state = 'sending';
CREATE INDEX outbox_by_created ON outbox_messages (shop_id, created_at, id);
CREATE INDEX outbox_by_contact ON outbox_messages (shop_id, contact_id, created_at);
CREATE INDEX outbox_by_provider ON outbox_messages (channel, provider_id) WHERE provider_id IS NOT NULL;

-- Inbound provider events applied, by the provider's event ID: a replay
-- finds its row and changes nothing.
CREATE TABLE messaging_events (
    shop_id     TEXT    NOT NULL REFERENCES shops (id),
    provider    TEXT    NOT NULL CHECK (length(provider) BETWEEN 1 AND 255),
    event_id    TEXT    NOT NULL CHECK (length(event_id) BETWEEN 1 AND 255),
    received_at INTEGER NOT NULL,
    PRIMARY KEY (shop_id, provider, event_id)
) STRICT;

-- One row per shop that saved its settings. A Twilio Messaging Service
-- belongs to one shop: inbound SMS are routed by it.
CREATE TABLE messaging_settings (
    shop_id               TEXT    NOT NULL PRIMARY KEY REFERENCES shops (id),
    messaging_service_sid TEXT    UNIQUE CHECK (messaging_service_sid IS NULL OR messaging_service_sid <> ''),
    help_text             TEXT    NOT NULL DEFAULT '' CHECK (length(CAST(help_text AS BLOB)) <= 1600),
    send_from             INTEGER NOT NULL DEFAULT 0 CHECK (send_from BETWEEN 0 AND 1439),
    send_until            INTEGER NOT NULL DEFAULT 0 CHECK (send_until BETWEEN 0 AND 1440),
    time_zone             TEXT    NOT NULL DEFAULT '' CHECK (length(time_zone) <= 64),
    updated_at            INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE messaging_settings;
DROP TABLE messaging_events;
DROP TABLE outbox_messages;
DROP TABLE messaging_consent;
DROP TABLE messaging_contacts;
