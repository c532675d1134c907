-- Mailbox proof (AUTH-16) and password reset (AUTH-17).
--
-- users.email_verified_at is when the account's mailbox was first proven
-- (NULL: never). Accounts that exist when this migration runs are
-- verified when they have no password: they were made by an accepted
-- invitation, a verified OpenID Connect e-mail or an operator, each of
-- which proved or vouched for the mailbox. Accounts with a password may
-- have been made by the old sign-up, which proved nothing: they stay
-- unverified, their password does not sign in, and their first mailbox
-- proof (a reset, a magic link, an invitation, a verified OIDC e-mail)
-- removes that password and their identity links and ends their sessions.
--
-- mail_tokens holds the mailed sign-up verification and reset tokens: a
-- global table (an account belongs to no shop), only the SHA-256 of each
-- token, and for a sign-up the name and the hash of the chosen password
-- until the link is followed (the account does not exist before that).
--
-- The first proof deletes a password and identity links, so the
-- application role gains DELETE on both. A reset is audited in every shop
-- the account belongs to; memberships are tenant rows, so the list of
-- those shops is read by stockade_user_shops, a SECURITY DEFINER function
-- owned by the schema owner with search_path pinned, EXECUTE granted to
-- stockade_app only, returning shop IDs and nothing else (as
-- stockade_messaging_shop_by_service in 00011). It reads under a second,
-- permissive SELECT policy, membership_directory, that applies only TO
-- the owner while current_user is the owner and the function has turned
-- the transaction-local app.membership_directory on.

-- +goose Up
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
UPDATE users SET email_verified_at = created_at
    WHERE NOT EXISTS (SELECT 1 FROM passwords p WHERE p.user_id = users.id);

CREATE TABLE mail_tokens (
    token_hash    bytea       NOT NULL PRIMARY KEY CHECK (length(token_hash) = 32),
    purpose       text        NOT NULL CHECK (purpose IN ('verify', 'reset')),
    email         text        NOT NULL CHECK (email <> '' AND octet_length(email) <= 254),
    user_id       uuid        REFERENCES users (id) ON DELETE CASCADE,
    name          text        NOT NULL DEFAULT '',
    password_hash text        NOT NULL DEFAULT '' CHECK (octet_length(password_hash) <= 1024),
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    CHECK (purpose = 'verify' OR (user_id IS NOT NULL AND password_hash = '')),
    CHECK (purpose = 'reset' OR password_hash <> '')
);
-- Serves Consume's "every other token of this purpose for this address".
CREATE INDEX mail_tokens_by_email ON mail_tokens (email, purpose);
CREATE INDEX mail_tokens_by_expiry ON mail_tokens (expires_at);
GRANT SELECT, INSERT, DELETE ON mail_tokens TO stockade_app;

GRANT DELETE ON passwords, identities TO stockade_app;

-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format($p$CREATE POLICY membership_directory ON memberships FOR SELECT TO %1$I
        USING (current_user = %2$L AND current_setting('app.membership_directory', true) = 'on')$p$,
        current_user, current_user);
END
$$;
-- +goose StatementEnd

-- stockade_user_shops returns the IDs of the shops uid is a member of.
-- +goose StatementBegin
CREATE FUNCTION stockade_user_shops(uid uuid)
RETURNS SETOF uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    PERFORM set_config('app.membership_directory', 'on', true);
    RETURN QUERY SELECT m.shop_id FROM memberships m WHERE m.user_id = uid;
    PERFORM set_config('app.membership_directory', '', true);
END
$$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION stockade_user_shops(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION stockade_user_shops(uuid) TO stockade_app;

-- +goose Down
DROP FUNCTION stockade_user_shops(uuid);
DROP POLICY membership_directory ON memberships;
REVOKE DELETE ON passwords, identities FROM stockade_app;
DROP TABLE mail_tokens;
ALTER TABLE users DROP COLUMN email_verified_at;
