//! What a CAS service is told about the user (CAS 3.0 `cas:attributes`, §2.6.2 / Appendix A):
//! the attributes its client lists in `cas_attributes`, read from the same claims OpenID Connect
//! releases (`account::claims`), under the names CAS applications expect, plus the
//! authentication attributes the specification defines. `cas:user` is the login, or the
//! pairwise subject for a client registered with `subject_type=pairwise`.

use serde_json::Value;

use crate::domain::client::SubjectType;
use crate::domain::{Client, Scopes, User};
use crate::services::{InfraError, Services};

/// A CAS attribute name and the claim it is read from. `uid` is the login.
const NAMES: &[(&str, &str)] = &[
    ("mail", "email"),
    ("givenName", "given_name"),
    ("sn", "family_name"),
    ("cn", "name"),
    ("displayName", "name"),
    ("uid", "preferred_username"),
    ("preferredLanguage", "locale"),
    ("telephoneNumber", "phone_number"),
    ("postalAddress", "address"),
    ("memberOf", "groups"),
];

/// The attribute names a client may list in `cas_attributes`.
pub fn known_names() -> impl Iterator<Item = &'static str> {
    NAMES.iter().map(|(n, _)| *n)
}

/// Attributes as (name, values), in the client's order; multi-valued ones (`memberOf`) repeat.
pub type Attributes = Vec<(String, Vec<String>)>;

/// The `cas:user` of `user` for `client`.
pub async fn user_name(s: &Services, user: &User, client: &Client) -> Result<String, InfraError> {
    match client.settings.subject_type {
        SubjectType::Public => Ok(user.login.clone()),
        SubjectType::Pairwise => crate::account::subject::for_client(s, &user.id, client).await,
    }
}

/// The released attributes of `user` for `client`; `groups` are the names of the user's groups
/// (`memberOf`).
pub fn released(user: &User, client: &Client, groups: &[String]) -> Attributes {
    let Some(wanted) = &client.settings.cas_attributes else { return Vec::new() };
    let all = Scopes::parse(&crate::domain::scope::SUPPORTED.join(" ")).unwrap_or_default();
    let mut claims = crate::account::claims::for_scopes(user, &all);
    claims.insert("groups".into(), Value::from(groups.to_vec()));
    let mut out = Vec::new();
    for name in wanted {
        let Some((_, claim)) = NAMES.iter().find(|(n, _)| n == name) else { continue };
        let values: Vec<String> = match claims.get(*claim) {
            Some(Value::String(v)) if !v.is_empty() => vec![v.clone()],
            Some(Value::Array(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect(),
            // §5.1.1: the address claim is an object; its formatted text is the attribute.
            Some(Value::Object(o)) => {
                o.get("formatted").and_then(Value::as_str).map(str::to_owned).into_iter().collect()
            }
            _ => Vec::new(),
        };
        if !values.is_empty() {
            out.push((name.clone(), values));
        }
    }
    out
}

/// Registration rule: every name in `cas_attributes` is one this provider releases.
pub fn check_registration(client: &Client) -> Result<(), String> {
    for name in client.settings.cas_attributes.iter().flatten() {
        if !NAMES.iter().any(|(n, _)| n == name) {
            let known: Vec<&str> = known_names().collect();
            return Err(format!("cas_attributes: unknown attribute {name:?} (known: {})", known.join(", ")));
        }
    }
    Ok(())
}
