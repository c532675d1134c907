-- Mailbox proof (AUTH-16) and password reset (AUTH-17); see the Postgres
-- migration of the same number for the reasoning.
--
-- users.email_verified_at (microseconds, NULL: never proven). Accounts
-- that exist now are verified when they have no password (made by an
-- accepted invitation, a verified OIDC e-mail or an operator); accounts
-- with a password may come from the old sign-up, which proved nothing,
-- and stay unverified until their first mailbox proof.
--
-- mail_tokens: the mailed sign-up verification and reset tokens, global
-- rows keeping only each token's SHA-256 (and, for a sign-up, the name and
-- the chosen password's hash until the link is followed).

-- +goose Up
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;
UPDATE users SET email_verified_at = created_at
    WHERE NOT EXISTS (SELECT 1 FROM passwords p WHERE p.user_id = users.id);

CREATE TABLE mail_tokens (
    token_hash    BLOB    NOT NULL PRIMARY KEY CHECK (length(token_hash) = 32),
    purpose       TEXT    NOT NULL CHECK (purpose IN ('verify', 'reset')),
    email         TEXT    NOT NULL CHECK (email <> '' AND length(CAST(email AS BLOB)) <= 254),
    user_id       TEXT    REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL DEFAULT '',
    password_hash TEXT    NOT NULL DEFAULT '' CHECK (length(CAST(password_hash AS BLOB)) <= 1024),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    CHECK (purpose = 'verify' OR (user_id IS NOT NULL AND password_hash = '')),
    CHECK (purpose = 'reset' OR password_hash <> '')
) STRICT;
CREATE INDEX mail_tokens_by_email ON mail_tokens (email, purpose);
CREATE INDEX mail_tokens_by_expiry ON mail_tokens (expires_at);

-- +goose Down
DROP TABLE mail_tokens;
ALTER TABLE users DROP COLUMN email_verified_at;
