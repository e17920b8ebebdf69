//! /admin/api/v1/users: accounts, as operators and support agents manage them. No answer ever
//! carries a password, a password hash or a secret answer.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Caller, needs};
use super::paging::{Order, Page, Window};
use super::problem::{ApiJson, ApiPath, ApiQuery, ItemErrors, Problem, ReadErrors, WriteErrors};
use super::{created, timestamp};
use crate::account::activation::Sent;
use crate::admin::actor::Role;
use crate::admin::page::{Sort, SortOrder};
use crate::admin::users::{self, UserQuery, UserRef, UserSort, UserStatus};
use crate::admin::{self, UserSpec, UserStart};
use crate::domain::{Secret, User};
use crate::web::AppState;

/// What the API shows of an account: never a password, a hash or a secret answer.
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
    pub user_type: String,
    /// `admin`, `support` or `auditor` in the console and the API; none for most people.
    pub role: Option<String>,
    pub status: Status,
    pub disabled: bool,
    /// When the current lock ends (only while locked).
    pub locked_until: Option<String>,
    /// The next sign-in goes through a forced password change.
    pub must_change_password: bool,
    pub provisional_expires_at: Option<String>,
    /// RFC 3339 dates.
    pub created_at: String,
    pub updated_at: String,
    /// When the first-login steps were completed; absent while they are still to come.
    pub activated_at: Option<String>,
    pub password_changed_at: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Locked,
    Disabled,
    PendingActivation,
    PasswordExpired,
}

impl From<UserStatus> for Status {
    fn from(s: UserStatus) -> Self {
        match s {
            UserStatus::Active => Status::Active,
            UserStatus::Locked => Status::Locked,
            UserStatus::Disabled => Status::Disabled,
            UserStatus::PendingActivation => Status::PendingActivation,
            UserStatus::PasswordExpired => Status::PasswordExpired,
        }
    }
}

impl From<Status> for UserStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Active => UserStatus::Active,
            Status::Locked => UserStatus::Locked,
            Status::Disabled => UserStatus::Disabled,
            Status::PendingActivation => UserStatus::PendingActivation,
            Status::PasswordExpired => UserStatus::PasswordExpired,
        }
    }
}

impl From<users::UserView> for UserView {
    fn from(u: users::UserView) -> Self {
        UserView {
            id: u.id,
            login: u.login,
            email: u.email,
            email_verified: u.email_verified,
            given_name: u.given_name,
            family_name: u.family_name,
            phone_number: u.phone_number,
            address: u.address,
            user_type: u.user_type,
            role: u.role,
            status: u.status.into(),
            disabled: u.disabled,
            locked_until: u.locked_until.map(timestamp),
            must_change_password: u.must_change_password,
            provisional_expires_at: u.provisional_expires_at.map(timestamp),
            created_at: timestamp(u.created_at),
            updated_at: timestamp(u.updated_at),
            activated_at: u.activated_at.map(timestamp),
            password_changed_at: timestamp(u.password_changed_at),
        }
    }
}

