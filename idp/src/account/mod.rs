//! Interactive account flows, free of the web framework: password hashing, sign-in, browser
//! sessions, CSRF tokens. Lockout, activation, password policy and recovery build on these.

pub mod activation;
pub mod audit;
pub mod authorization;
pub mod captcha;
pub mod claims;
pub mod csrf;
pub mod expiry_warning;
pub mod first_login;
pub mod in_flight;
pub mod lockout;
pub mod login;
pub mod password;
pub mod password_age;
pub mod password_change;
pub mod policy;
pub mod recovery;
pub mod secret_question;
pub mod self_service;
pub mod signin;
pub mod space;
pub mod subject;
