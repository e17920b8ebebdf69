-- Secret questions (issue #4): one per user, chosen from the configured list or written by the
-- user, stored as text (so a later change of the list does not change a user's question); the
-- answer, normalised (case, accents, spaces), as an argon2id hash only.
-- Same logical schema in migrations/sqlite and migrations/postgres.
CREATE TABLE secret_questions (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    answer_hash TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
