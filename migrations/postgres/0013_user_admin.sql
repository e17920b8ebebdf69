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

-- Prefix searches compare in code point order (`login COLLATE "C" >= $1 AND … < $1 || U+10FFFF`,
-- the same order as SQLite's BINARY), which the database's default collation does not give: these
-- indexes serve them whatever the collation, with or without a generic plan.
CREATE INDEX users_login_prefix ON users ((login COLLATE "C"));
CREATE INDEX users_email_lower_prefix ON users ((lower(email) COLLATE "C"));
CREATE INDEX users_created_at ON users (created_at);
CREATE INDEX users_role ON users (role) WHERE role IS NOT NULL;
