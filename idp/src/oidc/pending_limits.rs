//! What a browser that nobody has authenticated may make the provider keep (issue #10,
//! docs/decisions/0013-bounded-pending-requests.md): bounds on each kept parameter of an
//! authorization request and on the whole record, and a per-address limit on creating pending
//! records (authorization requests, logout confirmations, sign-ins to the account space).
//! The short life of an unanswered authorization request lives in `authorize`.
//!
//! RFC 6749 and OpenID Connect Core set no maximum length; these bounds leave ample room for
//! what relying parties send (JSON in `state`, a few locales, a hand-written `claims` request)
//! while making the cost of one pending request a small constant.

use std::time::Duration;

use crate::account::lockout;
use crate::config::PendingThrottle;
use crate::services::{InfraError, Services};

/// `state` (RFC 6749 §4.1.1): opaque to us, echoed back; relying parties put JSON in it.
pub const MAX_STATE: usize = 4096;
/// `nonce` (OpenID Connect Core §3.1.2.1): a random value, copied into the ID token.
pub const MAX_NONCE: usize = 512;
/// `login_hint`: an identifier or an e-mail address (RFC 5321 §4.5.3.1.3: 254 at most).
pub const MAX_LOGIN_HINT: usize = 256;
/// `ui_locales`: a few BCP 47 tags.
pub const MAX_UI_LOCALES: usize = 256;
/// `acr_values`: a few URNs (only one is kept, `claims_request::acr_for`).
pub const MAX_ACR_VALUES: usize = 1024;
/// `claims` (OpenID Connect Core §5.5): a JSON object naming a few dozen claims at most.
pub const MAX_CLAIMS: usize = 2048;
/// `scope`: only the supported scopes are kept, but the text is parsed whole.
pub const MAX_SCOPE: usize = 2048;
/// The whole pending request as stored (JSON): what one request may cost the ephemeral store.
/// Each value within its own bound can still add up (JSON escaping doubles a quote), hence a
/// bound on the sum.
pub const MAX_PENDING_BYTES: usize = 8 * 1024;

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
