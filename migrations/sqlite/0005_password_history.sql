-- Password history and age (issue #4). Same logical schema in migrations/sqlite and
-- migrations/postgres. The history keeps argon2id hashes only, newest last by id; a password
-- change writes the new hash, its history row and password_changed_at in one transaction.
-- password_changed_at drives expiry (max_age_days of the user type); NULL never stays after a
-- change, and readers fall back to updated_at for rows written before this migration.
CREATE TABLE password_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX password_history_user ON password_history (user_id, id);
ALTER TABLE users ADD COLUMN password_changed_at BIGINT;
UPDATE users SET password_changed_at = updated_at;
