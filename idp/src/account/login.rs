//! Sign-in with identifier and password: one generic failure whatever went wrong (unknown
//! identifier, wrong password, disabled account), with the same work done in every case.

use super::lockout;
use crate::domain::{Login, Secret, User};
use crate::services::{InfraError, Services};

#[derive(Debug)]
pub enum LoginOutcome {
    /// `password_expired`: older than the user type's `max_age_days`; the caller sends the
    /// user to the forced change (issue #4).
    Success {
        user: Box<User>,
        password_expired: bool,
    },
    Failed,
}

/// `ip`: the client's address, for the per-address limit (empty when unknown).
pub async fn authenticate(s: &Services, login: &str, password: &Secret, ip: &str) -> Result<LoginOutcome, InfraError> {
    let user = match Login::parse(login) {
        Ok(login) => s.store.user_by_login(login.as_str()).await?,
        Err(_) => None,
    };
    // Lockout and throttling (issue #4): a refused attempt verifies the dummy hash instead.
    let attempt = lockout::begin(s, user.as_ref(), ip).await?;
    let hash = user.as_ref().filter(|_| attempt.is_admitted()).map(|u| u.password_hash.as_str());
    let matched = s.passwords.verify(password, hash).await?;
    let succeeded = matched && user.as_ref().is_some_and(|u| !u.disabled);
    lockout::finish(s, attempt, user.as_ref(), succeeded).await?;
    Ok(match user {
        Some(user) if matched && !user.disabled => {
            let password_expired = super::password_age::after_sign_in(s, &user, password).await?;
            LoginOutcome::Success { user: Box::new(user), password_expired }
        }
        _ => LoginOutcome::Failed,
    })
}
