//! The users of a Keycloak realm export (`kc.sh export --realm R --file realm.json`, or the
//! `realm-users-N.json` files of `--users different_files`), read into import rows.
//!
//! What maps: `username` → login; `email`, `firstName`, `lastName`; `enabled: false` → a
//! disabled account; the attributes `phone_number` (or `phoneNumber`, `phone`, `mobile`),
//! `address`, `birthdate` (or `birth_date`, `birthDate`), the user type
//! (`KeycloakOptions::user_type_attribute`) and the identifier attributes the operator names;
//! groups by path (`/agents/rh` → group `agents.rh`, created if missing); the `password`
//! credential (PBKDF2-SHA256, -SHA512, -SHA1 or argon2: `legacy_hash::from_keycloak`).
//! What does not: service-account users (skipped: they belong to clients), roles, required
//! actions, `emailVerified`, federation links (such users have no credential here: they get
//! an activation link), password history (`password-history` credentials are ignored). Other
//! credential types (OTP, WebAuthn) refuse the file unless `skip_other_credentials`.

use std::collections::HashMap;

use serde::Deserialize;

use super::ImportRow;
use crate::account::legacy_hash;
use crate::admin::groups::MAX_GROUP_ID;
use crate::admin::{AdminError, UserSpec};

/// How a realm's users become accounts.
#[derive(Clone, Debug, Default)]
pub struct KeycloakOptions {
    /// The user type of a user without the type attribute (empty: the default type).
    pub user_type: String,
    /// The attribute that names the user type (`None`: `user_type`).
    pub user_type_attribute: Option<String>,
    /// Attributes imported as alternate identifiers of the same kind (`student_number`…).
    pub identifier_attributes: Vec<String>,
    /// Skip OTP, WebAuthn and other non-password credentials instead of refusing the file.
    pub skip_other_credentials: bool,
}

