-- Administration (issue #12). Same logical schema in migrations/sqlite and migrations/postgres.
--
-- A rotated client secret keeps working until `previous_secret_expires_at` (the overlap,
-- `secret_overlap`); both the current and the previous secret are SHA-256 digests.
ALTER TABLE clients ADD COLUMN previous_secret_digest TEXT;
ALTER TABLE clients ADD COLUMN previous_secret_expires_at BIGINT;

-- The audit trail searched by client: the store copies `detail.client_id` into a column of its
-- own on insert; earlier rows are filled here once. `at` alone serves date ranges, the newest
-- first pages and the retention purge (`audit_retention_days`).
ALTER TABLE audit_events ADD COLUMN client_id TEXT;
UPDATE audit_events SET client_id = json_extract(detail, '$.client_id')
    WHERE detail LIKE '%"client_id"%' AND json_valid(detail) AND json_type(detail, '$.client_id') = 'text';
CREATE INDEX audit_events_client ON audit_events (client_id, at);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_kind ON audit_events (kind, at);

-- Dynamic client registration (RFC 7591): initial access tokens an administrator issues
-- (`idp client registration-token`), stored as digests, good for `uses_left` registrations
-- until `expires_at`.
CREATE TABLE registration_tokens (
    digest TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    uses_left BIGINT NOT NULL
);

-- RFC 7592: the registration access token of a dynamically registered client (digest), which
-- reads, replaces and deletes its registration. It goes with the client.
CREATE TABLE client_registrations (
    client_id TEXT PRIMARY KEY REFERENCES clients (id) ON DELETE CASCADE,
    access_token_digest TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
