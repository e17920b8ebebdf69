//! What support may do for a user (issue #12, the Bonus Eco "Assistance"): unlock, send a reset,
//! reset the secret question, see and end sessions. Consents and grants are administrators'
//! (`ManageUsers`); the user's audit events are the auditors' (`ReadAudit`).

use serde::Serialize;
use serde_json::json;

use super::{SessionView, UserEvent, UserRef, find};
use crate::account::activation::{self, Sent};
use crate::account::{audit, lockout};
use crate::admin::AdminError;
use crate::admin::actor::{self, Actor, Permission};
use crate::admin::page::{Page, PageRequest};
use crate::domain::UNUSABLE_PASSWORD_HASH;
use crate::services::{InfraError, Services};
use crate::session;
use crate::store::user_admin::GrantRecord;

/// Lifts the account's lockout (account/lockout.rs) and forgets its failures.
pub async fn unlock_user(s: &Services, actor: &Actor, user: &UserRef) -> Result<(), AdminError> {
    actor.require(Permission::SupportUsers)?;
    let record = find(s, user).await?;
    let was_locked = lockout::is_locked(s, &record.user.id).await?;
    lockout::unlock(s, &record.user.id).await?;
    actor::record(s, actor, audit::ADMIN_USER_UNLOCKED, Some(&record.user.id), json!({ "was_locked": was_locked }))
        .await
}

/// How a reset reaches the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetMethod {
    /// A provisional password by e-mail, to change at the next sign-in (`admin::reset_password`).
    ProvisionalPassword,
    /// An activation link by e-mail through which the user chooses a password.
    ActivationLink,
}

impl ResetMethod {
    fn as_str(self) -> &'static str {
        match self {
            ResetMethod::ProvisionalPassword => "provisional_password",
            ResetMethod::ActivationLink => "activation_link",
        }
    }
}

/// Either way the old password stops working and every session ends; where and until when
/// the secret was sent is returned, never the secret.
pub async fn reset_user_password(
    s: &Services,
    actor: &Actor,
    user: &UserRef,
    method: ResetMethod,
) -> Result<Sent, AdminError> {
    actor.require(Permission::SupportUsers)?;
    let record = find(s, user).await?;
    let u = &record.user;
    let sent = match method {
        ResetMethod::ProvisionalPassword => activation::start_provisional(s, u, &actor.info).await?,
        ResetMethod::ActivationLink => {
            let now = s.now();
            // No usable password until the link is followed; the sessions die with the commit.
            let expires_at = now + s.lifetimes.activation_link;
            if s.store.set_provisional_password(&u.id, UNUSABLE_PASSWORD_HASH, expires_at, now).await? {
                session::end_all_for_user(s, &u.id).await?;
                Some(activation::start_activation_link(s, u, &actor.info).await?)
            } else {
                None
            }
        }
    };
    let sent = sent.ok_or_else(|| AdminError::NotFound(user.to_string()))?;
    actor::record(
        s,
        actor,
        audit::ADMIN_PASSWORD_RESET,
        Some(&u.id),
        json!({ "method": method.as_str(), "mailed": sent.mailed }),
    )
    .await?;
    Ok(sent)
}

/// Deletes the secret question, so that the next sign-in's first-login steps ask for a new one
/// (`first_login::owed`). Refused for a user type that has no secret question.
pub async fn reset_secret_question(s: &Services, actor: &Actor, user: &UserRef) -> Result<(), AdminError> {
    actor.require(Permission::SupportUsers)?;
    let record = find(s, user).await?;
    if !s.user_types.of(&record.user.user_type).secret_question {
        return Err(AdminError::Invalid(format!("users of type {:?} have no secret question", record.user.user_type)));
    }
    let had = s.store.delete_secret_question(&record.user.id).await.map_err(InfraError::from)?;
    actor::record(s, actor, audit::ADMIN_SECRET_QUESTION_RESET, Some(&record.user.id), json!({ "had_one": had })).await
}

/// The user's live browser sessions, newest first.
pub async fn sessions_of_user(s: &Services, actor: &Actor, user: &UserRef) -> Result<Vec<SessionView>, AdminError> {
    actor.require(Permission::ViewUsers)?;
    let record = find(s, user).await?;
    Ok(session::list_for_user(s, &record.user.id).await?.into_iter().map(SessionView::from).collect())
}

