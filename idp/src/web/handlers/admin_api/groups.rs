//! /admin/api/v1/groups: groups of users and their members (`admin::groups`).

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
use crate::admin::groups;
use crate::store::{GroupDetail, GroupSummary};
use crate::web::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupView {
    pub id: String,
    pub name: String,
    /// RFC 3339.
    pub created_at: String,
    /// How many members.
    pub members: i64,
}

impl From<GroupSummary> for GroupView {
    fn from(g: GroupSummary) -> Self {
        GroupView { id: g.id, name: g.name, created_at: timestamp(g.created_at), members: g.members }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupDetailView {
    pub id: String,
    pub name: String,
    /// RFC 3339.
    pub created_at: String,
    /// The members' logins, sorted.
    pub members: Vec<String>,
}

impl From<GroupDetail> for GroupDetailView {
    fn from(g: GroupDetail) -> Self {
        GroupDetailView { id: g.id, name: g.name, created_at: timestamp(g.created_at), members: g.members }
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupSort {
    #[default]
    Id,
    Name,
    CreatedAt,
    Members,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GroupListQuery {
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(minimum = 0)]
    pub offset: Option<u64>,
    #[param(inline)]
    pub sort: Option<GroupSort>,
    #[param(inline)]
    pub order: Option<Order>,
    /// Part of the id or the name, case-insensitive.
    pub q: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupCreate {
    /// 1 to 64 letters, digits, `-`, `_` or `.`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub id: String,
    /// For people; the id when empty.
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct GroupId {
    /// The group id.
    #[param(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub id: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct GroupMember {
    /// The group id.
    #[param(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub id: String,
    /// The member's login.
    pub login: String,
}

/// List groups.
#[utoipa::path(get, path = "/admin/api/v1/groups", tag = "groups", params(GroupListQuery),
    security(("bearer" = ["idp.admin"])),
    responses((status = 200, description = "A page of groups", body = Page<GroupView>), ReadErrors))]
pub async fn groups_get(
    State(state): State<AppState>,
    caller: Caller<needs::ManageGroups>,
    ApiQuery(query): ApiQuery<GroupListQuery>,
) -> Result<Json<Page<GroupView>>, Problem> {
    let window = Window::parse(query.limit, query.offset)?;
    let mut list = groups::list_groups(&state.services, &caller.actor).await?;
    if let Some(q) = query.q.as_deref().map(str::to_lowercase).filter(|q| !q.is_empty()) {
        list.retain(|g| g.id.to_lowercase().contains(&q) || g.name.to_lowercase().contains(&q));
    }
    match query.sort.unwrap_or_default() {
        GroupSort::Id => list.sort_by(|a, b| a.id.cmp(&b.id)),
        GroupSort::Name => list.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id))),
        GroupSort::CreatedAt => list.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id))),
        GroupSort::Members => list.sort_by(|a, b| a.members.cmp(&b.members).then(a.id.cmp(&b.id))),
    }
    if query.order == Some(Order::Desc) {
        list.reverse();
    }
    Ok(Json(window.page_of(list.into_iter().map(GroupView::from).collect())))
}

/// Create a group.
#[utoipa::path(post, path = "/admin/api/v1/groups", tag = "groups", request_body = GroupCreate,
    security(("bearer" = ["idp.admin"])),
    responses((status = 201, description = "Created; `Location` names it", body = GroupView), WriteErrors))]
pub async fn groups_post(
    State(state): State<AppState>,
    caller: Caller<needs::ManageGroups>,
    ApiJson(body): ApiJson<GroupCreate>,
) -> Result<Response, Problem> {
    let group = groups::add_group(&state.services, &caller.actor, &body.id, &body.name).await?;
    Ok(created(&format!("/groups/{}", group.id), GroupView::from(group)))
}

/// Show a group and its members.
#[utoipa::path(get, path = "/admin/api/v1/groups/{id}", tag = "groups", params(GroupId),
    security(("bearer" = ["idp.admin"])),
    responses((status = 200, description = "The group", body = GroupDetailView), ItemErrors))]
pub async fn group_get(
    State(state): State<AppState>,
    caller: Caller<needs::ManageGroups>,
    ApiPath(GroupId { id }): ApiPath<GroupId>,
) -> Result<Json<GroupDetailView>, Problem> {
    Ok(Json(groups::show_group(&state.services, &caller.actor, &id).await?.into()))
}

/// Add a member (idempotent).
#[utoipa::path(put, path = "/admin/api/v1/groups/{id}/members/{login}", tag = "groups", params(GroupMember),
    security(("bearer" = ["idp.admin"])),
    responses((status = 204, description = "The user is a member"), ItemErrors))]
pub async fn group_member_put(
    State(state): State<AppState>,
    caller: Caller<needs::ManageGroups>,
    ApiPath(GroupMember { id, login }): ApiPath<GroupMember>,
) -> Result<StatusCode, Problem> {
    groups::add_member(&state.services, &caller.actor, &id, &login).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a member.
#[utoipa::path(delete, path = "/admin/api/v1/groups/{id}/members/{login}", tag = "groups", params(GroupMember),
    security(("bearer" = ["idp.admin"])),
    responses((status = 204, description = "Removed"), ItemErrors))]
pub async fn group_member_delete(
    State(state): State<AppState>,
    caller: Caller<needs::ManageGroups>,
    ApiPath(GroupMember { id, login }): ApiPath<GroupMember>,
) -> Result<StatusCode, Problem> {
    if groups::remove_member(&state.services, &caller.actor, &id, &login).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!("{login:?} is not a member of group {id:?}")))
    }
}
