//! Sign-in with identifier and password: one generic failure whatever went wrong (unknown
//! identifier, wrong password, disabled account), with the same work done in every case.

use crate::domain::{Login, Secret, User};
use crate::services::{InfraError, Services};

#[derive(Debug)]
pub enum LoginOutcome {
    Success(Box<User>),
    Failed,
}

pub async fn authenticate(s: &Services, login: &str, password: &Secret) -> Result<LoginOutcome, InfraError> {
    let user = match Login::parse(login) {
        Ok(login) => s.store.user_by_login(login.as_str()).await?,
        Err(_) => None,
    };
    let matched = s.passwords.verify(password, user.as_ref().map(|u| u.password_hash.as_str())).await?;
    Ok(match user {
        Some(user) if matched && !user.disabled => LoginOutcome::Success(Box::new(user)),
        _ => LoginOutcome::Failed,
    })
}
