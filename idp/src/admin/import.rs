//! Bringing existing users in (issue #12 §3): a CSV file (`import_users_csv`, `idp user import
//! --file`) or the users of a Keycloak realm export (`import_keycloak`, `idp user import
//! --keycloak`). The whole input is checked first (fields, user types, logins and identifiers
//! unique in the file and free, password hashes in a known format: `account::legacy_hash`),
//! then written in one transaction (`ImportStore::import_users`): whole file or nothing. A user
//! with a password hash is created active and signs in at once with their old password (the
//! hash is then replaced by the current argon2id one); a user without gets an activation link.
//!
//! `POST /admin/api/v1/users/import` takes one of two bodies and calls one of these functions:
//! - `Content-Type: text/csv`: the CSV file as `import_users_csv` reads it (header
//!   `login,email,given_name,family_name,user_type`, optional `birth_date`, `identifiers`,
//!   `password_hash` columns);
//! - `Content-Type: application/json`: a Keycloak realm export (`{"realm": …, "users": […],
//!   "groups": […]}`, or a `realm-users-N.json` file), with the query parameters `user_type`,
//!   `user_type_attribute` and `identifier_attribute` (repeatable) as `KeycloakOptions`.
//!
//! Both answer the accounts created (`ImportReport`); a refusal is `AdminError::Invalid` or
//! `Duplicate` naming the line (CSV) or the username (Keycloak), and nothing is written.

mod csv;
mod keycloak;

use serde_json::json;

pub use self::csv::{IMPORT_COLUMNS, IMPORT_OPTIONAL_COLUMNS};
pub use self::keycloak::KeycloakOptions;
use super::actor::{self, Actor, Permission};
use super::groups::parse_group_id;
use super::{AdminError, UserSpec, check_identifiers_free, check_login_not_confusable, parse_user};
use crate::account::activation::{self, Sent};
use crate::account::legacy_hash::LegacyHash;
use crate::domain::{AccountStart, Login, NewUser, UNUSABLE_PASSWORD_HASH, User};
use crate::services::{InfraError, Services};
use crate::store::{ImportBatch, ImportedUser, StoreError};

/// The audit kind of each imported account (detail: `source`, `password`: `imported` with its
/// `scheme`, or `activation_link`; `groups`).
pub const USER_IMPORTED: &str = "user_imported";

/// What an import created.
#[derive(Debug)]
pub struct ImportReport {
    pub accounts: Vec<ImportedAccount>,
    /// Groups that did not exist and were created (Keycloak).
    pub groups_created: Vec<String>,
}

#[derive(Debug)]
pub struct ImportedAccount {
    pub user: User,
    pub start: ImportedStart,
}

