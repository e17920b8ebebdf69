-- Same logical change as migrations/postgres/0003_signing_key_states.sql, SQLite dialect.
-- Key rotation and encryption at rest (issue #3). A signing key is `next` (published in the
-- JWKS, not signing yet), `active` (signing) or `retired` (published until the tokens it signed
-- have expired). `secret` now holds an AES-256-GCM envelope under the master key; rows written
-- in clear by earlier versions are sealed at the next start.
ALTER TABLE signing_keys ADD COLUMN state TEXT NOT NULL DEFAULT 'active';
ALTER TABLE signing_keys ADD COLUMN activated_at BIGINT;
UPDATE signing_keys SET state = 'retired' WHERE retired_at IS NOT NULL;
UPDATE signing_keys SET activated_at = created_at;
CREATE INDEX signing_keys_alg_state ON signing_keys (alg, state);
