//! /admin/api/v1/users/{id}/…: changes to one account (update, disable, enable, delete, role in
//! `users`) and the support operations (unlock, resets, sessions), consents and the user's
//! audit events, each over one `admin::users` function.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Caller, needs};
use super::paging::{Page, Window};
use super::problem::{ApiJson, ApiPath, ApiQuery, ItemErrors, OptionalJson, Problem, WriteErrors};
use super::timestamp;
use super::users::{EventView, SentView, SessionView, UserId};
use crate::admin::users::manage::{self, UserUpdate};
use crate::admin::users::support::{self, ResetMethod};
use crate::admin::users::{self as admin_users, UserRef};
use crate::web::AppState;

/// The members given replace the current values (`""` clears an optional one).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[schema(format = Email)]
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub phone_number: Option<String>,
    pub address: Option<String>,
    pub user_type: Option<String>,
    /// YYYY-MM-DD.
    pub birth_date: Option<String>,
    /// Replaces every alternate identifier.
    pub identifiers: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResetKind {
    #[default]
    ProvisionalPassword,
    ActivationLink,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// Default `provisional_password`.
    #[serde(default)]
    pub method: ResetKind,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserSession {
    /// The account's id.
    pub id: String,
    /// The session's handle (`GET …/sessions`).
    pub sid: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserConsent {
    /// The account's id.
    pub id: String,
    pub client_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentView {
    pub client_id: String,
    pub scopes: Vec<String>,
    /// RFC 3339.
    pub granted_at: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// 1 to 200 (default 50); the newest first.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(minimum = 0)]
    pub offset: Option<u64>,
}

fn user(id: String) -> UserRef {
    UserRef::Id(id)
}

/// Change a user's profile.
#[utoipa::path(patch, path = "/admin/api/v1/users/{id}", tag = "users", params(UserId), request_body = UserPatch,
    security(("bearer" = ["idp.admin"])), responses((status = 204, description = "Changed"), WriteErrors))]
pub async fn user_patch(
    State(state): State<AppState>,
    caller: Caller<needs::ManageUsers>,
    ApiPath(UserId { id }): ApiPath<UserId>,
    ApiJson(body): ApiJson<UserPatch>,
) -> Result<StatusCode, Problem> {
    let update = UserUpdate {
        email: body.email,
        given_name: body.given_name,
        family_name: body.family_name,
        phone_number: body.phone_number,
        address: body.address,
        user_type: body.user_type,
        birth_date: body.birth_date,
        identifiers: body.identifiers.map(|m| m.into_iter().collect()),
    };
    manage::update_user(&state.services, &caller.actor, &user(id), &update).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a user: personal data erased, the audit trail kept with the account pseudonymised.
#[utoipa::path(delete, path = "/admin/api/v1/users/{id}", tag = "users", params(UserId),
    security(("bearer" = ["idp.admin"])), responses((status = 204, description = "Deleted"), ItemErrors))]
