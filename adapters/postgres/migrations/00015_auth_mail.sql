-- The auth mail outbox (AUTH-4, TEN-9, OPS-1): sign-in links, invitations
-- and mailbox proofs, enqueued in the unit of work that mints the token
-- they carry and delivered by a worker through the configured e-mail
-- provider.
--
-- Mail enqueued in a Global unit of work has no shop (shop_id NULL); mail
-- enqueued in InShop carries its shop. The table has a shop_id column, so
-- it is under row-level security like every tenant table (the catalog
-- test demands it): the policy admits the current shop's rows and
-- shop-less rows, and nothing else. So a Global unit of work sees only
-- shop-less mail, and InShop sees its shop's and the shop-less.
--
-- The worker's claim and the clean-up of ended mail read across shops:
-- each is a SECURITY DEFINER function owned by the schema owner with
-- search_path pinned and EXECUTE granted to stockade_app only, under a
-- second, permissive policy auth_mail_maintenance that applies TO the
-- owner while the function has turned app.auth_mail_maintenance on (the
-- pattern of stockade_claim_outbox, see 00011). Marking an attempt's
-- outcome runs with the mail's own shop set as app.shop_id, under the
-- tenant policy.
--
-- The application role may SELECT, INSERT and UPDATE (enqueue, mark); it
-- may not DELETE: only the clean-up function deletes, and only ended mail.
--
-- sealed is the body as core sealed it (AES-256-GCM): no usable token is
-- stored in clear. It is wiped (NULL) when the mail ends, sent or dead.

-- +goose Up
CREATE TABLE auth_mail (
    id           uuid        NOT NULL PRIMARY KEY,
    shop_id      uuid        REFERENCES shops (id),
    kind         text        NOT NULL CHECK (kind IN ('magic_link', 'invitation', 'verify', 'reset', 'org_invitation')),
    recipient    text        NOT NULL CHECK (recipient <> '' AND octet_length(recipient) <= 254),
    subject      text        NOT NULL CHECK (subject <> '' AND octet_length(subject) <= 998),
    sealed       bytea       CHECK (sealed IS NULL OR octet_length(sealed) BETWEEN 1 AND 65536),
    state        text        NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'dead')),
    attempts     integer     NOT NULL CHECK (attempts >= 0),
    max_attempts integer     NOT NULL CHECK (max_attempts BETWEEN 1 AND 1000),
    run_at       timestamptz NOT NULL,
    locked_until timestamptz,
    last_error   text        NOT NULL DEFAULT '' CHECK (octet_length(last_error) <= 1000),
    provider_id  text        NOT NULL DEFAULT '' CHECK (octet_length(provider_id) <= 255),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CHECK (attempts <= max_attempts),
    CHECK (state <> 'queued' OR attempts < max_attempts),
    CHECK ((state = 'sending') = (locked_until IS NOT NULL)),
    CHECK ((state IN ('queued', 'sending')) = (sealed IS NOT NULL))
);
CREATE INDEX auth_mail_due ON auth_mail (run_at, id) WHERE state = 'queued';
CREATE INDEX auth_mail_leased ON auth_mail (locked_until) WHERE state = 'sending';
CREATE INDEX auth_mail_ended ON auth_mail (updated_at) WHERE state IN ('sent', 'dead');
CREATE INDEX auth_mail_by_shop ON auth_mail (shop_id) WHERE shop_id IS NOT NULL;
GRANT SELECT, INSERT, UPDATE ON auth_mail TO stockade_app;

ALTER TABLE auth_mail ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth_mail FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON auth_mail
    USING (shop_id IS NULL OR shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid)
    WITH CHECK (shop_id IS NULL OR shop_id = NULLIF(current_setting('app.shop_id', true), '')::uuid);

-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format($p$CREATE POLICY auth_mail_maintenance ON auth_mail TO %1$I
        USING (current_user = %2$L AND current_setting('app.auth_mail_maintenance', true) = 'on')
        WITH CHECK (current_user = %2$L AND current_setting('app.auth_mail_maintenance', true) = 'on')$p$,
        current_user, current_user);
END
$$;
-- +goose StatementEnd

-- stockade_claim_auth_mail marks up to lim due mails sending with a lease
-- until claim_at + lease, stamped updated_at = stamp, and returns them (in
-- no particular order). Sending mails whose lease ran out on their last
-- attempt become dead, their body wiped. See ports.AuthMailOutbox.
-- +goose StatementBegin
CREATE FUNCTION stockade_claim_auth_mail(claim_at timestamptz, lim integer, lease interval, stamp timestamptz)
RETURNS SETOF auth_mail
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
SET enable_sort = off
SET jit = off
AS $$
BEGIN
    IF claim_at IS NULL OR stamp IS NULL OR lim IS NULL OR lim < 1 OR lim > 1000 OR lease IS NULL
        OR lease <= interval '0' OR lease > interval '1 day' THEN
        RAISE EXCEPTION 'stockade_claim_auth_mail: want times, 1 <= lim <= 1000 and a lease of at most a day'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM set_config('app.auth_mail_maintenance', 'on', true);

    UPDATE auth_mail SET state = 'dead', sealed = NULL, last_error = 'lease expired', locked_until = NULL, updated_at = stamp
    WHERE id IN (
        SELECT id FROM auth_mail
        WHERE state = 'sending' AND locked_until <= claim_at AND attempts >= max_attempts
        FOR UPDATE SKIP LOCKED);

    RETURN QUERY
    WITH queued AS (
        SELECT id, run_at FROM auth_mail
        WHERE state = 'queued' AND run_at <= claim_at
        ORDER BY run_at, id LIMIT lim
        FOR UPDATE SKIP LOCKED
    ), leased AS (
        SELECT id, run_at FROM auth_mail
        WHERE state = 'sending' AND locked_until <= claim_at AND attempts < max_attempts
        ORDER BY run_at, id LIMIT lim
        FOR UPDATE SKIP LOCKED
    ), picked AS (
        SELECT id FROM (SELECT * FROM queued UNION ALL SELECT * FROM leased) due
        ORDER BY run_at, id LIMIT lim
    )
    UPDATE auth_mail m SET state = 'sending', attempts = m.attempts + 1, locked_until = claim_at + lease, updated_at = stamp
    FROM picked p
    WHERE m.id = p.id
    RETURNING m.*;

    PERFORM set_config('app.auth_mail_maintenance', '', true);
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION stockade_claim_auth_mail(timestamptz, integer, interval, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stockade_claim_auth_mail(timestamptz, integer, interval, timestamptz) TO stockade_app;

-- stockade_delete_ended_auth_mail deletes sent and dead mail last updated
-- before cutoff, of every shop and none, and returns how many.
-- +goose StatementBegin
CREATE FUNCTION stockade_delete_ended_auth_mail(cutoff timestamptz)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    IF cutoff IS NULL THEN
        RAISE EXCEPTION 'stockade_delete_ended_auth_mail: want a time' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM set_config('app.auth_mail_maintenance', 'on', true);
    DELETE FROM auth_mail WHERE state IN ('sent', 'dead') AND updated_at < cutoff;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM set_config('app.auth_mail_maintenance', '', true);
    RETURN n;
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION stockade_delete_ended_auth_mail(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stockade_delete_ended_auth_mail(timestamptz) TO stockade_app;

-- +goose Down
DROP FUNCTION stockade_delete_ended_auth_mail(timestamptz);
DROP FUNCTION stockade_claim_auth_mail(timestamptz, integer, interval, timestamptz);
DROP TABLE auth_mail;
