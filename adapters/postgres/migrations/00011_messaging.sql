-- Messaging (MSG-4, MSG-6): contacts and their consent, the transactional
-- outbox, inbound provider events already applied, and each shop's
-- messaging settings.
--
-- Same conventions as 00005 and 00006: owned by the schema owner, granted
-- to stockade_app, every table a tenant table with ENABLE + FORCE ROW
-- LEVEL SECURITY and the tenant policy on the transaction-local GUC
-- app.shop_id; foreign keys between tenant tables carry shop_id.
--
-- Three paths read across shops, each a SECURITY DEFINER function owned
-- by the schema owner with search_path pinned, EXECUTE granted to
-- stockade_app only, exactly like stockade_claim_jobs (see 00006 for the
-- reasoning): the outbox claim (stockade_claim_outbox, FOR UPDATE SKIP
-- LOCKED), and two lookups that return a shop ID only — the shop whose
-- settings name a Twilio Messaging Service (inbound SMS are routed by it)
-- and the shop of an outbox message known to a provider by its ID (status
-- webhooks are routed by it). They run under a second, permissive policy,
-- messaging_maintenance, which applies only TO the owner role while
-- current_user is the owner and the function has turned the
-- transaction-local app.messaging_maintenance on (and turns it off again
-- before it returns). For the application role only tenant_isolation
-- remains.

-- +goose Up
CREATE TABLE messaging_contacts (
    shop_id    uuid        NOT NULL REFERENCES shops (id),
    id         uuid        NOT NULL,
    phone      text        CHECK (phone IS NULL OR phone ~ '^\+[1-9][0-9]{6,14}$'),
    email      text        CHECK (email IS NULL OR (email <> '' AND octet_length(email) <= 254)),
    time_zone  text        NOT NULL DEFAULT '' CHECK (octet_length(time_zone) <= 64),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (shop_id, id),
    UNIQUE (shop_id, phone),
    UNIQUE (shop_id, email),
    CHECK (phone IS NOT NULL OR email IS NOT NULL)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON messaging_contacts TO stockade_app;

CREATE TABLE messaging_consent (
    shop_id    uuid        NOT NULL,
    contact_id uuid        NOT NULL,
    topic      text        NOT NULL CHECK (topic IN ('sms', 'email', 'marketing')),
    opted_out  boolean     NOT NULL,
    source     text        NOT NULL CHECK (source IN ('keyword', 'link', 'admin', 'api', 'provider')),
    changed_at timestamptz NOT NULL,
    PRIMARY KEY (shop_id, contact_id, topic),
    FOREIGN KEY (shop_id, contact_id) REFERENCES messaging_contacts (shop_id, id)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON messaging_consent TO stockade_app;

CREATE TABLE outbox_messages (
    shop_id         uuid        NOT NULL,
    id              uuid        NOT NULL,
    contact_id      uuid        NOT NULL,
    channel         text        NOT NULL CHECK (channel IN ('sms', 'email')),
    category        text        NOT NULL CHECK (category IN ('transactional', 'marketing')),
    recipient       text        NOT NULL CHECK (recipient <> ''),
    payload         jsonb       NOT NULL,
    state           text        NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'dead', 'cancelled', 'unknown')),
    attempts        integer     NOT NULL CHECK (attempts >= 0),
    max_attempts    integer     NOT NULL CHECK (max_attempts BETWEEN 1 AND 1000),
    dispatched      integer     NOT NULL DEFAULT 0,
    run_at          timestamptz NOT NULL,
    locked_until    timestamptz,
    last_error      text        NOT NULL DEFAULT '' CHECK (octet_length(last_error) <= 1000),
    held_for        text        NOT NULL DEFAULT '' CHECK (octet_length(held_for) <= 100),
    provider_id     text,
    provider_status text        NOT NULL DEFAULT '' CHECK (octet_length(provider_status) <= 64),
    sent_at         timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (shop_id, id),
    FOREIGN KEY (shop_id, contact_id) REFERENCES messaging_contacts (shop_id, id),
    CHECK (dispatched BETWEEN 0 AND attempts),
    CHECK (attempts <= max_attempts),
    CHECK (state <> 'queued' OR attempts < max_attempts),
    CHECK ((state = 'sending') = (locked_until IS NOT NULL))
);
CREATE INDEX outbox_due ON outbox_messages (run_at, id) WHERE state = 'queued';
CREATE INDEX outbox_leased ON outbox_messages (locked_until) WHERE state = 'sending';
CREATE INDEX outbox_by_created ON outbox_messages (shop_id, created_at, id);
CREATE INDEX outbox_by_contact ON outbox_messages (shop_id, contact_id, created_at);
CREATE INDEX outbox_by_provider ON outbox_messages (channel, provider_id) WHERE provider_id IS NOT NULL;
GRANT SELECT, INSERT, UPDATE ON outbox_messages TO stockade_app;