impl From<&User> for UserView {
    /// An account just created or imported: no role, no lock, its password as old as it is.
    fn from(u: &User) -> Self {
        let status = if u.disabled {
            Status::Disabled
        } else if u.activated_at.is_none() {
            Status::PendingActivation
        } else {
            Status::Active
        };
        UserView {
            id: u.id.clone(),
            login: u.login.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            given_name: u.given_name.clone(),
            family_name: u.family_name.clone(),
            phone_number: u.phone_number.clone(),
            address: u.address.clone(),
            user_type: u.user_type.clone(),
            role: None,
            status,
            disabled: u.disabled,
            locked_until: None,
            must_change_password: u.must_change_password,
            provisional_expires_at: u.provisional_expires_at.map(timestamp),
            created_at: timestamp(u.created_at),
            updated_at: timestamp(u.updated_at),
            activated_at: u.activated_at.map(timestamp),
            password_changed_at: timestamp(u.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub kind: String,
    /// RFC 3339.
    pub at: String,
    pub ip: String,
    pub user_agent: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl From<users::UserEvent> for EventView {
    fn from(e: users::UserEvent) -> Self {
        EventView { kind: e.kind, at: timestamp(e.at), ip: e.ip, user_agent: e.user_agent, detail: e.detail }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// The handle that ends it (`DELETE /v1/users/{id}/sessions/{sid}`).
    pub sid: String,
    /// RFC 3339 dates.
    pub created_at: String,
    pub auth_time: String,
    pub expires_at: String,
    pub ip: String,
    pub user_agent: String,
    /// The clients that got tokens or tickets in it.
    pub clients: Vec<String>,
}

impl From<users::SessionView> for SessionView {
    fn from(b: users::SessionView) -> Self {
        SessionView {
            sid: b.sid,
            created_at: timestamp(b.created_at),
            auth_time: timestamp(b.auth_time),
            expires_at: timestamp(b.expires_at),
            ip: b.ip,
            user_agent: b.user_agent,
            clients: b.clients,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserDetailView {
    pub user: UserView,
    /// The ids of the user's groups.
    pub groups: Vec<String>,
    /// The last sign-ins and failures.
    pub recent_sign_ins: Vec<EventView>,
    /// Live browser sessions.
    pub sessions: Vec<SessionView>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserSortKey {
    #[default]
    Login,
    CreatedAt,
    Email,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserSearchQuery {
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(minimum = 0)]
    pub offset: Option<u64>,
    #[param(inline)]
    pub sort: Option<UserSortKey>,
    #[param(inline)]
    pub order: Option<Order>,
    /// A login prefix or an e-mail prefix.
    pub q: Option<String>,
    /// A login prefix.
    pub login: Option<String>,
    /// An e-mail prefix.
    pub email: Option<String>,
    /// Part of the given or family name, without case.
    pub name: Option<String>,
    pub user_type: Option<String>,
    /// A group id: its members only.
    pub group: Option<String>,
    #[param(inline)]
    pub status: Option<Status>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserId {
    /// The account's id (the `sub` of its tokens).
    pub id: String,
}

/// A role, or none (`null`) to take it away.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    #[schema(inline)]
    pub role: Option<RoleName>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    Admin,
    Support,
    Auditor,
}

impl From<RoleName> for Role {
    fn from(r: RoleName) -> Self {
        match r {
            RoleName::Admin => Role::Admin,
            RoleName::Support => Role::Support,
            RoleName::Auditor => Role::Auditor,
        }
    }
}

/// Search users.
#[utoipa::path(get, path = "/admin/api/v1/users", tag = "users", params(UserSearchQuery),
    security(("bearer" = ["idp.admin"]), ("bearer" = ["idp.support"])),
    responses((status = 200, description = "A page of users", body = Page<UserView>), ReadErrors))]
pub async fn users_get(
    State(state): State<AppState>,
    caller: Caller<needs::ViewUsers>,
    ApiQuery(query): ApiQuery<UserSearchQuery>,
) -> Result<Json<Page<UserView>>, Problem> {
    let window = Window::parse(query.limit, query.offset)?;
    let key = match query.sort.unwrap_or_default() {
        UserSortKey::Login => UserSort::Login,
        UserSortKey::CreatedAt => UserSort::CreatedAt,
        UserSortKey::Email => UserSort::Email,
    };
    let order = if query.order == Some(Order::Desc) { SortOrder::Desc } else { SortOrder::Asc };
    let search = UserQuery {
        login: query.login,
        email: query.email,
        name: query.name,
        user_type: query.user_type,
        group: query.group,
        status: query.status.map(UserStatus::from),
        q: query.q,
        sort: Sort { key, order },
        page: window.request(),
    };
    let page = users::search_users(&state.services, &caller.actor, &search).await?;
    Ok(Json(Page::from_admin(page, UserView::from)))
}

/// Show a user: status, lock, groups, recent sign-ins, sessions.
#[utoipa::path(get, path = "/admin/api/v1/users/{id}", tag = "users", params(UserId),
    security(("bearer" = ["idp.admin"]), ("bearer" = ["idp.support"])),
    responses((status = 200, description = "The user", body = UserDetailView), ItemErrors))]
pub async fn user_get(
    State(state): State<AppState>,
    caller: Caller<needs::ViewUsers>,
    ApiPath(UserId { id }): ApiPath<UserId>,
) -> Result<Json<UserDetailView>, Problem> {
    let d = users::show_user(&state.services, &caller.actor, &UserRef::Id(id)).await?;
    Ok(Json(UserDetailView {
        user: d.user.into(),
        groups: d.groups,
        recent_sign_ins: d.recent_sign_ins.into_iter().map(EventView::from).collect(),
        sessions: d.sessions.into_iter().map(SessionView::from).collect(),
    }))
}

/// Give the user a role in the console and the API, or take it away.
#[utoipa::path(put, path = "/admin/api/v1/users/{id}/role", tag = "users", params(UserId), request_body = RoleBody,
    security(("bearer" = ["idp.admin"])),
    responses((status = 204, description = "Set"), WriteErrors))]
pub async fn user_role_put(
    State(state): State<AppState>,
    caller: Caller<needs::ManageUsers>,
    ApiPath(UserId { id }): ApiPath<UserId>,
    ApiJson(body): ApiJson<RoleBody>,
) -> Result<StatusCode, Problem> {
    users::set_role(&state.services, &caller.actor, &UserRef::Id(id), body.role.map(Role::from)).await?;
    Ok(StatusCode::NO_CONTENT)
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