pub async fn user_delete(
    State(state): State<AppState>,
    caller: Caller<needs::ManageUsers>,
    ApiPath(UserId { id }): ApiPath<UserId>,
) -> Result<StatusCode, Problem> {
    manage::delete_user(&state.services, &caller.actor, &user(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disable a user: no sign-in; their sessions and tokens end.
#[utoipa::path(post, path = "/admin/api/v1/users/{id}/disable", tag = "users", params(UserId),
    security(("bearer" = ["idp.admin"])), responses((status = 204, description = "Disabled"), ItemErrors))]
pub async fn user_disable_post(
    State(state): State<AppState>,
    caller: Caller<needs::ManageUsers>,
    ApiPath(UserId { id }): ApiPath<UserId>,
) -> Result<StatusCode, Problem> {
    manage::disable_user(&state.services, &caller.actor, &user(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enable a disabled user.
#[utoipa::path(post, path = "/admin/api/v1/users/{id}/enable", tag = "users", params(UserId),
    security(("bearer" = ["idp.admin"])), responses((status = 204, description = "Enabled"), ItemErrors))]
pub async fn user_enable_post(
    State(state): State<AppState>,
    caller: Caller<needs::ManageUsers>,
    ApiPath(UserId { id }): ApiPath<UserId>,
) -> Result<StatusCode, Problem> {
    manage::enable_user(&state.services, &caller.actor, &user(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unlock a user locked out after failed sign-ins.
#[utoipa::path(post, path = "/admin/api/v1/users/{id}/unlock", tag = "users", params(UserId),
    security(("bearer" = ["idp.admin"]), ("bearer" = ["idp.support"])),
    responses((status = 204, description = "Unlocked"), ItemErrors))]
pub async fn user_unlock_post(
    State(state): State<AppState>,
    caller: Caller<needs::SupportUsers>,
    ApiPath(UserId { id }): ApiPath<UserId>,
) -> Result<StatusCode, Problem> {
    support::unlock_user(&state.services, &caller.actor, &user(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reset a user's password: a provisional password or an activation link by e-mail; the old
/// password stops working and every session ends. The body may be empty.
#[utoipa::path(post, path = "/admin/api/v1/users/{id}/reset-password", tag = "users", params(UserId),
    request_body(content = Option<PasswordReset>),
    security(("bearer" = ["idp.admin"]), ("bearer" = ["idp.support"])),
    responses((status = 200, description = "Where and until when it was sent", body = SentView), WriteErrors))]
pub async fn user_reset_password_post(
    State(state): State<AppState>,
    caller: Caller<needs::SupportUsers>,
    ApiPath(UserId { id }): ApiPath<UserId>,
    OptionalJson(body): OptionalJson<PasswordReset>,
) -> Result<Json<SentView>, Problem> {
    let method = match body.method {
        ResetKind::ProvisionalPassword => ResetMethod::ProvisionalPassword,
        ResetKind::ActivationLink => ResetMethod::ActivationLink,
    };
    let sent = support::reset_user_password(&state.services, &caller.actor, &user(id), method).await?;
    Ok(Json(sent.into()))
}

/// Reset the secret question: the user chooses one at the next sign-in.
#[utoipa::path(post, path = "/admin/api/v1/users/{id}/reset-secret-question", tag = "users", params(UserId),
    security(("bearer" = ["idp.admin"]), ("bearer" = ["idp.support"])),
    responses((status = 204, description = "Reset"), ItemErrors))]
pub async fn user_reset_secret_question_post(
    State(state): State<AppState>,
    caller: Caller<needs::SupportUsers>,
    ApiPath(UserId { id }): ApiPath<UserId>,
) -> Result<StatusCode, Problem> {
    support::reset_secret_question(&state.services, &caller.actor, &user(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List a user's live sessions.
#[utoipa::path(get, path = "/admin/api/v1/users/{id}/sessions", tag = "users", params(UserId),
    security(("bearer" = ["idp.admin"]), ("bearer" = ["idp.support"])),
    responses((status = 200, description = "The sessions", body = Vec<SessionView>), ItemErrors))]
pub async fn user_sessions_get(
    State(state): State<AppState>,
    caller: Caller<needs::ViewUsers>,
    ApiPath(UserId { id }): ApiPath<UserId>,
) -> Result<Json<Vec<SessionView>>, Problem> {
    let sessions = support::sessions_of_user(&state.services, &caller.actor, &user(id)).await?;
    Ok(Json(sessions.into_iter().map(SessionView::from).collect()))
}

/// End every session of a user.
#[utoipa::path(delete, path = "/admin/api/v1/users/{id}/sessions", tag = "users", params(UserId),
    security(("bearer" = ["idp.admin"]), ("bearer" = ["idp.support"])),
    responses((status = 204, description = "Ended"), ItemErrors))]
pub async fn user_sessions_delete(
    State(state): State<AppState>,
    caller: Caller<needs::SupportUsers>,
    ApiPath(UserId { id }): ApiPath<UserId>,
) -> Result<StatusCode, Problem> {
    support::end_user_sessions(&state.services, &caller.actor, &user(id), None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// End one session of a user.
#[utoipa::path(delete, path = "/admin/api/v1/users/{id}/sessions/{sid}", tag = "users", params(UserSession),
    security(("bearer" = ["idp.admin"]), ("bearer" = ["idp.support"])),
    responses((status = 204, description = "Ended"), ItemErrors))]
pub async fn user_session_delete(
    State(state): State<AppState>,
    caller: Caller<needs::SupportUsers>,
    ApiPath(UserSession { id, sid }): ApiPath<UserSession>,
) -> Result<StatusCode, Problem> {
    support::end_user_sessions(&state.services, &caller.actor, &user(id), Some(&sid)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List the applications a user consented to.
#[utoipa::path(get, path = "/admin/api/v1/users/{id}/consents", tag = "users", params(UserId),
    security(("bearer" = ["idp.admin"])),
    responses((status = 200, description = "The consents", body = Vec<ConsentView>), ItemErrors))]
pub async fn user_consents_get(
    State(state): State<AppState>,
    caller: Caller<needs::ManageUsers>,
    ApiPath(UserId { id }): ApiPath<UserId>,
) -> Result<Json<Vec<ConsentView>>, Problem> {
    let consents = support::consents_of_user(&state.services, &caller.actor, &user(id)).await?;
    Ok(Json(
        consents
            .into_iter()
            .map(|c| ConsentView { client_id: c.client_id, scopes: c.scopes, granted_at: timestamp(c.granted_at) })
            .collect(),
    ))
}

/// Revoke a user's consent to an application.
#[utoipa::path(delete, path = "/admin/api/v1/users/{id}/consents/{client_id}", tag = "users", params(UserConsent),
    security(("bearer" = ["idp.admin"])), responses((status = 204, description = "Revoked"), ItemErrors))]
pub async fn user_consent_delete(
    State(state): State<AppState>,
    caller: Caller<needs::ManageUsers>,
    ApiPath(UserConsent { id, client_id }): ApiPath<UserConsent>,
) -> Result<StatusCode, Problem> {
    support::revoke_consent(&state.services, &caller.actor, &user(id), &client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The user's audit events, newest first.
#[utoipa::path(get, path = "/admin/api/v1/users/{id}/events", tag = "users", params(UserId, EventsQuery),
    security(("bearer" = ["idp.admin"]), ("bearer" = ["idp.audit"])),
    responses((status = 200, description = "A page of events", body = Page<EventView>), ItemErrors))]
pub async fn user_events_get(
    State(state): State<AppState>,
    caller: Caller<needs::ReadAudit>,
    ApiPath(UserId { id }): ApiPath<UserId>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Json<Page<EventView>>, Problem> {
    let window = Window::parse(query.limit, query.offset)?;
    let page = support::user_events(&state.services, &caller.actor, &user(id), window.request()).await?;
    Ok(Json(Page::from_admin(page, |e: admin_users::UserEvent| EventView::from(e))))
}
