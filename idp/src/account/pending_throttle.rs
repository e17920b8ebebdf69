//! The per-address limit on creating pending records (issue #10, decision 0013): authorization
//! requests, logout confirmations, captcha challenges, sign-ins to the account space. Below
//! every protocol, so that `account` flows and each protocol share one counter; the bounds on
//! an OpenID Connect request's parameters stay in `oidc::pending_limits`.

use std::time::Duration;

use super::lockout;
use crate::config::PendingThrottle;
use crate::services::{InfraError, Services};

fn counter_key(source: &str, window: i64) -> String {
    format!("throttle:pending:{source}:{window}")
}

/// Counts one pending record created for the browser at `ip`; false when that address (IPv6:
/// its /64) already created `pending_requests_per_ip` in the current window of the injected
/// clock, and the record must not be created. Fixed windows, like the login throttle
/// (`account::lockout`): at most twice the limit can pass around a window's edge.
pub async fn admit(s: &Services, ip: &str) -> Result<bool, InfraError> {
    let PendingThrottle { per_ip, window } = s.pending_throttle;
    if per_ip == 0 {
        return Ok(true);
    }
    // Every request served over TCP has a peer address; none (an in-process call) is not a
    // browser to count.
    let Some(source) = lockout::source_of(ip) else {
        return Ok(true);
    };
    let window_number = s.now().div_euclid(window);
    let ttl = Duration::from_secs(window as u64 + 60);
    let count = s.ephemeral.incr(&counter_key(&source, window_number), ttl).await?;
    if count == i64::from(per_ip) + 1 {
        // Once per window and address: the log must not grow with the flood.
        tracing::warn!(ip = %source, limit = per_ip, window, "pending requests throttled for this address");
    }
    Ok(count <= i64::from(per_ip))
}
