//! /admin/groups: the groups (issue #11), create one, add and remove members. Admins only
//! (`Permission::ManageGroups`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::{Console, console_or_return, enter, enter_form, format_time, input_error, segment, with_notice};
use crate::admin::actor::Permission;
use crate::admin::groups;
use crate::web::AppState;
use crate::web::browser::Browser;
use crate::web::error::AppError;
use crate::web::handlers::{PostedForm, field, see_other};

#[derive(Serialize)]
struct GroupRow {
    id: String,
    name: String,
    created: String,
    members: i64,
}

#[derive(Serialize, Default)]
struct GroupsPage {
    groups: Vec<GroupRow>,
    error: String,
    id: String,
    name: String,
}

#[derive(Serialize)]
struct GroupPage {
    id: String,
    name: String,
    created: String,
    members: Vec<String>,
    error: String,
    login: String,
}

fn group_path(id: &str) -> String {
    format!("/admin/groups/{}", segment(id))
}

async fn list(state: &AppState, browser: &Browser, console: &Console, form: GroupsPage) -> Result<Response, AppError> {
    console.require(Permission::ManageGroups)?;
    let all = groups::list_groups(&state.services, &console.actor).await.map_err(|e| console.refusal(e))?;
    let page = GroupsPage {
        groups: all
            .into_iter()
            .map(|g| GroupRow { id: g.id, name: g.name, created: format_time(g.created_at), members: g.members })
            .collect(),
        ..form
    };
    let status = if page.error.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    Ok(console.render(state, browser, status, "admin_groups.html", "groups", &page))
}

pub async fn admin_groups_get(State(state): State<AppState>, browser: Browser) -> Result<Response, AppError> {
    let console = console_or_return!(enter(&state, &browser));
    list(&state, &browser, &console, GroupsPage::default()).await
}

pub async fn admin_groups_post(
    State(state): State<AppState>,
    browser: Browser,
    form: PostedForm,
) -> Result<Response, AppError> {
    let console = console_or_return!(enter_form(&state, &browser));
    let params = form.check(&state, console.csrf_context())?;
    console.require(Permission::ManageGroups)?;
    let id = field(&params, "id")?.unwrap_or_default().trim().to_owned();
    let name = field(&params, "name")?.unwrap_or_default().to_owned();
    match groups::add_group(&state.services, &console.actor, &id, &name).await {
        Ok(group) => Ok(see_other(&with_notice(&group_path(&group.id), "group_created", browser.lang(None)))),
        Err(e) => match input_error(&e) {
            Some(error) => {
                list(&state, &browser, &console, GroupsPage { error, id, name, ..GroupsPage::default() }).await
            }
            None => Err(console.refusal(e)),
        },
    }
}

async fn show(
    state: &AppState,
    browser: &Browser,
    console: &Console,
    id: &str,
    error: String,
    login: String,
) -> Result<Response, AppError> {
    console.require(Permission::ManageGroups)?;
    let group = groups::show_group(&state.services, &console.actor, id).await.map_err(|e| match e {
        crate::admin::AdminError::Invalid(_) => AppError::page(StatusCode::NOT_FOUND, "error_not_found"),
        other => console.refusal(other),
    })?;
    let status = if error.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let page = GroupPage {
        id: group.id,
        name: group.name,
        created: format_time(group.created_at),
        members: group.members,
        error,
        login,
    };
    Ok(console.render(state, browser, status, "admin_group.html", "groups", &page))
}

pub async fn admin_group_get(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let console = console_or_return!(enter(&state, &browser));
    show(&state, &browser, &console, &id, String::new(), String::new()).await
}

/// Adds (`admin_group_members_post`) or removes (`admin_group_members_remove_post`) the member
/// named by the form's `login`.
async fn change_member(
    state: AppState,
    browser: Browser,
    id: String,
    form: PostedForm,
    add: bool,
) -> Result<Response, AppError> {
    let console = console_or_return!(enter_form(&state, &browser));
    let params = form.check(&state, console.csrf_context())?;
    console.require(Permission::ManageGroups)?;
    let login = field(&params, "login")?.unwrap_or_default().trim().to_owned();
    let s = &state.services;
    let done = if add {
        groups::add_member(s, &console.actor, &id, &login).await
    } else {
        groups::remove_member(s, &console.actor, &id, &login).await
    };
    match done {
        Ok(_) => Ok({
            let notice = if add { "member_added" } else { "member_removed" };
            see_other(&with_notice(&group_path(&id), notice, browser.lang(None)))
        }),
        Err(e) => match input_error(&e) {
            Some(error) => show(&state, &browser, &console, &id, error, login).await,
            None => Err(console.refusal(e)),
        },
    }
}

pub async fn admin_group_members_post(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    form: PostedForm,
) -> Result<Response, AppError> {
    change_member(state, browser, id, form, true).await
}

pub async fn admin_group_members_remove_post(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    form: PostedForm,
) -> Result<Response, AppError> {
    change_member(state, browser, id, form, false).await
}
