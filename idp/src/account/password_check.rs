//! The live verdict on a password being typed (issue #13, item 3; decision 0018, "one judge"):
//! `POST /password/check` asks here, and gets exactly what the paths that set a password would
//! say (`policy::evaluate` with the same policy and the same personal data, through
//! `password_change::personal_data`). Who the password is for always comes from the server-side
//! flow the page belongs to, never from the request, so the endpoint tells nothing about other
//! accounts.
//!
//! The history (the current and last N passwords) is never compared with a typed password
//! here: every keystroke would cost N+1 argon2id verifications, and a stolen session could
//! test guesses of the current password without the lockout that guards the sign-in. The
//! history line of the page says "checked when you send the form"; the submission checks it.

use std::time::Duration;

use super::{lockout, password_change, policy};
use crate::config::CheckLimits;
use crate::domain::User;
use crate::services::{InfraError, Services};

/// The verdict of the submission paths on `candidate` for `user`, history apart.
pub fn judge(s: &Services, user: &User, candidate: &str) -> policy::Evaluation {
    let p = &s.user_types.of(&user.user_type).password_policy;
    policy::evaluate(p, candidate, &password_change::personal_data(user))
}

/// Whether `user` has a password history worth a rule line ("Différent de vos 3 derniers mots
/// de passe"): not at activation (`activating`: no password was ever chosen), nor at the first
/// login of a new account, whose only password is provisional, unless passwords were chosen
/// before (an account made to change again).
pub async fn has_history(s: &Services, user: &User, activating: bool) -> Result<bool, InfraError> {
    let p = &s.user_types.of(&user.user_type).password_policy;
    if p.history == 0 || activating {
        return Ok(false);
    }
    if user.must_change_password || user.provisional_expires_at.is_some() {
        return Ok(!s.store.password_history(&user.id, 1).await.map_err(InfraError::from)?.is_empty());
    }
    Ok(true)
}

/// Counts one check for the flow (`flow_key`: the server's own id of it) and for the browser's
/// address; false past either limit in the current window of the injected clock (fixed
/// windows, like `pending_throttle`).
pub async fn admit(s: &Services, flow_key: &str, ip: &str) -> Result<bool, InfraError> {
    let CheckLimits { per_flow, per_ip, window } = s.password_checks;
    let window = window.max(1);
    let window_number = s.now().div_euclid(window);
    let ttl = Duration::from_secs(window as u64 + 60);
    if per_flow > 0 {
        let key = format!("throttle:password-check:flow:{}:{window_number}", crate::crypto::digest(flow_key));
        if s.ephemeral.incr(&key, ttl).await? > i64::from(per_flow) {
            return Ok(false);
        }
    }
    if per_ip > 0
        && let Some(source) = lockout::source_of(ip)
    {
        let key = format!("throttle:password-check:ip:{source}:{window_number}");
        let count = s.ephemeral.incr(&key, ttl).await?;
        if count == i64::from(per_ip) + 1 {
            tracing::warn!(ip = %source, limit = per_ip, window, "password checks throttled for this address");
        }
        if count > i64::from(per_ip) {
            return Ok(false);
        }
    }
    Ok(true)
}
