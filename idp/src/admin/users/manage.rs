//! Changes to an account by an administrator (issue #12): update, disable, enable, delete.
