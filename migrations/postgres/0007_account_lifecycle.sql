-- Account lifecycle (issue #4): activation, first-login steps, session invalidation, one-time
-- tokens and the audit trail. Same logical schema in migrations/sqlite and migrations/postgres.
--
-- must_change_password: the next sign-in goes through the forced change (provisional password,
--   reset by an administrator). provisional_expires_at: a provisional password stops working
--   then (default 72 h after it was sent). terms_accepted_at: the user type's terms were
--   accepted. activated_at: the first-login steps were completed once (NULL: first login still
--   to come). sessions_not_before: browser sessions authenticated before this instant are dead
--   (written in the password-change transaction, so the change and the end of the other
--   sessions are one unit). expiry_warned_at: the expiry warning e-mail was sent for the
--   current password (compared with password_changed_at).
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN provisional_expires_at BIGINT;
ALTER TABLE users ADD COLUMN terms_accepted_at BIGINT;
ALTER TABLE users ADD COLUMN activated_at BIGINT;
ALTER TABLE users ADD COLUMN sessions_not_before BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN expiry_warned_at BIGINT;
-- Accounts that existed before this migration have signed in already, or were created with a
-- final password: they are not asked the first-login steps again.
UPDATE users SET activated_at = created_at;

-- One-time secrets sent to a user (activation links now; recovery codes and links with issue
-- #5): stored by SHA-256 digest only, single use (deleted when redeemed), expiring, and dead
-- after max_attempts wrong guesses (attempts counts them).
CREATE TABLE user_tokens (
    digest TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX user_tokens_user ON user_tokens (user_id, purpose);

-- The audit trail: who (user_id, NULL when the account is unknown), what (kind), when, from
-- where (ip, user agent); detail is a short JSON object that never holds a secret.
CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY,
    user_id TEXT,
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_events_user ON audit_events (user_id, at);
