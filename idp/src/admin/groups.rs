//! Groups of users (issue #11), as the operator manages them (`idp group …`): create, list,
//! show, add and remove members. Applications restrict sign-in to groups with the client
//! setting `allowed_groups`; the `groups` scope releases a user's group ids. Writes need
//! `Permission::ManageGroups`; reading them `ViewUsers` (support filters users by group), and
//! each write is audited with its actor (issue #12).

use super::AdminError;
use super::actor::{self, Actor, Permission};
use crate::account::audit;
use crate::domain::Login;
use crate::domain::User;
use crate::services::{InfraError, Services};
use crate::store::{GroupDetail, GroupSummary, StoreError};

/// Longest group id: it travels in every `groups` claim.
pub const MAX_GROUP_ID: usize = 64;

/// A group id: 1 to 64 letters, digits, `-`, `_` or `.` (a slug that reads well in a claim, a
/// setting and a log line without escaping).
pub fn parse_group_id(raw: &str) -> Result<String, AdminError> {
    let ok = !raw.is_empty()
        && raw.len() <= MAX_GROUP_ID
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(AdminError::Invalid(format!("group id {raw:?}: 1 to {MAX_GROUP_ID} letters, digits, '-', '_' or '.'")))
    }
}

/// Creates a group; its name is for people (defaults to the id).
pub async fn add_group(s: &Services, actor: &Actor, id: &str, name: &str) -> Result<GroupSummary, AdminError> {
    actor.require(Permission::ManageGroups)?;
    let id = parse_group_id(id)?;
    let name = name.trim();
    if name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(AdminError::Invalid("a group name is at most 200 printable characters".into()));
    }
    let name = if name.is_empty() { id.clone() } else { name.to_owned() };
    let now = s.now();
    s.store.create_group(&id, &name, now).await.map_err(|e| match e {
        StoreError::Conflict(_) => AdminError::Duplicate(format!("group {id:?}")),
        other => other.into(),
    })?;
    actor::record(s, actor, audit::GROUP_CREATED, None, serde_json::json!({ "group_id": id, "name": name })).await?;
    Ok(GroupSummary { id, name, created_at: now, members: 0 })
}

pub async fn list_groups(s: &Services, actor: &Actor) -> Result<Vec<GroupSummary>, AdminError> {
    actor.require(Permission::ViewUsers)?;
    Ok(s.store.groups().await.map_err(InfraError::from)?)
}

pub async fn show_group(s: &Services, actor: &Actor, id: &str) -> Result<GroupDetail, AdminError> {
    actor.require(Permission::ViewUsers)?;
    let id = parse_group_id(id)?;
    s.store.group(&id).await.map_err(InfraError::from)?.ok_or_else(|| unknown_group(&id))
}

/// Adds the user named by `login`; false when they already were a member.
pub async fn add_member(s: &Services, actor: &Actor, group_id: &str, login: &str) -> Result<bool, AdminError> {
    actor.require(Permission::ManageGroups)?;
    let (group_id, user) = group_and_user(s, group_id, login).await?;
    let added = s.store.add_group_member(&group_id, &user.id, s.now()).await.map_err(InfraError::from)?;
    if added {
        let detail = serde_json::json!({ "group_id": group_id });
        actor::record(s, actor, audit::GROUP_MEMBER_ADDED, Some(&user.id), detail).await?;
    }
    Ok(added)
}

/// Removes the user named by `login`; false when they were not a member. Their next
/// authorization or refresh for an application restricted to the group is refused.
pub async fn remove_member(s: &Services, actor: &Actor, group_id: &str, login: &str) -> Result<bool, AdminError> {
    actor.require(Permission::ManageGroups)?;
    let (group_id, user) = group_and_user(s, group_id, login).await?;
    let removed = s.store.remove_group_member(&group_id, &user.id).await.map_err(InfraError::from)?;
    if removed {
        let detail = serde_json::json!({ "group_id": group_id });
        actor::record(s, actor, audit::GROUP_MEMBER_REMOVED, Some(&user.id), detail).await?;
    }
    Ok(removed)
}

async fn group_and_user(s: &Services, group_id: &str, login: &str) -> Result<(String, User), AdminError> {
    let group_id = parse_group_id(group_id)?;
    if s.store.group(&group_id).await.map_err(InfraError::from)?.is_none() {
        return Err(unknown_group(&group_id));
    }
    let unknown_login = || AdminError::Invalid(format!("no user with login {login:?}"));
    let login = Login::parse(login).map_err(|_| unknown_login())?;
    let user = s.store.user_by_login(login.as_str()).await.map_err(InfraError::from)?.ok_or_else(unknown_login)?;
    Ok((group_id, user))
}

fn unknown_group(id: &str) -> AdminError {
    AdminError::Invalid(format!("no group {id:?} (`idp group list` shows them)"))
}

/// Per-application authorisation (issue #11): the user types named must be declared ones, the
/// groups well-formed ids (they may be created later), and neither list empty (an empty list
/// would let nobody in; no setting lets everyone in).
pub(super) fn check_access_rules(
    s: &Services,
    settings: &crate::domain::client::ClientSettings,
) -> Result<(), AdminError> {
    if let Some(types) = &settings.allowed_user_types {
        if types.is_empty() {
            return Err(AdminError::Invalid(
                "allowed_user_types is empty: nobody could sign in (omit it for everyone)".into(),
            ));
        }
        if let Some(unknown) = types.iter().find(|t| s.user_types.get(t).is_none()) {
            return Err(AdminError::Invalid(format!("allowed_user_types: unknown user type {unknown:?}")));
        }
    }
    if let Some(groups) = &settings.allowed_groups {
        if groups.is_empty() {
            return Err(AdminError::Invalid(
                "allowed_groups is empty: nobody could sign in (omit it for everyone)".into(),
            ));
        }
        for id in groups {
            parse_group_id(id).map_err(|e| AdminError::Invalid(format!("allowed_groups: {e}")))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_group_id;

    #[test]
    fn group_ids_are_short_slugs() {
        for good in ["habilites-bonus-eco", "staff_2026", "a.b", "G"] {
            assert!(parse_group_id(good).is_ok(), "{good:?} was refused");
        }
        for bad in ["", "a b", "é", "a/b", "a,b", &"x".repeat(65)] {
            assert!(parse_group_id(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
