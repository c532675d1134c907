-- The auth mail outbox (AUTH-4, TEN-9, OPS-1): sign-in links, invitations
-- and mailbox proofs, enqueued in the unit of work that mints the token
-- they carry and delivered by a worker through the configured e-mail
-- provider. A global table: mail enqueued in a Global unit of work has no
-- shop (shop_id NULL); mail enqueued in InShop carries its shop, which the
-- adapter binds from the unit of work. Only the worker's claim, outcome
-- and clean-up statements read across shops (the claim runs on the single
-- writer connection inside BEGIN IMMEDIATE, so two claimers never receive
-- the same mail).
--
-- sealed is the body as core sealed it (AES-256-GCM): no usable token is
-- stored in clear. It is wiped (NULL) when the mail ends, sent or dead.
-- Times are INTEGER microseconds since the Unix epoch (UTC); IDs are UUID
-- text.

-- +goose Up
CREATE TABLE auth_mail (
    id           TEXT    NOT NULL PRIMARY KEY,
    shop_id      TEXT    REFERENCES shops (id),
    kind         TEXT    NOT NULL CHECK (kind IN ('magic_link', 'invitation', 'verify', 'reset', 'org_invitation')),
    recipient    TEXT    NOT NULL CHECK (recipient <> '' AND length(CAST(recipient AS BLOB)) <= 254),
    subject      TEXT    NOT NULL CHECK (subject <> '' AND length(CAST(subject AS BLOB)) <= 998),
    sealed       BLOB    CHECK (sealed IS NULL OR length(sealed) BETWEEN 1 AND 65536),
    state        TEXT    NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'dead')),
    attempts     INTEGER NOT NULL CHECK (attempts >= 0),
    max_attempts INTEGER NOT NULL CHECK (max_attempts BETWEEN 1 AND 1000),
    run_at       INTEGER NOT NULL,
    locked_until INTEGER,
    last_error   TEXT    NOT NULL DEFAULT '' CHECK (length(CAST(last_error AS BLOB)) <= 1000),
    provider_id  TEXT    NOT NULL DEFAULT '' CHECK (length(provider_id) <= 255),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    CHECK (attempts <= max_attempts),
    CHECK (state <> 'queued' OR attempts < max_attempts),
    CHECK ((state = 'sending') = (locked_until IS NOT NULL)),
    CHECK ((state IN ('queued', 'sending')) = (sealed IS NOT NULL))
) STRICT;
CREATE INDEX auth_mail_due ON auth_mail (run_at, id) WHERE state = 'queued';
CREATE INDEX auth_mail_leased ON auth_mail (locked_until) WHERE state = 'sending';
CREATE INDEX auth_mail_ended ON auth_mail (updated_at) WHERE state IN ('sent', 'dead');

-- +goose Down
DROP TABLE auth_mail;
