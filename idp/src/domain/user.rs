//! People who sign in: their identifier (login), e-mail and profile.

use serde::{Deserialize, Serialize};

use super::login::Login;

/// A stored user. `id` is the public, stable subject identifier (`sub`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub login: String,
    pub email: String,
    pub email_verified: bool,
    pub given_name: String,
    pub family_name: String,
    pub phone_number: Option<String>,
    pub address: Option<String>,
    pub locale: Option<String>,
    pub user_type: String,
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// The next sign-in goes through the forced change (provisional password, admin reset).
    pub must_change_password: bool,
    /// A provisional password stops working at this instant.
    pub provisional_expires_at: Option<i64>,
    /// When the user type's terms were accepted.
    pub terms_accepted_at: Option<i64>,
    /// The version of the terms accepted then (`UserType::terms_version`), when it had one.
    #[serde(default)]
    pub terms_version: Option<String>,
    /// When the first-login steps were completed; `None`: the first login is still to come.
    pub activated_at: Option<i64>,
    /// Browser sessions authenticated before this instant are no longer valid.
    pub sessions_not_before: i64,
}

impl User {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name).trim().to_owned()
    }
}

/// What is needed to create a user; the id and timestamps are set by the store call.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub login: Login,
    pub email: Email,
    pub given_name: String,
    pub family_name: String,
    pub phone_number: Option<String>,
    pub address: Option<String>,
    pub user_type: String,
    pub password_hash: String,
    /// How the account starts (issue #4).
    pub start: AccountStart,
    /// Recovery data (issue #5): the date of birth (YYYY-MM-DD) and alternate identifiers
    /// (kind, value), stored in the same transaction as the account.
    pub birth_date: Option<String>,
    pub identifiers: Vec<(String, String)>,
}

/// How a new account starts: ready to use (the password is final), with a provisional password
/// that must be changed at the first sign-in and stops working at `expires_at`, or waiting for
/// its owner to follow an activation link (the password hash is then unusable).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AccountStart {
    #[default]
    Ready,
    Provisional {
        expires_at: i64,
    },
    AwaitingActivation,
}

/// A stored hash no password ever matches (argon2 cannot parse it): accounts awaiting activation.
pub const UNUSABLE_PASSWORD_HASH: &str = "!unusable";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UserFieldError {
    #[error("the login must be 1 to 100 characters: letters, digits, '.', '_', '-', '@' or '+'")]
    Login,
    #[error("the login mixes letters of several scripts (Latin and Cyrillic, for instance)")]
    MixedScript,
    #[error("the e-mail address is not valid")]
    Email,
}

/// A deliberately simple check (one '@', a dot in the domain, no spaces): the real proof of an
/// address is a mail that arrives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, UserFieldError> {
        let s = raw.trim();
        let mut parts = s.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(UserFieldError::Email);
        };
        let ok = !local.is_empty()
            && s.len() <= 254
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok { Ok(Self(format!("{local}@{}", domain.to_lowercase()))) } else { Err(UserFieldError::Email) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_need_a_domain_with_a_dot() {
        assert_eq!(Email::parse("Alice@Example.ORG").unwrap().as_str(), "Alice@example.org");
        assert!(Email::parse("alice@localhost").is_err());
        assert!(Email::parse("a@b@c.fr").is_err());
        assert!(Email::parse("a b@c.fr").is_err());
    }
}
