//! Interactive account flows, free of the web framework: password hashing, sign-in, browser
//! sessions, CSRF tokens. Lockout, activation, password policy and recovery build on these.

pub mod audit;
pub mod captcha;
pub mod csrf;
pub mod lockout;
pub mod login;
pub mod password;
pub mod password_age;
pub mod password_change;
pub mod policy;
pub mod secret_question;
pub mod session;
pub mod space;
