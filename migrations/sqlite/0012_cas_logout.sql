-- CAS single logout (issue #11): the back-channel logout queue serves every protocol. Each row
-- says whose worker sends it (`protocol`: 'oidc' or 'cas'); a CAS row also names the service URL
-- that is sent the logoutRequest (`target`) and the service ticket it names (`session_index`,
-- the SAML SessionIndex). OpenID Connect rows keep both NULL. Same logical schema in
-- migrations/sqlite and migrations/postgres.
ALTER TABLE logout_deliveries ADD COLUMN protocol TEXT NOT NULL DEFAULT 'oidc';
ALTER TABLE logout_deliveries ADD COLUMN target TEXT;
ALTER TABLE logout_deliveries ADD COLUMN session_index TEXT;
CREATE INDEX logout_deliveries_protocol_due ON logout_deliveries (protocol, next_attempt_at);
