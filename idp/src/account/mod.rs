//! Interactive account flows, free of the web framework and of every protocol: sign-in as one
//! flow (`signin`: authenticate → first-login steps → new session → `Continuation`), password
//! hashing, CSRF tokens; lockout, activation, password policy, recovery and self-service build
//! on these. Browser sessions are `crate::session`, below; the protocols (`oidc`, `cas`) and the
//! account space (`account_space`, a relying party) sit above and call in here.

pub mod activation;
pub mod audit;
pub mod authorization;
pub mod captcha;
pub mod claims;
pub mod csrf;
pub mod expiry_warning;
pub mod first_login;
pub mod in_flight;
pub mod legacy_hash;
pub mod lockout;
pub mod login;
pub mod password;
pub mod password_age;
pub mod password_change;
pub mod password_check;
pub mod pending_throttle;
pub mod policy;
pub mod recovery;
pub mod secret_question;
pub mod self_service;
pub mod signin;
pub mod strength_feedback;
pub mod subject;