CREATE TABLE messaging_events (
    shop_id     uuid        NOT NULL REFERENCES shops (id),
    provider    text        NOT NULL CHECK (octet_length(provider) BETWEEN 1 AND 255),
    event_id    text        NOT NULL CHECK (octet_length(event_id) BETWEEN 1 AND 255),
    received_at timestamptz NOT NULL,
    PRIMARY KEY (shop_id, provider, event_id)
);
GRANT SELECT, INSERT, DELETE ON messaging_events TO stockade_app;

-- A Twilio Messaging Service belongs to one shop. The unique key is global
-- (a service cannot route to two shops); a conflict tells a shop only that
-- the service it named is taken.
CREATE TABLE messaging_settings (
    shop_id               uuid        NOT NULL PRIMARY KEY REFERENCES shops (id),
    messaging_service_sid text        UNIQUE CHECK (messaging_service_sid IS NULL OR messaging_service_sid <> ''),
    help_text             text        NOT NULL DEFAULT '' CHECK (octet_length(help_text) <= 1600),
    send_from             integer     NOT NULL DEFAULT 0 CHECK (send_from BETWEEN 0 AND 1439),
    send_until            integer     NOT NULL DEFAULT 0 CHECK (send_until BETWEEN 0 AND 1440),
    time_zone             text        NOT NULL DEFAULT '' CHECK (octet_length(time_zone) <= 64),
    updated_at            timestamptz NOT NULL
);
GRANT SELECT, INSERT, UPDATE ON messaging_settings TO stockade_app;

ALTER TABLE messaging_contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE messaging_contacts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON messaging_contacts
    USING (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid)
    WITH CHECK (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid);

ALTER TABLE messaging_consent ENABLE ROW LEVEL SECURITY;
ALTER TABLE messaging_consent FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON messaging_consent
    USING (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid)
    WITH CHECK (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid);

ALTER TABLE outbox_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON outbox_messages
    USING (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid)
    WITH CHECK (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid);

ALTER TABLE messaging_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE messaging_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON messaging_events
    USING (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid)
    WITH CHECK (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid);

ALTER TABLE messaging_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE messaging_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON messaging_settings
    USING (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid)
    WITH CHECK (shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid);

-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format($p$CREATE POLICY messaging_maintenance ON outbox_messages TO %1$I
        USING (current_user = %2$L AND current_setting('app.messaging_maintenance', true) = 'on')
        WITH CHECK (current_user = %2$L AND current_setting('app.messaging_maintenance', true) = 'on')$p$,
        current_user, current_user);
    EXECUTE format($p$CREATE POLICY messaging_maintenance ON messaging_settings FOR SELECT TO %1$I
        USING (current_user = %2$L AND current_setting('app.messaging_maintenance', true) = 'on')$p$,
        current_user, current_user);
END
$$;
-- +goose StatementEnd

