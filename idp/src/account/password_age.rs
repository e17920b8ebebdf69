//! What a successful sign-in checks about the password itself (issue #4): its age against the
//! user type's `max_age_days` (Bonus Eco: 90 days), and its hash recipe: a hash made with
//! other argon2 parameters is replaced transparently, the password being at hand.

use crate::account::policy;
use crate::domain::{Secret, User};
use crate::services::{InfraError, Services};

/// Rehashes if needed, then tells whether the password has expired. A failed rehash is logged
/// and does not fail the sign-in (the old hash still verifies).
pub async fn after_sign_in(s: &Services, user: &User, password: &Secret) -> Result<bool, InfraError> {
    let now = s.now();
    if s.passwords.needs_rehash(&user.password_hash) {
        let rehashed = match s.passwords.hash(password).await {
            Ok(hash) => s.store.set_password_hash(&user.id, &hash, now).await.map_err(InfraError::from),
            Err(e) => Err(e),
        };
        if let Err(e) = rehashed {
            tracing::warn!(error = %e, "transparent rehash failed");
        }
    }
    is_password_expired(s, user, now).await
}

pub async fn is_password_expired(s: &Services, user: &User, now: i64) -> Result<bool, InfraError> {
    let user_type = s.user_types.of(&user.user_type);
    if user_type.password_policy.max_age_days.is_none() {
        return Ok(false);
    }
    let changed_at = s.store.password_changed_at(&user.id).await?.unwrap_or(user.updated_at);
    Ok(policy::is_expired(&user_type.password_policy, changed_at, now))
}
