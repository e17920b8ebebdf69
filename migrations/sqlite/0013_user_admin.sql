-- User administration (issue #12). Same logical schema in migrations/sqlite and
-- migrations/postgres.
--
-- role: what the person may do in the console and the admin API (NULL: nothing; 'admin',
--   'support', 'auditor': admin::actor::Role). Set with `idp user set-role`.
-- locked_until: a mirror of the lockout (account/lockout.rs), written when a lock starts and
--   cleared by an unlock. The lock itself stays in the ephemeral store, which the sign-in reads
--   atomically across nodes; the mirror only lets a search filter and sort by status ("locked")
--   without one ephemeral read per row of 100,000. A lock that lapses needs no write:
--   locked_until <= now is not locked.
ALTER TABLE users ADD COLUMN role TEXT CHECK (role IN ('admin', 'support', 'auditor'));
ALTER TABLE users ADD COLUMN locked_until BIGINT;

-- Prefix searches (`login >= $1 AND login < $1 || U+10FFFF`) need no new index: the UNIQUE index
-- on login (BINARY collation: code point order) and users_email_lower (0009) serve them.
CREATE INDEX users_created_at ON users (created_at);
CREATE INDEX users_role ON users (role) WHERE role IS NOT NULL;