#[derive(Deserialize)]
struct RealmExport {
    #[serde(default)]
    users: Vec<KcUser>,
    #[serde(default)]
    groups: Vec<KcGroup>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KcGroup {
    name: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    sub_groups: Vec<KcGroup>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KcUser {
    username: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
    #[serde(default)]
    attributes: HashMap<String, Vec<String>>,
    #[serde(default)]
    credentials: Vec<KcCredential>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    service_account_client_id: Option<String>,
}

fn enabled_by_default() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KcCredential {
    #[serde(rename = "type")]
    kind: String,
    /// Keycloak ≥ 11: JSON strings.
    #[serde(default)]
    secret_data: Option<String>,
    #[serde(default)]
    credential_data: Option<String>,
    /// Keycloak < 11: the same data as plain members.
    #[serde(default)]
    hashed_salted_value: Option<String>,
    #[serde(default)]
    salt: Option<String>,
    #[serde(default)]
    hash_iterations: Option<u32>,
    #[serde(default)]
    algorithm: Option<String>,
}

const PHONE: [&str; 4] = ["phone_number", "phoneNumber", "phone", "mobile"];
const ADDRESS: [&str; 1] = ["address"];
const BIRTH_DATE: [&str; 3] = ["birthdate", "birth_date", "birthDate"];

/// Groups as (id, name).
type Groups = Vec<(String, String)>;

/// The rows and the groups of the export; every group a user names is in the list.
pub(super) fn parse(json: &str, options: &KeycloakOptions) -> Result<(Vec<ImportRow>, Groups), AdminError> {
    let export: RealmExport =
        serde_json::from_str(json).map_err(|e| AdminError::Invalid(format!("not a Keycloak realm export: {e}")))?;
    // Keycloak path → (group id, name).
    let mut groups: Vec<(String, String, String)> = Vec::new();
    let mut tree = Vec::new();
    flatten(&export.groups, "", &mut tree);
    for path in tree {
        add_group(&mut groups, &path).map_err(AdminError::Invalid)?;
    }
    let type_attribute = options.user_type_attribute.as_deref().unwrap_or("user_type");
    let mut rows = Vec::with_capacity(export.users.len());
    for user in export.users.into_iter().filter(|u| u.service_account_client_id.is_none()) {
        let label = format!("user {:?}", user.username);
        let first = |names: &[&str]| {
            names.iter().find_map(|n| user.attributes.get(*n).and_then(|v| v.first())).map(|v| v.trim().to_owned())
        };
        let mut identifiers = Vec::new();
        for attribute in &options.identifier_attributes {
            if let Some(value) = first(&[attribute.as_str()]).filter(|v| !v.is_empty()) {
                identifiers.push((attribute.to_ascii_lowercase(), value));
            }
        }
        let spec = UserSpec {
            login: user.username.clone(),
            email: user.email.clone().unwrap_or_default(),
            given_name: user.first_name.clone().unwrap_or_default(),
            family_name: user.last_name.clone().unwrap_or_default(),
            user_type: first(&[type_attribute]).unwrap_or_else(|| options.user_type.clone()),
            phone_number: first(&PHONE).filter(|v| !v.is_empty()),
            address: first(&ADDRESS).filter(|v| !v.is_empty()),
            birth_date: first(&BIRTH_DATE).filter(|v| !v.is_empty()),
            identifiers,
        };
        let password_hash = password_of(&user, options).map_err(|e| AdminError::Invalid(format!("{label}: {e}")))?;
        let mut user_groups = Vec::with_capacity(user.groups.len());
        for path in &user.groups {
            let id = add_group(&mut groups, path).map_err(|e| AdminError::Invalid(format!("{label}: {e}")))?;
            if !user_groups.contains(&id) {
                user_groups.push(id);
            }
        }
        rows.push(ImportRow { label, spec, password_hash, disabled: !user.enabled, groups: user_groups });
    }
    Ok((rows, groups.into_iter().map(|(_, id, name)| (id, name)).collect()))
}

fn flatten(groups: &[KcGroup], parent: &str, out: &mut Vec<String>) {
    for group in groups {
        let path = group.path.clone().unwrap_or_else(|| format!("{parent}/{}", group.name));
        flatten(&group.sub_groups, &path, out);
        out.push(path);
    }
}

/// The id of the group at `path`, added to `groups` if new: the path's segments, each with
/// the characters a group id does not allow replaced by `-`, joined by `.`; its name is the
/// path without the leading `/`. Two paths that would share an id are refused.
fn add_group(groups: &mut Vec<(String, String, String)>, path: &str) -> Result<String, String> {
    if let Some((_, id, _)) = groups.iter().find(|(p, _, _)| p == path) {
        return Ok(id.clone());
    }
    let name = path.trim_start_matches('/');
    let id: String = name
        .split('/')
        .map(|segment| {
            segment
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(".");
    if name.is_empty() || id.len() > MAX_GROUP_ID {
        return Err(format!("group {path:?} cannot become a group id (1 to {MAX_GROUP_ID} characters)"));
    }
    if let Some((other, _, _)) = groups.iter().find(|(_, i, _)| *i == id) {
        return Err(format!("groups {other:?} and {path:?} would both become group {id:?}"));
    }
    groups.push((path.to_owned(), id.clone(), name.to_owned()));
    Ok(id)
}

/// The stored form of the user's password credential; `None` without one.
fn password_of(user: &KcUser, options: &KeycloakOptions) -> Result<Option<String>, String> {
    let mut password = None;
    for credential in &user.credentials {
        match credential.kind.as_str() {
            "password" if password.is_some() => return Err("more than one password credential".into()),
            "password" => password = Some(stored_hash(credential)?),
            // Earlier passwords (Keycloak's history policy): not imported.
            "password-history" => {}
            _ if options.skip_other_credentials => {}
            other => {
                return Err(format!(
                    "credential type {other:?} cannot be imported (only passwords are); remove it from the export \
                     or pass --skip-other-credentials"
                ));
            }
        }
    }
    Ok(password)
}

fn stored_hash(c: &KcCredential) -> Result<String, String> {
    let (secret, data) = match (&c.secret_data, &c.credential_data) {
        (Some(secret), Some(data)) => (secret.clone(), data.clone()),
        // Keycloak < 11 kept the same fields on the credential itself.
        _ => {
            let (Some(value), Some(iterations), Some(algorithm)) =
                (&c.hashed_salted_value, c.hash_iterations, &c.algorithm)
            else {
                return Err("a password credential without secretData and credentialData".into());
            };
            let salt = c.salt.clone().unwrap_or_default();
            (
                serde_json::json!({ "value": value, "salt": salt }).to_string(),
                serde_json::json!({ "hashIterations": iterations, "algorithm": algorithm }).to_string(),
            )
        }
    };
    legacy_hash::from_keycloak(&secret, &data).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORT: &str = r#"{
      "realm": "region",
      "groups": [{"name": "agents", "path": "/agents", "subGroups": [{"name": "Ressources humaines", "path": "/agents/Ressources humaines", "subGroups": []}]}],
      "users": [
        {"username": "alice", "email": "alice@example.org", "firstName": "Alice", "lastName": "Martin", "enabled": true,
         "attributes": {"phone_number": ["+33 1 23 45 67 89"], "birthdate": ["1990-05-06"], "student_number": ["22001234"], "user_type": ["agent"]},
         "credentials": [{"type": "password", "secretData": "{\"value\":\"AAAA\",\"salt\":\"AAAA\"}", "credentialData": "{\"hashIterations\":27500,\"algorithm\":\"pbkdf2-sha256\"}"},
                         {"type": "password-history", "secretData": "{}", "credentialData": "{}"}],
         "groups": ["/agents/Ressources humaines", "/partenaires"]},
        {"username": "bob", "email": "bob@example.org", "enabled": false, "credentials": []},
        {"username": "service-account-ops", "serviceAccountClientId": "ops"}
      ]
    }"#;

    fn options() -> KeycloakOptions {
        KeycloakOptions { identifier_attributes: vec!["student_number".into()], ..KeycloakOptions::default() }
    }

    #[test]
    fn a_realm_export_maps_attributes_groups_and_the_password_credential() {
        let (rows, groups) = parse(EXPORT, &options()).unwrap();
        assert_eq!(rows.len(), 2, "the service account is skipped");
        let alice = &rows[0];
        assert_eq!((alice.spec.login.as_str(), alice.spec.user_type.as_str()), ("alice", "agent"));
        assert_eq!(alice.spec.phone_number.as_deref(), Some("+33 1 23 45 67 89"));
        assert_eq!(alice.spec.birth_date.as_deref(), Some("1990-05-06"));
        assert_eq!(alice.spec.identifiers, vec![("student_number".to_owned(), "22001234".to_owned())]);
        assert_eq!(alice.password_hash.as_deref(), Some("{KEYCLOAK}pbkdf2-sha256$27500$AAAA$AAAA"));
        assert_eq!(alice.groups, ["agents.Ressources-humaines", "partenaires"]);
        assert!(!alice.disabled && rows[1].disabled && rows[1].password_hash.is_none());
        assert!(groups.contains(&("agents".into(), "agents".into())));
        assert!(groups.contains(&("partenaires".into(), "partenaires".into())), "a group only a user names");
    }

    #[test]
    fn other_credential_types_refuse_the_export_unless_skipped() {
        let otp = EXPORT.replace(r#""credentials": []"#, r#""credentials": [{"type": "otp", "secretData": "{}"}]"#);
        let refused = parse(&otp, &options()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(refused.contains(r#"user "bob": credential type "otp""#), "{refused}");
        let skipping = KeycloakOptions { skip_other_credentials: true, ..options() };
        assert!(parse(&otp, &skipping).is_ok());
    }

    #[test]
    fn a_credential_of_an_unknown_algorithm_or_a_non_export_is_refused() {
        let md5 = EXPORT.replace("pbkdf2-sha256", "md5");
        assert!(parse(&md5, &options()).err().is_some_and(|e| e.to_string().contains(r#"user "alice""#)));
        assert!(parse("[1, 2]", &options()).is_err());
    }

    #[test]
    fn old_exports_with_the_hash_on_the_credential_are_read() {
        let old = r#"{"users": [{"username": "carl", "email": "c@example.org", "credentials": [
            {"type": "password", "hashedSaltedValue": "AAAA", "salt": "AAAA", "hashIterations": 27500, "algorithm": "pbkdf2-sha256"}]}]}"#;
        let (rows, _) = parse(old, &options()).unwrap();
        assert_eq!(rows[0].password_hash.as_deref(), Some("{KEYCLOAK}pbkdf2-sha256$27500$AAAA$AAAA"));
    }

    #[test]
    fn two_group_paths_that_would_share_an_id_are_refused() {
        let mut groups = Vec::new();
        assert_eq!(add_group(&mut groups, "/a b").unwrap(), "a-b");
        assert!(add_group(&mut groups, "/a-b").is_err());
        assert!(add_group(&mut groups, "/").is_err());
    }
}
