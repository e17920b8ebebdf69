//! /admin/users: search the accounts (login or e-mail prefix, type, group, status), one
//! account's page (status, lock, groups, sessions, recent activity) and the actions the
//! viewer's role allows: support unlocks, sends a provisional password or an activation link,
//! clears the secret question and ends sessions; an admin also edits, disables, enables,
//! deletes and sets the console role. `admin::users` does the work and checks the role;
//! disabling and deleting go through a confirmation page.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::{Console, console_or_return, enter, enter_form, format_time, input_error, with_notice};
use crate::admin::AdminError;
use crate::admin::actor::{Permission, Role};
use crate::admin::page::PageRequest;
use crate::admin::users::{self, ResetMethod, UserQuery, UserRef, UserUpdate};
use crate::oidc::params::Params;
use crate::web::AppState;
use crate::web::browser::Browser;
use crate::web::error::AppError;
use crate::web::handlers::{PostedForm, field, parse_params, see_other};

/// Accounts per page of the console.
const PAGE: usize = 50;

#[derive(Serialize, Default)]
struct Filters {
    login: String,
    email: String,
    user_type: String,
    group: String,
    status: String,
}

#[derive(Serialize)]
struct UserRow {
    id: String,
    login: String,
    name: String,
    email: String,
    user_type: String,
    status: String,
}

#[derive(Serialize)]
struct UsersPage {
    filters: Filters,
    filter_query: String,
    user_types: Vec<String>,
    users: Vec<UserRow>,
    total: usize,
    first: usize,
    last: usize,
    previous_offset: Option<usize>,
    next_offset: Option<usize>,
    error: String,
}

#[derive(Serialize)]
struct UserFacts {
    id: String,
    login: String,
    name: String,
    given_name: String,
    family_name: String,
    email: String,
    phone_number: String,
    user_type: String,
    status: String,
    locked: bool,
    locked_until: String,
    role: String,
    created: String,
}

#[derive(Serialize)]
struct SessionRow {
    id: String,
    created: String,
    last_seen: String,
    ip: String,
    user_agent: String,
}

#[derive(Serialize)]
struct EventRow {
    when: String,
    kind: String,
    ip: String,
}

#[derive(Serialize)]
struct May {
    support: bool,
    manage: bool,
}

#[derive(Serialize)]
struct UserPage {
    user: UserFacts,
    groups: Vec<String>,
    sessions: Vec<SessionRow>,
    activity: Vec<EventRow>,
    user_types: Vec<String>,
    may: May,
    error: String,
}

#[derive(Serialize)]
struct ConfirmPage {
    id: String,
    login: String,
    action: &'static str,
}

fn user_path(id: &str) -> String {
    format!("/admin/users/{}", super::segment(id))
}

fn user_types(state: &AppState) -> Vec<String> {
    let mut ids: Vec<String> = state.services.user_types.all().iter().map(|t| t.id.clone()).collect();
    ids.sort();
    ids
}

fn read_filters(params: &Params) -> Result<Filters, AppError> {
    let text =
        |name: &str| -> Result<String, AppError> { Ok(field(params, name)?.unwrap_or_default().trim().to_owned()) };
    Ok(Filters {
        login: text("login")?,
        email: text("email")?,
        user_type: text("user_type")?,
        group: text("group")?,
        status: text("status")?,
    })
}

