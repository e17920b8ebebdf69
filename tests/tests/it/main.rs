//! The end-to-end suite: one binary (link once), one module per area. Every test spawns its
//! own provider on a fresh database; see `idp_tests` for the backends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod account;
mod authorize;
mod chromium;
mod contract;
mod discovery;
mod flow;
mod logout;
mod pages;
mod support_protocol;
mod token;
mod userinfo;
