-- Owners' warnings before a cancelled shop is deleted (LIFE-2).
--
-- retention_warnings records each warning point (days before the deletion)
-- that was mailed for one cancellation of a shop, keyed by the
-- cancellation's time: written in the unit of work that enqueues the mail
-- (auth_mail) and audits it, so a rerun or a crash after the commit never
-- sends a point twice, and a later cancellation (a new cancelled_at)
-- starts afresh. A tenant table (stockade_tenant_table, 00022), deleted
-- with the shop.
--
-- auth_mail gains the kind 'retention_warning': the warnings are platform
-- mail to a shop's Owners, delivered like sign-in links (sealed body, the
-- platform's From, the auth mail worker).

-- +goose Up
CREATE TABLE retention_warnings (
    shop_id      uuid        NOT NULL REFERENCES shops (id),
    cancelled_at timestamptz NOT NULL,
    days_before  integer     NOT NULL CHECK (days_before BETWEEN 1 AND 3650),
    deletion_at  timestamptz NOT NULL,
    recipients   integer     NOT NULL CHECK (recipients >= 0),
    sent_at      timestamptz NOT NULL,
    PRIMARY KEY (shop_id, cancelled_at, days_before)
);
SELECT stockade_tenant_table('retention_warnings');

ALTER TABLE auth_mail DROP CONSTRAINT auth_mail_kind_check;
ALTER TABLE auth_mail ADD CONSTRAINT auth_mail_kind_check
    CHECK (kind IN ('magic_link', 'invitation', 'verify', 'reset', 'org_invitation', 'retention_warning'));

-- +goose Down
-- auth_mail forces row-level security on its owner too: the maintenance
-- policy (00015) admits every shop's rows while the setting is on.
SELECT set_config('app.auth_mail_maintenance', 'on', true);
DELETE FROM auth_mail WHERE kind = 'retention_warning';
SELECT set_config('app.auth_mail_maintenance', '', true);
ALTER TABLE auth_mail DROP CONSTRAINT auth_mail_kind_check;
ALTER TABLE auth_mail ADD CONSTRAINT auth_mail_kind_check
    CHECK (kind IN ('magic_link', 'invitation', 'verify', 'reset', 'org_invitation'));
DROP TABLE retention_warnings;
