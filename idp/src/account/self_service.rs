//! Self-service from /account (issue #4): a signed-in user changes their password or their
//! secret question, closes another of their sessions, and reads their recent sign-ins. The
//! pages live in `web::handlers::account_security`; the account space itself (a relying party of
//! this provider) in `account_space`.
//!
//! Both changes first prove the current password, and that proof is a sign-in attempt in
//! all but name: it goes through the lockout engine (wrong guesses count towards the lock, a
//! locked account is refused unverified after the same hashing work) and a wrong one is
//! audited as a failed sign-in, so a stolen session cannot guess the password without limit
//! nor unseen. Nothing about the new password is evaluated before the current one is proven:
//! the history check would otherwise tell a session thief whether a guess was one of the
//! user's last passwords. The change itself is `password_change::change`, the one path.

use serde_json::json;

use super::password_change::{self, ChangeError, Context, Reason};
use super::secret_question::{self, SecretQuestionError};
use super::{audit, lockout};
use crate::domain::client::ACCOUNT_SPACE_CLIENT_ID;
use crate::domain::{Secret, User};
use crate::services::{InfraError, Services};
use crate::session::{self, ClientInfo};
use crate::store::AuditEvent;

/// How many sign-ins (successful or not) /account lists.
pub const RECENT_SIGN_INS: i64 = 10;

#[derive(Debug, thiserror::Error)]
pub enum SelfServiceError {
    /// The current password is wrong (the attempt was counted).
    #[error("the current password is wrong")]
    WrongPassword,
    /// Too many wrong passwords: the account is locked, nothing was verified.
    #[error("the account is locked after too many wrong passwords")]
    Locked,
    /// The new password was refused (mismatch, policy, history); nothing was written.
    #[error(transparent)]
    NewPassword(ChangeError),
    /// The question or the answer does not fit the limits; nothing was written.
    #[error(transparent)]
    SecretQuestion(SecretQuestionError),
    #[error(transparent)]
    Infra(#[from] InfraError),
}

/// Checks the current password of a signed-in user like a sign-in attempt (see the module
/// documentation). `Ok(())`: proven, and the user's series of failures is forgotten.
pub async fn prove_password(
    s: &Services,
    user: &User,
    password: &Secret,
    info: &ClientInfo,
) -> Result<(), SelfServiceError> {
    let attempt = lockout::begin(s, Some(user), &info.ip).await?;
    let admitted = attempt.is_admitted();
    // A refused attempt still costs one verification (of the dummy hash).
    let matched = s.passwords.verify(password, Some(user.password_hash.as_str()).filter(|_| admitted)).await?;
    lockout::finish(s, attempt, Some(user), matched, info.lang).await?;
    if matched {
        return Ok(());
    }
    let reason = if admitted { "password" } else { "locked" };
    let detail = json!({ "client_id": ACCOUNT_SPACE_CLIENT_ID, "reason": reason, "step": "current_password" });
    audit::record(s, Some(&user.id), audit::SIGN_IN_FAILED, info, detail).await?;
    Err(if admitted { SelfServiceError::WrongPassword } else { SelfServiceError::Locked })
}

/// Proves `current`, then sets `new` through `password_change::change`: the session
/// `keep_sid` (this browser) stays signed in, every other one ends, the change is audited and
/// confirmed by e-mail. On `Err` nothing was written.
pub async fn change_password(
    s: &Services,
    user: &User,
    current: &Secret,
    new: &Secret,
    confirm: &Secret,
    info: &ClientInfo,
    keep_sid: Option<&str>,
) -> Result<(), SelfServiceError> {
    prove_password(s, user, current, info).await?;
    let ctx = Context { reason: Reason::Account, info, keep_sid, redeem_token: None };
    password_change::change(s, user, new, confirm, &ctx).await.map_err(|e| match e {
        ChangeError::Infra(e) => SelfServiceError::Infra(e),
        other => SelfServiceError::NewPassword(other),
    })?;
    Ok(())
}

/// Proves `current`, then replaces the secret question and its answer (audited).
pub async fn change_secret_question(
    s: &Services,
    user: &User,
    current: &Secret,
    question: &str,
    answer: &Secret,
    info: &ClientInfo,
) -> Result<(), SelfServiceError> {
    prove_password(s, user, current, info).await?;
    secret_question::set(s, &user.id, question, answer).await.map_err(|e| match e {
        SecretQuestionError::Infra(e) => SelfServiceError::Infra(e),
        other => SelfServiceError::SecretQuestion(other),
    })?;
    audit::record(s, Some(&user.id), audit::SECRET_QUESTION_SET, info, json!({ "from": "account" })).await?;
    Ok(())
}

/// Ends one of the user's sessions (logout propagation included) and audits it. `false`: no
/// such live session of this user, nothing done (another user's session is never touched).
pub async fn close_session(s: &Services, user_id: &str, sid: &str, info: &ClientInfo) -> Result<bool, InfraError> {
    let Some(target) = session::by_sid(s, sid).await?.filter(|t| t.user_id == user_id) else {
        return Ok(false);
    };
    session::end(s, &target).await?;
    audit::record(s, Some(user_id), audit::SESSIONS_ENDED, info, json!({ "reason": "closed_from_account" })).await?;
    Ok(true)
}

/// An application the user consented to, as /account lists it (issue #13).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentedApplication {
    pub client_id: String,
    /// The client's display name; its id when the client is gone.
    pub name: String,
    pub scopes: Vec<String>,
    pub granted_at: i64,
}

/// The applications the user consented to, newest consent first (the store's consents, as
/// `admin::users::consents_of_user` reads them for an operator).
pub async fn consented_applications(s: &Services, user_id: &str) -> Result<Vec<ConsentedApplication>, InfraError> {
    let mut applications = Vec::new();
    for consent in s.store.consents_of(user_id).await? {
        let name =
            s.store.client(&consent.client_id).await?.map(|c| c.name).unwrap_or_else(|| consent.client_id.clone());
        applications.push(ConsentedApplication {
            name,
            scopes: consent.scopes.iter().map(str::to_owned).collect(),
            granted_at: consent.granted_at,
            client_id: consent.client_id,
        });
    }
    applications.sort_by_key(|a| std::cmp::Reverse(a.granted_at));
    Ok(applications)
}

/// Withdraws the user's consent to `client_id`: the next authorization asks again, and the
/// user's refresh tokens of that client are deleted (the store's `revoke_consent`, the one
/// `admin::users::revoke_consent` uses); audited. `false`: the user had neither, nothing done
/// (another user's consent is never touched: the store deletes by this user's id).
pub async fn withdraw_consent(
    s: &Services,
    user_id: &str,
    client_id: &str,
    info: &ClientInfo,
) -> Result<bool, InfraError> {
    if !s.store.revoke_consent(user_id, client_id).await? {
        return Ok(false);
    }
    audit::record(s, Some(user_id), audit::CONSENT_WITHDRAWN, info, json!({ "client_id": client_id })).await?;
    Ok(true)
}

/// The user's last sign-ins and failed sign-ins, newest first.
pub async fn recent_sign_ins(s: &Services, user_id: &str) -> Result<Vec<AuditEvent>, InfraError> {
    Ok(s.store.events_for_user(user_id, audit::SIGN_IN, RECENT_SIGN_INS).await?)
}
