//! /admin/audit: the audit trail with filters (user, client, kind, dates), paged newest first,
//! and its export as JSON lines (`/admin/audit/export`, same filters), streamed chunk by chunk
//! so a long trail is never held in memory. Auditors and admins (`Permission::ReadAudit`).

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::sync::mpsc;

use super::{console_or_return, enter, format_time};
use crate::admin::actor::Permission;
use crate::admin::audit::{self, AuditQuery};
use crate::oidc::params::Params;
use crate::web::AppState;
use crate::web::browser::Browser;
use crate::web::error::AppError;
use crate::web::handlers::{field, parse_params};

/// Events per page of the console.
const PAGE: usize = 50;

#[derive(Serialize, Default)]
struct Filters {
    user: String,
    client: String,
    kind: String,
    /// `YYYY-MM-DD`, UTC; `until` is inclusive (the whole day).
    since: String,
    until: String,
}

#[derive(Serialize)]
struct EventRow {
    when: String,
    kind: String,
    user_id: String,
    client_id: String,
    ip: String,
    detail: String,
}

#[derive(Serialize)]
struct AuditPage {
    filters: Filters,
    /// The filters as a query string, for the export and paging links.
    filter_query: String,
    events: Vec<EventRow>,
    total: usize,
    first: usize,
    last: usize,
    previous_offset: Option<usize>,
    next_offset: Option<usize>,
    error: String,
}

/// The filters of a query string, and the library query they make (`Err`: a bad date).
fn read_filters(params: &Params, offset: usize) -> Result<(Filters, Result<AuditQuery, String>), AppError> {
    let text =
        |name: &str| -> Result<String, AppError> { Ok(field(params, name)?.unwrap_or_default().trim().to_owned()) };
    let filters = Filters {
        user: text("user")?,
        client: text("client")?,
        kind: text("kind")?,
        since: text("since")?,
        until: text("until")?,
    };
    let some = |v: &str| Some(v.to_owned()).filter(|v| !v.is_empty());
    let date = |v: &str, end: bool| -> Result<Option<i64>, String> {
        match v {
            "" => Ok(None),
            d => crate::clock::day_start(d)
                .map(|t| Some(if end { t + 86_400 } else { t }))
                .ok_or_else(|| format!("{d:?}: YYYY-MM-DD")),
        }
    };
    let query = (|| {
        Ok(AuditQuery {
            user: some(&filters.user),
            client: some(&filters.client),
            kind: some(&filters.kind),
            since: date(&filters.since, false)?,
            until: date(&filters.until, true)?,
            offset,
            limit: PAGE,
        })
    })();
    Ok((filters, query))
}

fn filter_query(f: &Filters) -> String {
    let pairs = [("user", &f.user), ("client", &f.client), ("kind", &f.kind), ("since", &f.since), ("until", &f.until)];
    let kept: Vec<(&str, &String)> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

pub async fn admin_audit_get(State(state): State<AppState>, browser: Browser) -> Result<Response, AppError> {
    let console = console_or_return!(enter(&state, &browser));
    console.require(Permission::ReadAudit)?;
    let params = parse_params(browser.query.as_deref().unwrap_or_default())?;
    let offset = field(&params, "offset")?.and_then(|o| o.parse::<usize>().ok()).unwrap_or(0);
    let (filters, query) = read_filters(&params, offset)?;
    let (found, error) = match query {
        Ok(query) => match audit::search_audit(&state.services, &console.actor, &query).await {
            Ok(found) => (found, String::new()),
            Err(e) => match super::input_error(&e) {
                Some(error) => (crate::admin::clients::Page { items: Vec::new(), total: 0 }, error),
                None => return Err(console.refusal(e)),
            },
        },
        Err(error) => (crate::admin::clients::Page { items: Vec::new(), total: 0 }, error),
    };
    let shown = found.items.len();
    let page = AuditPage {
        filter_query: filter_query(&filters),
        filters,
        total: found.total,
        first: if shown == 0 { 0 } else { offset + 1 },
        last: offset + shown,
        previous_offset: (offset > 0).then(|| offset.saturating_sub(PAGE)),
        next_offset: (offset + shown < found.total).then_some(offset + shown),
        events: found
            .items
            .into_iter()
            .map(|e| EventRow {
                when: format_time(e.at),
                kind: e.kind,
                user_id: e.user_id.unwrap_or_default(),
                client_id: e.client_id.unwrap_or_default(),
                ip: e.ip,
                detail: e.detail.to_string(),
            })
            .collect(),
        error,
    };
    let status = if page.error.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    Ok(console.render(&state, &browser, status, "admin_audit.html", "audit", &page))
}

/// The chunks of an export as a response body, sent as the export task reads them.
struct ExportBody(mpsc::Receiver<Bytes>);

impl http_body::Body for ExportBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.0.poll_recv(cx).map(|chunk| chunk.map(|bytes| Ok(http_body::Frame::data(bytes))))
    }
}

/// `GET /admin/audit/export?…`: the filtered trail as JSON lines, downloaded as a file. A
/// failure part-way ends the download early (logged); the file is then visibly cut short.
pub async fn admin_audit_export_get(State(state): State<AppState>, browser: Browser) -> Result<Response, AppError> {
    let console = console_or_return!(enter(&state, &browser));
    console.require(Permission::ReadAudit)?;
    let params = parse_params(browser.query.as_deref().unwrap_or_default())?;
    let (_, query) = read_filters(&params, 0)?;
    let query = query.map_err(|_| AppError::page(StatusCode::BAD_REQUEST, "error_bad_request"))?;
    let services = state.services.clone();
    let mut export = audit::export_audit(&services, &console.actor, &query).await.map_err(|e| console.refusal(e))?;
    let (tx, rx) = mpsc::channel::<Bytes>(2);
    tokio::spawn(async move {
        loop {
            match export.next_chunk(&services).await {
                Ok(Some(lines)) => {
                    if tx.send(Bytes::from(lines)).await.is_err() {
                        break;
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    tracing::error!(%error, "audit export failed part-way");
                    break;
                }
            }
        }
    });
    let mut response = (StatusCode::OK, Body::new(ExportBody(rx))).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/jsonl"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"audit.jsonl\""));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::{filter_query, read_filters};
    use crate::oidc::params::Params;

    #[test]
    fn the_until_day_is_included_and_a_bad_day_is_refused() {
        let params = Params::parse("since=2026-11-01&until=2026-11-02&kind=sign_in").unwrap();
        let (filters, query) = read_filters(&params, 0).unwrap();
        let query = query.unwrap();
        assert_eq!(query.since, crate::clock::day_start("2026-11-01"));
        assert_eq!(query.until, crate::clock::day_start("2026-11-03"), "the whole of the 2nd");
        assert_eq!(filter_query(&filters), "kind=sign_in&since=2026-11-01&until=2026-11-02");

        let bad = Params::parse("until=2026-13-01").unwrap();
        assert!(read_filters(&bad, 0).unwrap().1.is_err());
    }
}