/// Ends one session (`sid`) or all of them, with logout propagation; how many ended.
/// `NotFound` when `sid` is not a live session of this user.
pub async fn end_user_sessions(
    s: &Services,
    actor: &Actor,
    user: &UserRef,
    sid: Option<&str>,
) -> Result<usize, AdminError> {
    actor.require(Permission::SupportUsers)?;
    let record = find(s, user).await?;
    let id = &record.user.id;
    let ended = match sid {
        None => session::end_all_for_user(s, id).await?,
        Some(sid) => match session::by_sid(s, sid).await? {
            Some(live) if live.user_id == *id => {
                session::end(s, &live).await?;
                1
            }
            _ => return Err(AdminError::NotFound(format!("session {sid:?} of {user}"))),
        },
    };
    actor::record(s, actor, audit::ADMIN_SESSIONS_ENDED, Some(id), json!({ "sessions": ended, "sid": sid })).await?;
    Ok(ended)
}

/// A remembered consent, as shown to an operator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConsentView {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub granted_at: i64,
}

pub async fn consents_of_user(s: &Services, actor: &Actor, user: &UserRef) -> Result<Vec<ConsentView>, AdminError> {
    actor.require(Permission::ManageUsers)?;
    let record = find(s, user).await?;
    let consents = s.store.consents_of(&record.user.id).await.map_err(InfraError::from)?;
    Ok(consents
        .into_iter()
        .map(|c| ConsentView {
            client_id: c.client_id,
            scopes: c.scopes.iter().map(str::to_owned).collect(),
            granted_at: c.granted_at,
        })
        .collect())
}

/// Forgets the consent to `client_id` (the next authorization asks again) and deletes the
/// user's refresh tokens of that client. `NotFound` when there was neither.
pub async fn revoke_consent(s: &Services, actor: &Actor, user: &UserRef, client_id: &str) -> Result<(), AdminError> {
    actor.require(Permission::ManageUsers)?;
    let record = find(s, user).await?;
    if !s.store.revoke_consent(&record.user.id, client_id).await.map_err(InfraError::from)? {
        return Err(AdminError::NotFound(format!("consent of {user} to client {client_id:?}")));
    }
    actor::record(s, actor, audit::ADMIN_CONSENT_REVOKED, Some(&record.user.id), json!({ "client_id": client_id }))
        .await
}

/// A live authorization (refresh-token grant), as shown to an operator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GrantView {
    pub grant_id: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

impl From<GrantRecord> for GrantView {
    fn from(g: GrantRecord) -> Self {
        GrantView {
            grant_id: g.grant_id,
            client_id: g.client_id,
            scopes: g.scopes.split_whitespace().map(str::to_owned).collect(),
            created_at: g.created_at,
            expires_at: g.expires_at,
        }
    }
}

pub async fn grants_of_user(s: &Services, actor: &Actor, user: &UserRef) -> Result<Vec<GrantView>, AdminError> {
    actor.require(Permission::ManageUsers)?;
    let record = find(s, user).await?;
    let grants = s.store.grants_of(&record.user.id, s.now()).await.map_err(InfraError::from)?;
    Ok(grants.into_iter().map(GrantView::from).collect())
}

/// Deletes every refresh token of the user's grant `grant_id`.
pub async fn revoke_grant(s: &Services, actor: &Actor, user: &UserRef, grant_id: &str) -> Result<(), AdminError> {
    actor.require(Permission::ManageUsers)?;
    let record = find(s, user).await?;
    let tokens = s.store.revoke_user_grant(&record.user.id, grant_id).await.map_err(InfraError::from)?;
    if tokens == 0 {
        return Err(AdminError::NotFound(format!("grant {grant_id:?} of {user}")));
    }
    actor::record(
        s,
        actor,
        audit::ADMIN_GRANT_REVOKED,
        Some(&record.user.id),
        json!({ "grant_id": grant_id, "tokens": tokens }),
    )
    .await
}

/// The user's audit events, newest first (auditors and administrators).
pub async fn user_events(
    s: &Services,
    actor: &Actor,
    user: &UserRef,
    page: PageRequest,
) -> Result<Page<UserEvent>, AdminError> {
    actor.require(Permission::ReadAudit)?;
    let record = find(s, user).await?;
    let offset = i64::try_from(page.offset).unwrap_or(i64::MAX);
    let (events, total) =
        s.store.user_events_page(&record.user.id, i64::from(page.limit), offset).await.map_err(InfraError::from)?;
    Ok(Page {
        items: events.into_iter().map(UserEvent::from).collect(),
        total: u64::try_from(total).unwrap_or_default(),
        limit: page.limit,
        offset: page.offset,
    })
}