-- stockade_claim_outbox marks up to lim due messages sending with a lease
-- until claim_at + lease, stamped updated_at = stamp, and returns them (in
-- no particular order). Sending messages whose lease ran out after their
-- last attempt become unknown (when that attempt was dispatched) or dead
-- instead. See ports.OutboxQueue.
-- +goose StatementBegin
CREATE FUNCTION stockade_claim_outbox(claim_at timestamptz, lim integer, lease interval, stamp timestamptz)
RETURNS SETOF outbox_messages
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
SET enable_sort = off
SET jit = off
AS $$
BEGIN
    IF claim_at IS NULL OR stamp IS NULL OR lim IS NULL OR lim < 1 OR lim > 1000 OR lease IS NULL OR lease <= interval '0' THEN
        RAISE EXCEPTION 'stockade_claim_outbox: want times, 1 <= lim <= 1000 and a positive lease'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM set_config('app.messaging_maintenance', 'on', true);

    UPDATE outbox_messages SET
        state = CASE WHEN dispatched = attempts THEN 'unknown' ELSE 'dead' END,
        last_error = CASE WHEN dispatched = attempts THEN 'lease expired during the provider call' ELSE 'lease expired' END,
        locked_until = NULL, updated_at = stamp
    WHERE (shop_id, id) IN (
        SELECT shop_id, id FROM outbox_messages
        WHERE state = 'sending' AND locked_until <= claim_at AND attempts >= max_attempts
        FOR UPDATE SKIP LOCKED);

    RETURN QUERY
    WITH queued AS (
        SELECT shop_id, id, run_at FROM outbox_messages
        WHERE state = 'queued' AND run_at <= claim_at
        ORDER BY run_at, id LIMIT lim
        FOR UPDATE SKIP LOCKED
    ), leased AS (
        SELECT shop_id, id, run_at FROM outbox_messages
        WHERE state = 'sending' AND locked_until <= claim_at AND attempts < max_attempts
        ORDER BY run_at, id LIMIT lim
        FOR UPDATE SKIP LOCKED
    ), picked AS (
        SELECT shop_id, id FROM (SELECT * FROM queued UNION ALL SELECT * FROM leased) due
        ORDER BY run_at, id LIMIT lim
    )
    UPDATE outbox_messages m SET state = 'sending', attempts = m.attempts + 1, locked_until = claim_at + lease, updated_at = stamp
    FROM picked p
    WHERE m.shop_id = p.shop_id AND m.id = p.id
    RETURNING m.*;

    PERFORM set_config('app.messaging_maintenance', '', true);
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION stockade_claim_outbox(timestamptz, integer, interval, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stockade_claim_outbox(timestamptz, integer, interval, timestamptz) TO stockade_app;

-- stockade_messaging_shop_by_service returns the shop whose settings name
-- the Twilio Messaging Service sid, or NULL.
-- +goose StatementBegin
CREATE FUNCTION stockade_messaging_shop_by_service(sid text)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    found uuid;
BEGIN
    PERFORM set_config('app.messaging_maintenance', 'on', true);
    SELECT s.shop_id INTO found FROM messaging_settings s WHERE s.messaging_service_sid = sid;
    PERFORM set_config('app.messaging_maintenance', '', true);
    RETURN found;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION stockade_messaging_shop_by_service(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stockade_messaging_shop_by_service(text) TO stockade_app;

-- stockade_messaging_shop_by_provider returns the shop of the outbox
-- message a provider knows as pid on chan, or NULL (NULL too when two
-- shops claim the same provider ID, which a provider never issues).
-- +goose StatementBegin
CREATE FUNCTION stockade_messaging_shop_by_provider(chan text, pid text)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    found uuid;
    n integer;
BEGIN
    PERFORM set_config('app.messaging_maintenance', 'on', true);
    SELECT min(m.shop_id::text)::uuid, count(DISTINCT m.shop_id) INTO found, n
    FROM outbox_messages m WHERE m.channel = chan AND m.provider_id = pid;
    PERFORM set_config('app.messaging_maintenance', '', true);
    IF n <> 1 THEN
        RETURN NULL;
    END IF;
    RETURN found;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION stockade_messaging_shop_by_provider(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stockade_messaging_shop_by_provider(text, text) TO stockade_app;

-- +goose Down
DROP FUNCTION stockade_messaging_shop_by_provider(text, text);
DROP FUNCTION stockade_messaging_shop_by_service(text);
DROP FUNCTION stockade_claim_outbox(timestamptz, integer, interval, timestamptz);
DROP TABLE messaging_settings;
DROP TABLE messaging_events;
DROP TABLE outbox_messages;
DROP TABLE messaging_consent;
DROP TABLE messaging_contacts;
