//! The identity provider as a library: `app` builds a running server from a `Config`; the
//! binary in `cli/main.rs` only parses the command line and calls in here, and so do the tests.
//!
//! Dependencies point one way (issue #11, docs/architecture.md, decision 0016):
//! `web` and `account_space` -> the protocols (`oidc`, `cas`; neither
//! imports the other) -> `account` (sign-in as one flow,
//! returning a `Continuation`; lifecycle, recovery) -> `session` (browser sessions; protocols
//! register what they do when one ends) -> `domain`, `store`, `ephemeral`, `mail`. `account/`
//! and `session/` import no protocol; only `web/` imports axum. Flows reach durable data
//! (`store`), short-lived data (`ephemeral`) and mail only through traits chosen in `app.rs`.

pub mod account;
pub mod account_space;
pub mod admin;
pub mod app;
pub mod cas;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod ephemeral;
pub mod http;
pub mod mail;
pub mod master_key;
pub mod oidc;
pub mod services;
pub mod session;
pub mod sms;
pub mod store;
pub mod theme;
pub mod web;
pub mod worker;

pub use app::App;
pub use config::Config;
