-- Groups (issue #11): named sets of users that applications may require (the client setting
-- `allowed_groups`) and that the `groups` scope releases as the `groups` claim. A group's id is
-- a short slug chosen by the operator; leaving a group or deleting a user removes the membership.
-- Same logical schema in migrations/sqlite and migrations/postgres.
CREATE TABLE groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);

-- The gate and the `groups` claim ask "which groups is this user in?".
CREATE INDEX group_members_user_id ON group_members (user_id);