fn filter_query(f: &Filters) -> String {
    let pairs = [
        ("login", &f.login),
        ("email", &f.email),
        ("user_type", &f.user_type),
        ("group", &f.group),
        ("status", &f.status),
    ];
    let kept: Vec<(&str, &String)> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

pub async fn admin_users_get(State(state): State<AppState>, browser: Browser) -> Result<Response, AppError> {
    let console = console_or_return!(enter(&state, &browser));
    console.require(Permission::ViewUsers)?;
    let params = parse_params(browser.query.as_deref().unwrap_or_default())?;
    let offset = field(&params, "offset")?.and_then(|o| o.parse::<usize>().ok()).unwrap_or(0);
    let filters = read_filters(&params)?;
    let some = |v: &str| Some(v.to_owned()).filter(|v| !v.is_empty());
    let query = UserQuery {
        login: some(&filters.login),
        email: some(&filters.email),
        user_type: some(&filters.user_type),
        group: some(&filters.group),
        status: match filters.status.as_str() {
            "" => None,
            raw => match users::UserStatus::parse(raw) {
                Ok(status) => Some(status),
                Err(e) => return Err(console.refusal(e)),
            },
        },
        page: PageRequest { limit: PAGE as u32, offset: offset as u64 },
        ..UserQuery::default()
    };
    let (found, error) = match users::search_users(&state.services, &console.actor, &query).await {
        Ok(found) => (found, String::new()),
        Err(e) => match input_error(&e) {
            Some(error) => (crate::admin::page::Page { items: Vec::new(), total: 0, limit: 0, offset: 0 }, error),
            None => return Err(console.refusal(e)),
        },
    };
    let shown = found.items.len();
    let total = usize::try_from(found.total).unwrap_or(usize::MAX);
    let page = UsersPage {
        filter_query: filter_query(&filters),
        filters,
        user_types: user_types(&state),
        total,
        first: if shown == 0 { 0 } else { offset + 1 },
        last: offset + shown,
        previous_offset: (offset > 0).then(|| offset.saturating_sub(PAGE)),
        next_offset: (offset + shown < total).then_some(offset + shown),
        users: found
            .items
            .into_iter()
            .map(|u| UserRow {
                name: format!("{} {}", u.given_name, u.family_name).trim().to_owned(),
                id: u.id,
                login: u.login,
                email: u.email,
                user_type: u.user_type,
                status: u.status.as_str().to_owned(),
            })
            .collect(),
        error,
    };
    let status = if page.error.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    Ok(console.render(&state, &browser, status, "admin_users.html", "users", &page))
}

async fn detail(
    state: &AppState,
    browser: &Browser,
    console: &Console,
    id: &str,
    error: String,
) -> Result<Response, AppError> {
    let shown = users::show_user(&state.services, &console.actor, &UserRef::Id(id.to_owned()))
        .await
        .map_err(|e| console.refusal(e))?;
    let view = shown.user;
    let page = UserPage {
        user: UserFacts {
            name: format!("{} {}", view.given_name, view.family_name).trim().to_owned(),
            id: view.id,
            login: view.login,
            given_name: view.given_name,
            family_name: view.family_name,
            email: view.email,
            phone_number: view.phone_number.unwrap_or_default(),
            user_type: view.user_type,
            locked: view.locked_until.is_some(),
            locked_until: view.locked_until.map(format_time).unwrap_or_default(),
            status: view.status.as_str().to_owned(),
            role: view.role.unwrap_or_default(),
            created: format_time(view.created_at),
        },
        groups: shown.groups,
        sessions: shown
            .sessions
            .into_iter()
            .map(|s| SessionRow {
                id: s.sid,
                created: format_time(s.created_at),
                last_seen: format_time(s.auth_time),
                ip: s.ip,
                user_agent: s.user_agent,
            })
            .collect(),
        activity: shown
            .recent_sign_ins
            .into_iter()
            .map(|e| EventRow { when: format_time(e.at), kind: e.kind, ip: e.ip })
            .collect(),
        user_types: user_types(state),
        may: May { support: console.may(Permission::SupportUsers), manage: console.may(Permission::ManageUsers) },
        error,
    };
    let status = if page.error.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    Ok(console.render(state, browser, status, "admin_user.html", "users", &page))
}

pub async fn admin_user_get(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let console = console_or_return!(enter(&state, &browser));
    console.require(Permission::ViewUsers)?;
    detail(&state, &browser, &console, &id, String::new()).await
}

/// An action of the account page (`/admin/users/{id}/{action}`, POST).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Unlock,
    ResetPassword,
    ActivationLink,
    ResetSecretQuestion,
    EndSessions,
    Update,
    Role,
    Enable,
    Disable,
    Delete,
}

impl Action {
    fn parse(raw: &str) -> Option<Action> {
        Some(match raw {
            "unlock" => Action::Unlock,
            "reset-password" => Action::ResetPassword,
            "activation-link" => Action::ActivationLink,
            "reset-secret-question" => Action::ResetSecretQuestion,
            "end-sessions" => Action::EndSessions,
            "update" => Action::Update,
            "role" => Action::Role,
            "enable" => Action::Enable,
            "disable" => Action::Disable,
            "delete" => Action::Delete,
            _ => return None,
        })
    }

    /// The `admin_notice_*` shown after it.
    fn notice(self) -> &'static str {
        match self {
            Action::Unlock => "user_unlocked",
            Action::ResetPassword => "user_reset_sent",
            Action::ActivationLink => "user_activation_sent",
            Action::ResetSecretQuestion => "user_secret_question_reset",
            Action::EndSessions => "user_sessions_ended",
            Action::Update => "user_updated",
            Action::Role => "user_role_set",
            Action::Enable => "user_enabled",
            Action::Disable => "user_disabled",
            Action::Delete => "user_deleted",
        }
    }
}

