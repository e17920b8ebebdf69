-- Issue #10 (item 6): logins that look alike are the same login, or refused. The confusable
-- skeleton (Unicode TS #39 §4) of each login, computed in Rust and kept unique here, so that two
-- nodes creating confusable logins at once cannot both succeed. NULL until `idp migrate` fills it
-- in, and for the existing rows it reports (a login confusable with an older one, or not in the
-- PRECIS form): a UNIQUE index admits any number of NULLs.
ALTER TABLE users ADD COLUMN login_skeleton TEXT;
CREATE UNIQUE INDEX users_login_skeleton ON users (login_skeleton);
