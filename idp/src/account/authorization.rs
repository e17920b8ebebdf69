//! Per-application authorisation (issue #11): may this signed-in user use this application?
//! The one rule every protocol calls once the user is known (OpenID Connect at the end of a
//! sign-in, on an authorization riding a session, at the code exchange and every refresh; CAS
//! at /cas/login). It reads the client's `allowed_user_types` and `allowed_groups`; no setting
//! lets everyone in, both settings must both be satisfied. Imports no protocol: what a refusal
//! looks like (a page, `access_denied` to the client, `invalid_grant`) is each protocol's.

use crate::domain::client::ClientSettings;
use crate::domain::{Client, User};
use crate::services::{InfraError, Services};
use crate::session::ClientInfo;

use super::audit;

/// The gate's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Allowed,
    Denied,
}

/// The rule itself: the user's type is among `allowed_user_types` (when set) and the user is in
/// at least one of `allowed_groups` (when set).
pub fn permits(settings: &ClientSettings, user_type: &str, user_groups: &[String]) -> bool {
    let type_ok = settings.allowed_user_types.as_ref().is_none_or(|types| types.iter().any(|t| t == user_type));
    let group_ok = settings.allowed_groups.as_ref().is_none_or(|groups| groups.iter().any(|g| user_groups.contains(g)));
    type_ok && group_ok
}

/// Whether `client` admits `user`. Groups are read only when the client restricts by group. A
/// refusal is audited (`access_denied`, with the client and the user's type); the address is
/// not known at every caller (a refresh has no browser), so it is not recorded.
pub async fn check(s: &Services, user: &User, client: &Client) -> Result<Access, InfraError> {
    let settings = &client.settings;
    let groups = match settings.allowed_groups {
        Some(_) => groups_of(s, &user.id).await?,
        None => Vec::new(),
    };
    if permits(settings, &user.user_type, &groups) {
        return Ok(Access::Allowed);
    }
    let detail = serde_json::json!({ "client_id": client.id, "user_type": user.user_type });
    let info = ClientInfo { ip: "-".into(), user_agent: "-".into(), lang: None };
    audit::record(s, Some(&user.id), audit::ACCESS_DENIED, &info, detail).await?;
    Ok(Access::Denied)
}

/// The ids of the user's groups, sorted: what the rule reads, and the value of the `groups`
/// claim (OpenID Connect scope `groups`; CAS attributes).
pub async fn groups_of(s: &Services, user_id: &str) -> Result<Vec<String>, InfraError> {
    Ok(s.store.groups_of_user(user_id).await?)
}

#[cfg(test)]
mod tests {
    use super::permits;
    use crate::domain::client::ClientSettings;

    fn settings(types: Option<&[&str]>, groups: Option<&[&str]>) -> ClientSettings {
        let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
        ClientSettings {
            allowed_user_types: types.map(owned),
            allowed_groups: groups.map(owned),
            ..ClientSettings::default()
        }
    }

    fn groups(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_client_without_rules_admits_everyone() {
        assert!(permits(&ClientSettings::default(), "usager", &[]));
    }

    #[test]
    fn a_user_type_rule_admits_only_those_types() {
        let s = settings(Some(&["bonus_eco", "elu"]), None);
        assert!(permits(&s, "elu", &[]));
        assert!(!permits(&s, "usager", &groups(&["anything"])));
    }

    #[test]
    fn a_group_rule_admits_members_of_any_listed_group() {
        let s = settings(None, Some(&["habilites-bonus-eco", "admins"]));
        assert!(permits(&s, "usager", &groups(&["admins"])));
        assert!(!permits(&s, "usager", &groups(&["other"])));
        assert!(!permits(&s, "usager", &[]));
    }

    #[test]
    fn with_both_rules_a_user_must_satisfy_both() {
        let s = settings(Some(&["bonus_eco"]), Some(&["habilites-bonus-eco"]));
        assert!(permits(&s, "bonus_eco", &groups(&["habilites-bonus-eco"])));
        assert!(!permits(&s, "bonus_eco", &[]), "right type, no group");
        assert!(!permits(&s, "usager", &groups(&["habilites-bonus-eco"])), "right group, wrong type");
    }
}
