//! The identity provider as a library: `app` builds a running server from a `Config`; the
//! binary in `main.rs` only parses the command line and calls in here, and so do the tests.
//!
//! Dependencies point one way: `web` -> `oidc`, `account` -> `domain`. Flows reach durable data
//! (`store`), short-lived data (`ephemeral`) and mail only through traits chosen in `app.rs`.

pub mod account;
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
