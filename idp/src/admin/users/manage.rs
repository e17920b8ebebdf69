//! Changes to an account by an administrator (issue #12): update, disable, enable, delete (the
//! GDPR erasure). Each needs `ManageUsers`, is audited with the names of what changed, and ends
//! the browser sessions through `session::end`, so that logout reaches every application.

use serde_json::json;

use super::{UserRef, find};
use crate::account::audit;
use crate::admin::actor::{self, Actor, Permission};
use crate::admin::{AdminError, parse_birth_date, parse_identifiers};
use crate::domain::Email;
use crate::services::{InfraError, Services};
use crate::session;
use crate::store::StoreError;
use crate::store::user_admin::ProfileUpdate;

/// What an administrator changes; `None` leaves a field as it is. An empty phone number,
/// address or birth date removes it; `identifiers`, when given, replaces all of them.
#[derive(Clone, Debug, Default)]
pub struct UserUpdate {
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phone_number: Option<String>,
    pub address: Option<String>,
    pub user_type: Option<String>,
    pub birth_date: Option<String>,
    pub identifiers: Option<Vec<(String, String)>>,
}

fn optional(v: &Option<String>) -> Option<Option<String>> {
    v.as_deref().map(|t| Some(t.trim().to_owned()).filter(|t| !t.is_empty()))
}

/// Parses every field (as `admin::parse_user` does for a new account) before anything is written.
fn parse_update(s: &Services, u: &UserUpdate) -> Result<(ProfileUpdate, Vec<&'static str>), AdminError> {
    let mut fields = Vec::new();
    let mut note = |present: bool, name: &'static str| {
        if present {
            fields.push(name);
        }
    };
    note(u.email.is_some(), "email");
    note(u.given_name.is_some(), "given_name");
    note(u.family_name.is_some(), "family_name");
    note(u.phone_number.is_some(), "phone_number");
    note(u.address.is_some(), "address");
    note(u.user_type.is_some(), "user_type");
    note(u.birth_date.is_some(), "birth_date");
    note(u.identifiers.is_some(), "identifiers");
    let email = u
        .email
        .as_deref()
        .map(|e| Email::parse(e).map(|e| e.as_str().to_owned()).map_err(|e| AdminError::Invalid(e.to_string())))
        .transpose()?;
    let user_type = match u.user_type.as_deref().map(str::trim) {
        Some(t) if s.user_types.get(t).is_none() => {
            return Err(AdminError::Invalid(format!("unknown user type {t:?}")));
        }
        other => other.map(str::to_owned),
    };
    let birth_date = match optional(&u.birth_date) {
        Some(Some(date)) => Some(Some(parse_birth_date(&date)?)),
        other => other,
    };
    let identifiers = u.identifiers.as_deref().map(parse_identifiers).transpose()?;
    let name = |v: &Option<String>| v.as_deref().map(|n| n.trim().to_owned());
    let update = ProfileUpdate {
        email,
        given_name: name(&u.given_name),
        family_name: name(&u.family_name),
        phone_number: optional(&u.phone_number),
        address: optional(&u.address),
        user_type,
        birth_date,
        identifiers,
    };
    Ok((update, fields))
}

/// Changes the account's profile; the audit event names the fields, not their values.
pub async fn update_user(s: &Services, actor: &Actor, user: &UserRef, update: &UserUpdate) -> Result<(), AdminError> {
    actor.require(Permission::ManageUsers)?;
    let (profile, fields) = parse_update(s, update)?;
    if profile.is_empty() {
        return Err(AdminError::Invalid("nothing to change".into()));
    }
    let record = find(s, user).await?;
    let updated = s.store.update_profile(&record.user.id, &profile, s.now()).await.map_err(|e| match e {
        StoreError::Conflict(_) => AdminError::Duplicate("an identifier given, held by another account,".into()),
        other => other.into(),
    })?;
    if !updated {
        return Err(AdminError::NotFound(user.to_string()));
    }
    actor::record(s, actor, audit::ADMIN_USER_UPDATED, Some(&record.user.id), json!({ "fields": fields })).await
}

/// A disabled account cannot sign in (`account::login` refuses it); its sessions end and its
/// refresh tokens are deleted.
pub async fn disable_user(s: &Services, actor: &Actor, user: &UserRef) -> Result<(), AdminError> {
    actor.require(Permission::ManageUsers)?;
    let record = find(s, user).await?;
    if !s.store.set_disabled(&record.user.id, true, s.now()).await.map_err(InfraError::from)? {
        return Err(AdminError::NotFound(user.to_string()));
    }
    let sessions = session::end_all_for_user(s, &record.user.id).await?;
    actor::record(s, actor, audit::ADMIN_USER_DISABLED, Some(&record.user.id), json!({ "sessions_ended": sessions }))
        .await
}

/// The account may sign in again (sessions and tokens ended by the disabling stay ended).
pub async fn enable_user(s: &Services, actor: &Actor, user: &UserRef) -> Result<(), AdminError> {
    actor.require(Permission::ManageUsers)?;
    let record = find(s, user).await?;
    if !s.store.set_disabled(&record.user.id, false, s.now()).await.map_err(InfraError::from)? {
        return Err(AdminError::NotFound(user.to_string()));
    }
    actor::record(s, actor, audit::ADMIN_USER_ENABLED, Some(&record.user.id), json!({})).await
}

/// The GDPR right to erasure (art. 17): the sessions end (applications are told), then one
/// transaction deletes the account and its personal data (`UserAdminStore::erase_user`). The
/// audit trail stays, under the account's id, a random pseudonym, with its login and e-mail
/// scrubbed; the erasure itself is recorded under the same id.
pub async fn delete_user(s: &Services, actor: &Actor, user: &UserRef) -> Result<(), AdminError> {
    actor.require(Permission::ManageUsers)?;
    let record = find(s, user).await?;
    let id = record.user.id.clone();
    let sessions = session::end_all_for_user(s, &id).await?;
    if !s.store.erase_user(&id, &record.user.login, &record.user.email).await.map_err(InfraError::from)? {
        return Err(AdminError::NotFound(user.to_string()));
    }
    actor::record(s, actor, audit::ADMIN_USER_DELETED, Some(&id), json!({ "sessions_ended": sessions })).await
}
