-- Owners' warnings before a cancelled shop is deleted (LIFE-2).
--
-- retention_warnings records each warning point (days before the deletion)
-- that was mailed for one cancellation of a shop, keyed by the
-- cancellation's time: written in the unit of work that enqueues the mail
-- (auth_mail) and audits it, so a rerun or a crash after the commit never
-- sends a point twice, and a later cancellation (a new cancelled_at)
-- starts afresh. A tenant table, deleted with the shop. Times are INTEGER
-- microseconds since the Unix epoch (UTC).
--
-- auth_mail gains the kind 'retention_warning'. SQLite cannot change a
-- CHECK constraint, so auth_mail is rebuilt with the same columns, checks
-- and indexes; nothing references auth_mail and no trigger is on it, so
-- the swap is safe with foreign keys on.

-- +goose Up
CREATE TABLE retention_warnings (
    shop_id      TEXT    NOT NULL REFERENCES shops (id),
    cancelled_at INTEGER NOT NULL,
    days_before  INTEGER NOT NULL CHECK (days_before BETWEEN 1 AND 3650),
    deletion_at  INTEGER NOT NULL,
    recipients   INTEGER NOT NULL CHECK (recipients >= 0),
    sent_at      INTEGER NOT NULL,
    PRIMARY KEY (shop_id, cancelled_at, days_before)
) STRICT;

CREATE TABLE auth_mail_new (
    id           TEXT    NOT NULL PRIMARY KEY,
    shop_id      TEXT    REFERENCES shops (id),
    kind         TEXT    NOT NULL CHECK (kind IN ('magic_link', 'invitation', 'verify', 'reset', 'org_invitation', 'retention_warning')),
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
INSERT INTO auth_mail_new (id, shop_id, kind, recipient, subject, sealed, state, attempts, max_attempts, run_at, locked_until,
        last_error, provider_id, created_at, updated_at)
    SELECT id, shop_id, kind, recipient, subject, sealed, state, attempts, max_attempts, run_at, locked_until,
        last_error, provider_id, created_at, updated_at FROM auth_mail;
DROP TABLE auth_mail;
ALTER TABLE auth_mail_new RENAME TO auth_mail;
CREATE INDEX auth_mail_due ON auth_mail (run_at, id) WHERE state = 'queued';
CREATE INDEX auth_mail_leased ON auth_mail (locked_until) WHERE state = 'sending';
CREATE INDEX auth_mail_ended ON auth_mail (updated_at) WHERE state IN ('sent', 'dead');

-- +goose Down
CREATE TABLE auth_mail_old (
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
INSERT INTO auth_mail_old SELECT * FROM auth_mail WHERE kind <> 'retention_warning';
DROP TABLE auth_mail;
ALTER TABLE auth_mail_old RENAME TO auth_mail;
CREATE INDEX auth_mail_due ON auth_mail (run_at, id) WHERE state = 'queued';
CREATE INDEX auth_mail_leased ON auth_mail (locked_until) WHERE state = 'sending';
CREATE INDEX auth_mail_ended ON auth_mail (updated_at) WHERE state IN ('sent', 'dead');
DROP TABLE retention_warnings;
