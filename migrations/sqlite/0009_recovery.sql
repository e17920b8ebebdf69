-- Self-service recovery (issue #5). Same logical schema in migrations/sqlite and
-- migrations/postgres.
--
-- birth_date: ISO 8601 (YYYY-MM-DD), asked with an alternate identifier (UPHF Sésame).
ALTER TABLE users ADD COLUMN birth_date TEXT;
-- E-mail lookups of "J'ai oublié mon identifiant" ignore case.
CREATE INDEX users_email_lower ON users (LOWER(email));

-- Alternate identifiers a person can name their account with during recovery: student number,
-- INE, staff number, consular number (NUMIC)… One value per kind is one account.
CREATE TABLE user_identifiers (
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (kind, value)
);
CREATE INDEX user_identifiers_user ON user_identifiers (user_id);

-- Downstream systems told of a recovered password (the propagation webhook): a durable queue
-- with the claim protocol of mail_queue. The row stays after delivery (delivered_at) so the
-- waiting page can tell; payload holds no secret.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until BIGINT,
    delivered_at BIGINT,
    last_error TEXT
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at);
