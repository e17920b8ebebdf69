//! What a browser that nobody has authenticated may make the provider keep (issue #10,
//! docs/decisions/0013-bounded-pending-requests.md): bounds on each kept parameter of an
//! authorization request and on the whole record, and a per-address limit on creating pending
//! records (authorization requests, logout confirmations, sign-ins to the account space).
//! The short life of an unanswered authorization request lives in `authorize`.
//!
//! RFC 6749 and OpenID Connect Core set no maximum length; these bounds leave ample room for
//! what relying parties send (JSON in `state`, a few locales, a hand-written `claims` request)
//! while making the cost of one pending request a small constant.

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

/// The per-address limit on creating pending records, shared with the account flows (captcha
/// challenges, sign-ins to the account space): it lives in `account`, below every protocol.
pub use crate::account::pending_throttle::admit;
