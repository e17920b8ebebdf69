//! /admin/api/v1/users: accounts, as operators and support agents manage them. No answer ever
//! carries a password, a password hash or a secret answer.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Caller, needs};
use super::problem::{ApiJson, Problem, WriteErrors};
use super::{created, timestamp};
use crate::account::activation::Sent;
use crate::admin::{self, UserSpec, UserStart};
use crate::domain::{Secret, User};
use crate::web::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
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
    pub disabled: bool,
    /// The next sign-in goes through a forced password change.
    pub must_change_password: bool,
    /// RFC 3339 dates.
    pub created_at: String,
    pub updated_at: String,
    /// When the first-login steps were completed; absent while they are still to come.
    pub activated_at: Option<String>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id.clone(),
            login: u.login.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            given_name: u.given_name.clone(),
            family_name: u.family_name.clone(),
            phone_number: u.phone_number.clone(),
            address: u.address.clone(),
            locale: u.locale.clone(),
            user_type: u.user_type.clone(),
            disabled: u.disabled,
            must_change_password: u.must_change_password,
            created_at: timestamp(u.created_at),
            updated_at: timestamp(u.updated_at),
            activated_at: u.activated_at.map(timestamp),
        }
    }
}

/// How a new account starts.
#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StartKind {
    /// `password` is final: no change required.
    Password,
    /// A provisional password to the user type's policy, e-mailed; changed at first sign-in.
    Provisional,
    /// An activation link e-mailed; no usable password until it is followed.
    #[default]
    ActivationLink,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCreate {
    pub login: String,
    #[schema(format = Email)]
    pub email: String,
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub family_name: String,
    /// A declared user type (`GET /v1/user-types`); the default one when absent.
    pub user_type: Option<String>,
    pub phone_number: Option<String>,
    pub address: Option<String>,
    /// YYYY-MM-DD.
    pub birth_date: Option<String>,
    /// Alternate identifiers by kind (`student_number`, `ine`…).
    #[serde(default)]
    pub identifiers: BTreeMap<String, String>,
    /// Default `activation_link`.
    #[serde(default)]
    pub start: StartKind,
    /// With `start: password` only; at least 8 characters.
    pub password: Option<String>,
}

/// Where a provisional password or an activation link went (the secret itself is only in the
/// mail).
#[derive(Debug, Serialize, ToSchema)]
pub struct SentView {
    /// Until when the password or the link works (RFC 3339).
    pub expires_at: String,
    /// Whether the mail was handed to the transport.
    pub mailed: bool,
}

impl From<Sent> for SentView {
    fn from(s: Sent) -> Self {
        SentView { expires_at: timestamp(s.expires_at), mailed: s.mailed }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserCreated {
    pub user: UserView,
    pub sent: Option<SentView>,
}

/// Create a user.
#[utoipa::path(post, path = "/admin/api/v1/users", tag = "users", request_body = UserCreate,
    security(("bearer" = ["idp.admin"])),
    responses((status = 201, description = "Created; `Location` names it", body = UserCreated), WriteErrors))]
pub async fn users_post(
    State(state): State<AppState>,
    _caller: Caller<needs::ManageUsers>,
    ApiJson(body): ApiJson<UserCreate>,
) -> Result<Response, Problem> {
    let start = match (body.start, body.password) {
        (StartKind::Password, Some(p)) => UserStart::Password(Secret::new(p)),
        (StartKind::Password, None) => {
            return Err(Problem::bad_request("start: password needs a password")
                .with_field(Some("/password".into()), "required with start: password"));
        }
        (_, Some(_)) => {
            return Err(Problem::bad_request("a password is only given with start: password")
                .with_field(Some("/password".into()), "only with start: password"));
        }
        (StartKind::Provisional, None) => UserStart::Provisional,
        (StartKind::ActivationLink, None) => UserStart::ActivationLink,
    };
    let spec = UserSpec {
        login: body.login,
        email: body.email,
        given_name: body.given_name,
        family_name: body.family_name,
        user_type: body.user_type.unwrap_or_default(),
        phone_number: body.phone_number,
        address: body.address,
        birth_date: body.birth_date,
        identifiers: body.identifiers.into_iter().collect(),
    };
    let (user, sent) = admin::add_user_starting(&state.services, &spec, &start).await?;
    let answer = UserCreated { user: UserView::from(&user), sent: sent.map(SentView::from) };
    Ok(created(&format!("/users/{}", user.id), answer))
}
