-- OpenID Connect Back-Channel Logout 1.0 (issue #3): logout tokens waiting to be delivered.
-- Same logical schema in migrations/sqlite and migrations/postgres.
-- One row per (ended session, client); the worker claims a row by setting claimed_until (a
-- conditional UPDATE, so two nodes never send the same row at once), deletes it once the
-- client answered 2xx, and otherwise moves next_attempt_at forward (backoff) until it gives up.
-- The token is signed at each attempt (fresh iat/exp); the row id is its jti.
CREATE TABLE logout_deliveries (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    sid TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until BIGINT
);
CREATE INDEX logout_deliveries_due ON logout_deliveries (next_attempt_at);