fn update_of(params: &Params) -> Result<UserUpdate, AppError> {
    let text =
        |name: &str| -> Result<Option<String>, AppError> { Ok(field(params, name)?.map(|v| v.trim().to_owned())) };
    Ok(UserUpdate {
        email: text("email")?,
        given_name: text("given_name")?,
        family_name: text("family_name")?,
        phone_number: text("phone_number")?,
        user_type: text("user_type")?,
        ..UserUpdate::default()
    })
}

/// Runs `action` on the account `id` with the viewer's actor.
async fn run(state: &AppState, console: &Console, id: &str, action: Action, params: &Params) -> Result<(), AdminError> {
    let (s, actor) = (&state.services, &console.actor);
    let id = &UserRef::Id(id.to_owned());
    match action {
        Action::Unlock => users::unlock_user(s, actor, id).await.map(drop),
        Action::ResetPassword => {
            users::reset_user_password(s, actor, id, ResetMethod::ProvisionalPassword).await.map(drop)
        }
        Action::ActivationLink => users::reset_user_password(s, actor, id, ResetMethod::ActivationLink).await.map(drop),
        Action::ResetSecretQuestion => users::reset_secret_question(s, actor, id).await.map(drop),
        Action::EndSessions => {
            let sid = params.get("sid").ok().flatten().filter(|s| !s.is_empty());
            users::end_user_sessions(s, actor, id, sid).await.map(drop)
        }
        Action::Update => {
            let update = update_of(params).map_err(|_| AdminError::Invalid("malformed form".into()))?;
            users::update_user(s, actor, id, &update).await.map(drop)
        }
        Action::Role => {
            let raw = params.get("role").ok().flatten().unwrap_or_default();
            let role = if raw == "none" { None } else { Some(Role::parse(raw)?) };
            users::set_role(s, actor, id, role).await.map(drop)
        }
        Action::Enable => users::enable_user(s, actor, id).await.map(drop),
        Action::Disable => users::disable_user(s, actor, id).await.map(drop),
        Action::Delete => users::delete_user(s, actor, id).await.map(drop),
    }
}

pub async fn admin_user_action_post(
    State(state): State<AppState>,
    browser: Browser,
    Path((id, action)): Path<(String, String)>,
    form: PostedForm,
) -> Result<Response, AppError> {
    let console = console_or_return!(enter_form(&state, &browser));
    let params = form.check(&state, console.csrf_context())?;
    let action = Action::parse(&action).ok_or_else(|| AppError::page(StatusCode::NOT_FOUND, "error_not_found"))?;
    let lang = browser.lang(None);
    match run(&state, &console, &id, action, &params).await {
        Ok(()) if action == Action::Delete => Ok(see_other(&with_notice("/admin/users", action.notice(), lang))),
        Ok(()) => Ok(see_other(&with_notice(&user_path(&id), action.notice(), lang))),
        Err(e @ (AdminError::Field(_) | AdminError::Invalid(_) | AdminError::Duplicate(_))) => {
            let error = input_error(&e).unwrap_or_default();
            detail(&state, &browser, &console, &id, error).await
        }
        Err(e) => Err(console.refusal(e)),
    }
}

/// The confirmation page before disabling or deleting an account.
pub async fn admin_user_confirm_get(
    State(state): State<AppState>,
    browser: Browser,
    Path((id, action)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let console = console_or_return!(enter(&state, &browser));
    let action = match action.as_str() {
        "disable" => "disable",
        "delete" => "delete",
        _ => return Err(AppError::page(StatusCode::NOT_FOUND, "error_not_found")),
    };
    console.require(Permission::ManageUsers)?;
    let shown = users::show_user(&state.services, &console.actor, &UserRef::Id(id.clone()))
        .await
        .map_err(|e| console.refusal(e))?;
    let page = ConfirmPage { id: shown.user.id, login: shown.user.login, action };
    Ok(console.render(&state, &browser, StatusCode::OK, "admin_user_confirm.html", "users", &page))
}

#[cfg(test)]
mod tests {
    use super::Action;

    #[test]
    fn every_action_has_a_known_notice_and_unknown_actions_are_refused() {
        for raw in [
            "unlock",
            "reset-password",
            "activation-link",
            "reset-secret-question",
            "end-sessions",
            "update",
            "role",
            "enable",
            "disable",
            "delete",
        ] {
            let action = Action::parse(raw).unwrap_or_else(|| panic!("{raw}"));
            assert!(super::super::NOTICES.contains(&action.notice()), "{raw}");
        }
        assert_eq!(Action::parse("../clients"), None);
        assert_eq!(Action::parse(""), None);
    }
}
