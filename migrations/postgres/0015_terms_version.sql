-- Versioned terms (issue #13, item 10). Same logical schema in migrations/sqlite and
-- migrations/postgres. The version of the user type's terms (`terms_version`) the user accepted
-- at `terms_accepted_at`; NULL for acceptances recorded before versions existed, which a type
-- that sets a version asks again at the next sign-in.
ALTER TABLE users ADD COLUMN terms_version TEXT;