#[derive(Debug)]
pub enum ImportedStart {
    /// The account is active with its imported hash (`scheme`: `bcrypt`, `pbkdf2_sha256`…).
    PasswordHash { scheme: &'static str },
    /// No hash: an activation link was sent (or not: `Sent::mailed`).
    ActivationLink(Sent),
}

/// `idp user import --file users.csv`; the columns are `IMPORT_COLUMNS`, then any of
/// `IMPORT_OPTIONAL_COLUMNS` (`password_hash`: an existing hash; empty: an activation link).
pub async fn import_users_csv(s: &Services, actor: &Actor, csv: &str) -> Result<ImportReport, AdminError> {
    actor.require(Permission::ManageUsers)?;
    let rows = csv::parse(csv)?;
    import_rows(s, actor, "csv", rows, Vec::new()).await
}

/// `idp user import --keycloak realm-export.json`: the users of the realm (service accounts
/// excepted) with their attributes, groups and password credentials (`KeycloakOptions`).
pub async fn import_keycloak(
    s: &Services,
    actor: &Actor,
    json: &str,
    options: &KeycloakOptions,
) -> Result<ImportReport, AdminError> {
    actor.require(Permission::ManageUsers)?;
    let (rows, groups) = keycloak::parse(json, options)?;
    import_rows(s, actor, "keycloak", rows, groups).await
}

/// One account to import, as read from the input.
#[derive(Debug, Default)]
struct ImportRow {
    /// Where it came from, for the errors: `line 3`, `user "alice"`.
    label: String,
    spec: UserSpec,
    /// As stored (`legacy_hash`); `None`: an activation link.
    password_hash: Option<String>,
    disabled: bool,
    groups: Vec<String>,
}

async fn import_rows(
    s: &Services,
    actor: &Actor,
    source: &'static str,
    rows: Vec<ImportRow>,
    groups: Vec<(String, String)>,
) -> Result<ImportReport, AdminError> {
    if rows.is_empty() {
        return Err(AdminError::Invalid("the file has no user".into()));
    }
    let batch = check(s, &rows, groups).await?;
    let mut groups_created = Vec::new();
    for (id, _) in &batch.groups {
        if s.store.group(id).await.map_err(InfraError::from)?.is_none() {
            groups_created.push(id.clone());
        }
    }
    let users = s.store.import_users(&batch, s.now()).await.map_err(|e| match e {
        // Every row was checked just before: another node created the same account meanwhile.
        StoreError::Conflict(what) => {
            AdminError::Duplicate(format!("a {what} of this file (created meanwhile; nothing was imported)"))
        }
        other => other.into(),
    })?;
    let mut accounts = Vec::with_capacity(users.len());
    for (user, row) in users.into_iter().zip(&rows) {
        let (start, password) = match &row.password_hash {
            Some(hash) => {
                let scheme = scheme_of(hash);
                (ImportedStart::PasswordHash { scheme }, json!({ "method": "imported", "scheme": scheme }))
            }
            None => {
                let sent = activation::start_activation_link(s, &user, &actor.info).await?;
                (ImportedStart::ActivationLink(sent), json!({ "method": "activation_link" }))
            }
        };
        let detail = json!({ "source": source, "password": password, "groups": row.groups, "disabled": row.disabled });
        actor::record(s, actor, USER_IMPORTED, Some(&user.id), detail).await?;
        accounts.push(ImportedAccount { user, start });
    }
    Ok(ImportReport { accounts, groups_created })
}

/// Checks every row against the others and the store, and builds the batch: nothing is
/// written here.
async fn check(s: &Services, rows: &[ImportRow], groups: Vec<(String, String)>) -> Result<ImportBatch, AdminError> {
    // Earlier rows' logins, with their skeletons: a row may neither repeat nor resemble one.
    let mut seen: Vec<(&str, Login, String)> = Vec::with_capacity(rows.len());
    let mut users = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let label = row.label.as_str();
        let at = |e: AdminError| match e {
            AdminError::Duplicate(what) => AdminError::Duplicate(format!("{label}: {what}")),
            other => AdminError::Invalid(format!("{label}: {other}")),
        };
        let parsed = parse_user(s, &row.spec).map_err(at)?;
        let skeleton = parsed.login.skeleton();
        if let Some((other_label, other, _)) = seen.iter().find(|(_, _, k)| *k == skeleton) {
            return Err(AdminError::Invalid(if *other == parsed.login {
                format!("{label}: login {:?} appears twice", row.spec.login)
            } else {
                format!("{label}: login {:?} looks like login {:?} of {other_label}", row.spec.login, other.as_str())
            }));
        }
        if s.store.user_by_login(parsed.login.as_str()).await.map_err(InfraError::from)?.is_some() {
            return Err(AdminError::Duplicate(format!("{label}: login {:?}", row.spec.login)));
        }
        check_login_not_confusable(s, &parsed.login).await.map_err(at)?;
        seen.push((label, parsed.login.clone(), skeleton));
        for (kind, value) in &parsed.identifiers {
            let twice = rows[..index]
                .iter()
                .any(|o| o.spec.identifiers.iter().any(|(k, v)| k.trim() == kind && v.trim() == value));
            if twice {
                return Err(AdminError::Invalid(format!("{label}: identifier {kind} {value:?} appears twice")));
            }
        }
        check_identifiers_free(s, &parsed.identifiers).await.map_err(at)?;
        if let Some(hash) = &row.password_hash {
            LegacyHash::parse(hash).map_err(|e| AdminError::Invalid(format!("{label}: {e}")))?;
        }
        for group in &row.groups {
            parse_group_id(group).map_err(at)?;
            let known = groups.iter().any(|(id, _)| id == group)
                || s.store.group(group).await.map_err(InfraError::from)?.is_some();
            if !known {
                return Err(AdminError::Invalid(format!("{label}: unknown group {group:?}")));
            }
        }
        let (password_hash, start) = match &row.password_hash {
            Some(hash) => (hash.trim().to_owned(), AccountStart::Ready),
            None => (UNUSABLE_PASSWORD_HASH.to_owned(), AccountStart::AwaitingActivation),
        };
        let user = NewUser {
            login: parsed.login,
            email: parsed.email,
            given_name: row.spec.given_name.trim().to_owned(),
            family_name: row.spec.family_name.trim().to_owned(),
            phone_number: row.spec.phone_number.clone(),
            address: row.spec.address.clone(),
            user_type: parsed.user_type.id.clone(),
            password_hash,
            start,
            birth_date: parsed.birth_date,
            identifiers: parsed.identifiers,
        };
        users.push(ImportedUser { user, disabled: row.disabled, groups: row.groups.clone() });
    }
    Ok(ImportBatch { users, groups })
}

/// The audit trail's name for a stored hash's scheme (its prefix).
fn scheme_of(hash: &str) -> &'static str {
    let hash = hash.trim_start();
    [
        ("$argon2", "argon2"),
        ("$2", "bcrypt"),
        ("pbkdf2_sha256$", "pbkdf2_sha256"),
        ("pbkdf2_sha512$", "pbkdf2_sha512"),
        ("pbkdf2_sha1$", "pbkdf2_sha1"),
        ("argon2$", "django_argon2"),
        ("bcrypt$", "django_bcrypt"),
        ("bcrypt_sha256$", "django_bcrypt_sha256"),
        ("{KEYCLOAK}", "keycloak"),
        ("{SSHA}", "ssha"),
        ("{SSHA256}", "ssha256"),
        ("{SSHA512}", "ssha512"),
    ]
    .into_iter()
    .find(|(prefix, _)| hash.get(..prefix.len()).is_some_and(|h| h.eq_ignore_ascii_case(prefix)))
    .map_or("other", |(_, name)| name)
}
