//! /admin/api/v1/audit: the audit trail, searched (a page of events) or exported whole as JSON
//! lines (`application/x-ndjson`, streamed in chunks). Read only: nobody edits the trail.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Caller, needs};
use super::paging::{Page, Window};
use super::problem::{ApiQuery, Problem, ReadErrors};
use super::timestamp;
use crate::admin::audit::{self, AuditQuery};
use crate::admin::when::parse_instant;
use crate::web::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    pub id: i64,
    /// RFC 3339.
    pub at: String,
    /// `sign_in`, `sign_in_failed`, `client_created`…
    pub kind: String,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub ip: String,
    pub user_agent: String,
    /// What happened, and for administrative events who acted (`actor`); never a secret.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl From<audit::AuditEntry> for AuditEntryView {
    fn from(e: audit::AuditEntry) -> Self {
        AuditEntryView {
            id: e.id,
            at: timestamp(e.at),
            kind: e.kind,
            user_id: e.user_id,
            client_id: e.client_id,
            ip: e.ip,
            user_agent: e.user_agent,
            detail: e.detail,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditSearchQuery {
    /// 1 to 200 (default 50); the newest first.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(minimum = 0)]
    pub offset: Option<u64>,
    /// A login or a user id.
    pub user: Option<String>,
    /// A client id.
    pub client: Option<String>,
    /// An event kind, or a prefix ending with `*` (`recovery_*`).
    pub kind: Option<String>,
    /// From (inclusive): `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SSZ` or Unix seconds.
    pub since: Option<String>,
    /// To (exclusive), as `since`.
    pub until: Option<String>,
}

impl AuditSearchQuery {
    fn to_query(&self, window: Window) -> Result<AuditQuery, Problem> {
        let instant = |name: &str, raw: &Option<String>| -> Result<Option<i64>, Problem> {
            raw.as_deref()
                .filter(|r| !r.trim().is_empty())
                .map(|r| {
                    parse_instant(r).map_err(|e| {
                        let detail = e.to_string();
                        Problem::bad_request(format!("{name}: {detail}")).with_field(Some(name.into()), detail)
                    })
                })
                .transpose()
        };
        Ok(AuditQuery {
            user: self.user.clone(),
            client: self.client.clone(),
            kind: self.kind.clone(),
            since: instant("since", &self.since)?,
            until: instant("until", &self.until)?,
            offset: usize::try_from(window.offset).unwrap_or(usize::MAX),
            limit: window.limit as usize,
        })
    }
}

/// Search the audit trail.
#[utoipa::path(get, path = "/admin/api/v1/audit", tag = "audit", params(AuditSearchQuery),
    security(("bearer" = ["idp.admin"]), ("bearer" = ["idp.audit"])),
    responses((status = 200, description = "A page of events", body = Page<AuditEntryView>), ReadErrors))]
pub async fn audit_get(
    State(state): State<AppState>,
    caller: Caller<needs::ReadAudit>,
    ApiQuery(query): ApiQuery<AuditSearchQuery>,
) -> Result<Json<Page<AuditEntryView>>, Problem> {
    let window = Window::parse(query.limit, query.offset)?;
    let page = audit::search_audit(&state.services, &caller.actor, &query.to_query(window)?).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(AuditEntryView::from).collect(),
        total: page.total as u64,
        limit: window.limit,
        offset: window.offset,
    }))
}

/// Export the events a search keeps, oldest first, one JSON object per line (`limit` and
/// `offset` are ignored).
#[utoipa::path(get, path = "/admin/api/v1/audit/export", tag = "audit", params(AuditSearchQuery),
    security(("bearer" = ["idp.admin"]), ("bearer" = ["idp.audit"])),
    responses((status = 200, description = "JSON lines, one event each", content_type = "application/x-ndjson",
        body = AuditEntryView), ReadErrors))]
pub async fn audit_export_get(
    State(state): State<AppState>,
    caller: Caller<needs::ReadAudit>,
    ApiQuery(query): ApiQuery<AuditSearchQuery>,
) -> Result<Response, Problem> {
    let window = Window::parse(query.limit, query.offset)?;
    let export = audit::export_audit(&state.services, &caller.actor, &query.to_query(window)?).await?;
    let services = state.services.clone();
    // A failure after the first chunk can only cut the stream: the status is already sent.
    let chunks = futures_util::stream::unfold(Some(export), move |export| {
        let services = services.clone();
        async move {
            let mut export = export?;
            match export.next_chunk(&services).await {
                Ok(Some(chunk)) => Some((Ok::<_, std::io::Error>(chunk), Some(export))),
                Ok(None) => None,
                Err(e) => {
                    tracing::error!(error = %e, "the audit export stopped");
                    Some((Err(std::io::Error::other("the audit export stopped")), None))
                }
            }
        }
    });
    let mut response = Body::from_stream(chunks).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
    Ok(response)
}
