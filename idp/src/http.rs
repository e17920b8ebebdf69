//! Outbound HTTP: every request the server makes to a URL someone configured (back-channel
//! logout, client JWKS, sector identifiers, the propagation webhook, the SMS gateway) follows
//! no redirect (the URL was checked, its redirect target was not), gives up connecting after
//! 5 s and the whole exchange after `timeout`, and names itself.

use std::time::Duration;

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A client for `purpose` ("back-channel logout"…), used in the `User-Agent`.
pub fn client(purpose: &str, timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(timeout)
        .user_agent(format!("idp/{} ({purpose})", env!("CARGO_PKG_VERSION")))
        .build()
}
