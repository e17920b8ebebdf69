//! The end-to-end suite: one binary (link once), one module per area. Every test spawns its
//! own provider on a fresh database; see `idp_tests` for the backends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account;
mod account_security;
mod activation;
mod authorize;
mod captcha_and_secret;
mod chromium;
mod chromium_form_post;
mod chromium_frontchannel;
mod chromium_password;
mod chromium_recovery;
mod client_auth;
mod contract;
mod contract_recovery;
mod discovery;
mod example_rp;
mod first_login;
mod flow;
mod grants;
mod keys;
mod lockout;
mod logout;
mod mail_queue;
mod oidcc_backchannel;
mod oidcc_basic;
mod oidcc_config;
mod oidcc_frontchannel;
mod oidcc_rp_logout;
mod pages;
mod password_policy;
mod propagation;
mod recovery_identifier;
mod recovery_pages;
mod recovery_password;
mod request_details;
mod subjects;
mod support_protocol;
mod token;
mod token_formats;
mod trusted_proxies;
mod userinfo;
