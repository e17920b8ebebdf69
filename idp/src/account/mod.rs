//! Interactive account flows, free of the web framework: password hashing, sign-in, browser
//! sessions, CSRF tokens. Lockout, activation, password policy and recovery build on these.

pub mod csrf;
pub mod login;
pub mod password;
pub mod session;
pub mod space;
