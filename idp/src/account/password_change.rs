//! Setting a new password (issue #4), the one path every page that sets one goes through:
//! first login and forced change on expiry, /account, activation, recovery (issue #5).
//! Checks (confirmation, the user type's policy, the last N passwords and the current one),
//! then one store transaction writes the hash, its history entry, the end of a provisional
//! password, `sessions_not_before` (every older browser session dies at once) and the removal
//! of the other sessions' refresh tokens, optionally consuming a one-time token. After the
//! commit: the other sessions are ended for logout propagation, the change is audited and a
//! confirmation e-mail is sent.

use serde::Serialize;
use serde_json::json;

use super::{audit, lockout, policy};
use crate::domain::{Secret, User};
use crate::mail::notify;
use crate::services::{InfraError, Services};
use crate::session::{self, ClientInfo};
use crate::store::PasswordChange;

/// Why the password changes (audit detail and wording of the confirmation e-mail).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Provisional password replaced at the first sign-in.
    FirstLogin,
    /// Forced change of an expired password.
    Expired,
    /// Changed from /account (the current password was checked by the caller).
    Account,
    /// Set through an activation link.
    Activation,
    /// Set at the end of a recovery (issue #5): also lifts a lockout.
    Recovery,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstLogin => "first_login",
            Self::Expired => "expired",
            Self::Account => "account",
            Self::Activation => "activation",
            Self::Recovery => "recovery",
        }
    }
}

/// Everything about one change besides the passwords.
#[derive(Clone, Debug)]
pub struct Context<'a> {
    pub reason: Reason,
    pub info: &'a ClientInfo,
    /// The session of the browser making the change, which stays signed in (it is confirmed,
    /// its refresh tokens survive); every other session ends.
    pub keep_sid: Option<&'a str>,
    /// A one-time token (digest, purpose) consumed in the same transaction (activation link,
    /// recovery link or code).
    pub redeem_token: Option<(&'a str, &'a str)>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The confirmation differs from the new password.
    #[error("the confirmation does not match")]
    Mismatch,
    /// The failed rules, history included, and zxcvbn's advice (`policy::Evaluation`): the
    /// refusal says what to change (issue #13, item 4).
    #[error("the password breaks {} rule(s)", .0.len())]
    Policy(Vec<policy::Violation>, policy::Feedback),
    /// The user disappeared, or the one-time token was already used or expired: nothing written.
    #[error("the account or the one-time token is gone")]
    Gone,
    #[error(transparent)]
    Infra(#[from] InfraError),
}

/// Context of the `password_changed` e-mail.
#[derive(Debug, Serialize)]
struct PasswordChanged {
    name: String,
    login: String,
    when: i64,
    reason: &'static str,
    recovery_url: String,
}

/// The personal data of `user` that a password must not contain (and zxcvbn's user inputs).
pub fn personal_data(user: &User) -> policy::PersonalData<'_> {
    policy::PersonalData {
        login: &user.login,
        given_name: &user.given_name,
        family_name: &user.family_name,
        email: &user.email,
    }
}

/// Checks `new` against the policy of the user's type without writing anything: the same
/// verdict `change` would give (for pages that want to answer before a second step).
pub async fn check(s: &Services, user: &User, new: &Secret, confirm: &Secret) -> Result<(), ChangeError> {
    if new.expose() != confirm.expose() {
        return Err(ChangeError::Mismatch);
    }
    let user_type = s.user_types.of(&user.user_type);
    let p = &user_type.password_policy;
    let personal = personal_data(user);
    let policy::Evaluation { mut violations, feedback, .. } = policy::evaluate(p, new.expose(), &personal);
    if violations.is_empty() {
        // The current password (a provisional one included) never counts as new.
        let mut hashes = vec![user.password_hash.clone()];
        if p.history > 0 {
            hashes.extend(s.store.password_history(&user.id, p.history).await.map_err(InfraError::from)?);
        }
        if policy::is_in_history(&s.passwords, new, &hashes).await? {
            violations.push(policy::Violation::Reused { last: p.history.max(1) });
        }
    }
    if violations.is_empty() { Ok(()) } else { Err(ChangeError::Policy(violations, feedback)) }
}

/// What a committed change leaves to follow up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changed {
    /// The propagation webhook delivery queued with the change (issue #5,
    /// `recovery::propagation`), when one is configured: the recovery's waiting page follows it.
    pub propagation_id: Option<String>,
}

/// Checks and applies a new password; see the module documentation. On `Ok` the change is
/// committed; on `Err` nothing was written.
pub async fn change(
    s: &Services,
    user: &User,
    new: &Secret,
    confirm: &Secret,
    ctx: &Context<'_>,
) -> Result<Changed, ChangeError> {
    check(s, user, new, confirm).await?;
    let user_type = s.user_types.of(&user.user_type);
    let hash = s.passwords.hash(new).await?;
    let now = s.now();
    // Downstream systems hear of every change (issue #5): queued in the same transaction.
    let webhook = super::recovery::propagation::delivery_for(s, user, ctx.reason.as_str(), now);
    let change = PasswordChange {
        user_id: &user.id,
        hash: &hash,
        keep: user_type.password_policy.history,
        now,
        keep_sid: ctx.keep_sid,
        redeem_token: ctx.redeem_token,
        webhook: webhook.as_ref(),
    };
    if !s.store.change_password(&change).await.map_err(InfraError::from)? {
        return Err(ChangeError::Gone);
    }
    let propagation_id = webhook.map(|delivery| {
        let id = delivery.id.clone();
        super::recovery::propagation::deliver_soon(s, delivery);
        id
    });
    // Committed. What follows only propagates it: the other sessions are already invalid
    // (`sessions_not_before`), so a failure here is logged, not returned.
    if let Err(e) = after_commit(s, user, ctx).await {
        tracing::error!(user_id = %user.id, error = %e, "password changed; ending the other sessions failed");
    }
    let context = PasswordChanged {
        name: user.display_name(),
        login: user.login.clone(),
        when: now,
        reason: ctx.reason.as_str(),
        recovery_url: s.endpoint("/recovery/password"),
    };
    notify::send(s, user, ctx.info.lang, "password_changed", &context).await;
    Ok(Changed { propagation_id })
}

async fn after_commit(s: &Services, user: &User, ctx: &Context<'_>) -> Result<(), InfraError> {
    audit::record(s, Some(&user.id), audit::PASSWORD_CHANGED, ctx.info, json!({ "reason": ctx.reason.as_str() }))
        .await?;
    if let Some(current) = match ctx.keep_sid {
        Some(sid) => session::by_sid(s, sid).await?,
        None => None,
    } {
        session::confirm(s, &current).await?;
    }
    // Listing ends every session the change invalidated (logout propagation); one opened in the
    // very same second survives the check, so it is ended here.
    for other in session::list_for_user(s, &user.id).await? {
        if Some(other.sid.as_str()) != ctx.keep_sid {
            session::end(s, &other).await?;
        }
    }
    if ctx.reason == Reason::Recovery {
        lockout::unlock(s, &user.id).await?;
    }
    Ok(())
}
