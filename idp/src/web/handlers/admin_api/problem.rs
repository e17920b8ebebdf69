//! Every failure of the admin API as RFC 9457 `application/problem+json`: the library's
//! `AdminError`, the bearer token's problems (with RFC 6750 §3 `WWW-Authenticate`), and the
//! framework's own rejections (bad JSON, wrong content type, bad query or path, unknown route,
//! wrong method, body too large), which the extractors here and `finish` turn into problems so
//! bad input is never a themed page or a 500. The error set each operation documents in the
//! OpenAPI document is here too (`ReadErrors`, `ItemErrors`, `WriteErrors`).

use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
use utoipa::{PartialSchema, ToSchema};

use crate::admin::AdminError;
use crate::web::error::{ErrorPage, RETRY_AFTER_SECONDS};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem. `type` is a URN naming the kind of problem, or `about:blank` when the
/// status says everything (RFC 9457 §4.2.1).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:idp:problem:<kind>`, or `about:blank`.
    #[serde(rename = "type", serialize_with = "type_uri")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Field errors (RFC 9457 §3.2 extension member): which member of the body or query, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    #[serde(skip)]
    headers: Vec<(header::HeaderName, HeaderValue)>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    /// A JSON Pointer (RFC 6901) into the request body, or the query parameter's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    pub detail: String,
}

fn type_uri<S: serde::Serializer>(kind: &&'static str, serializer: S) -> Result<S::Ok, S::Error> {
    if *kind == ABOUT_BLANK {
        serializer.serialize_str(kind)
    } else {
        serializer.collect_str(&format_args!("urn:idp:problem:{kind}"))
    }
}

const ABOUT_BLANK: &str = "about:blank";

impl Problem {
    pub fn new(status: StatusCode, kind: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        Problem {
            kind,
            title,
            status: status.as_u16(),
            detail: (!detail.is_empty()).then_some(detail),
            errors: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// A problem the status alone describes (`about:blank`, the title its reason phrase).
    pub fn status(status: StatusCode, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        Problem {
            kind: ABOUT_BLANK,
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: (!detail.is_empty()).then_some(detail),
            errors: Vec::new(),
            headers: Vec::new(),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "invalid-request", "Invalid request", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    pub fn unavailable() -> Self {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            "a dependency of the server is unavailable; try again later",
        )
        .with_header(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS))
    }

    pub fn internal() -> Self {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error", "")
    }

    pub fn with_field(mut self, pointer: Option<String>, detail: impl Into<String>) -> Self {
        self.errors.push(FieldProblem { pointer, detail: detail.into() });
        self
    }

    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        for (name, value) in self.headers {
            headers.append(name, value);
        }
        response
    }
}

impl From<AdminError> for Problem {
    fn from(err: AdminError) -> Self {
        match err {
            AdminError::Field(e) => {
                let detail = e.to_string();
                Problem::new(StatusCode::BAD_REQUEST, "invalid-field", "Invalid field", detail.clone())
                    .with_field(None, detail)
            }
            AdminError::Invalid(detail) => Problem::bad_request(detail),
            AdminError::Duplicate(what) => {
                Problem::new(StatusCode::CONFLICT, "duplicate", "Already exists", format!("{what} already exists"))
            }
            AdminError::NotFound(what) => Problem::not_found(format!("{what} not found")),
            AdminError::Forbidden => Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                "this operation is not permitted to your role",
            ),
            AdminError::Infra(e) if e.is_unavailable() => {
                tracing::warn!(error = %e, "a dependency is unavailable during an admin API call");
                Problem::unavailable()
            }
            AdminError::Infra(e) => {
                tracing::error!(error = %e, "infrastructure failure during an admin API call");
                Problem::internal()
            }
        }
    }
}

/// The admin API's answer once the router and the outer middleware have run (`error_pages`
/// calls it for every path under `/admin/api`): an error marker or a framework rejection
/// (plain text or empty, e.g. 404, 405, 413) becomes a problem, keeping `Allow`, `Retry-After`
/// and `Connection`; anything else is left as it is.
pub fn finish(response: Response<Body>) -> Response<Body> {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    let marker = response.extensions().get::<ErrorPage>().is_some();
    if is_problem || !(marker || status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let mut problem = match status {
        StatusCode::SERVICE_UNAVAILABLE => Problem::unavailable(),
        StatusCode::NOT_FOUND => Problem::status(status, "no such route in the admin API"),
        _ => Problem::status(status, ""),
    };
    for name in [header::ALLOW, header::RETRY_AFTER, header::CONNECTION] {
        if let Some(value) = response.headers().get(&name)
            && !problem.headers.iter().any(|(n, _)| *n == name)
        {
            problem.headers.push((name, value.clone()));
        }
    }
    problem.into_response()
}

/// A JSON request body (`application/json`), parsed into `T`; the problem says which member is
/// wrong (a JSON Pointer in `errors`).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(Problem::status(StatusCode::UNSUPPORTED_MEDIA_TYPE, "send the body as application/json"));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| Problem::status(e.status(), e.body_text()))?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses a JSON body into `T`, or a 400 problem naming the member at fault.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let pointer = json_pointer(e.path());
        json_problem(Some(pointer), &e.into_inner())
    })?;
    // Nothing but white space after the value.
    deserializer.end().map_err(|e| json_problem(None, &e))?;
    Ok(value)
}

/// RFC 6901: `/uris/1`, with `~` and `/` escaped in member names.
fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Map { key } => Some(key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => Some(variant.clone()),
            Segment::Unknown => None,
        })
        .map(|token| format!("/{token}"))
        .collect()
}

fn json_problem(pointer: Option<String>, err: &serde_json::Error) -> Problem {
    let detail = if err.is_data() {
        format!("the body does not have the expected shape: {err}")
    } else {
        format!("the body is not valid JSON: {err}")
    };
    Problem::bad_request(detail.clone()).with_field(pointer, detail)
}

/// Query parameters parsed into `T`; an unknown value or a wrong type is a 400 problem.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(ApiQuery)
            .map_err(|e| Problem::bad_request(format!("invalid query parameters: {e}")))
    }
}

/// Path parameters parsed into `T`; undecodable ones are a 400 problem.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e| Problem::bad_request(e.body_text()))
    }
}

/// One documented error answer.
fn problem_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, ContentBuilder::new().schema(Some(Problem::schema())).build())
        .build()
        .into()
}

fn responses(statuses: &[(u16, &str)]) -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
    statuses.iter().map(|(status, description)| (status.to_string(), problem_response(description))).collect()
}

const BAD_REQUEST: (u16, &str) = (400, "Invalid parameters or body");
const UNAUTHORIZED: (u16, &str) = (401, "No access token, or an invalid, expired or revoked one");
const FORBIDDEN: (u16, &str) = (403, "The token lacks the scope (role) this operation needs");
const NOT_FOUND: (u16, &str) = (404, "No such resource");
const CONFLICT: (u16, &str) = (409, "Conflicts with an existing resource");
const TOO_LARGE: (u16, &str) = (413, "The body is too large");
const MEDIA_TYPE: (u16, &str) = (415, "The body is not application/json");
const UNAVAILABLE: (u16, &str) = (503, "A dependency is unavailable; retry after Retry-After seconds");

/// The errors of a list or a read without a path parameter.
pub struct ReadErrors;
/// The errors of an operation on one resource named in the path.
pub struct ItemErrors;
/// The errors of an operation that takes a JSON body.
pub struct WriteErrors;

impl utoipa::IntoResponses for ReadErrors {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        responses(&[BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, UNAVAILABLE])
    }
}

impl utoipa::IntoResponses for ItemErrors {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        responses(&[BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, CONFLICT, UNAVAILABLE])
    }
}

impl utoipa::IntoResponses for WriteErrors {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        responses(&[BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, CONFLICT, TOO_LARGE, MEDIA_TYPE, UNAVAILABLE])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        uris: Vec<String>,
    }

    #[test]
    fn a_wrong_member_is_named_by_its_pointer() {
        let problem = parse_json::<Body>(br#"{"name": "a", "uris": ["x", 3]}"#).unwrap_err();
        assert_eq!(problem.status, 400);
        assert_eq!(problem.errors[0].pointer.as_deref(), Some("/uris/1"));
        assert!(parse_json::<Body>(br#"{"name": "a", "uris": []} x"#).is_err(), "trailing data");
        assert!(parse_json::<Body>(b"{").is_err());
        assert!(parse_json::<Body>(br#"{"name": "a", "uris": []}"#).is_ok());
    }

    #[test]
    fn library_errors_map_to_their_statuses() {
        let status = |e: AdminError| Problem::from(e).status;
        assert_eq!(status(AdminError::Invalid("x".into())), 400);
        assert_eq!(status(AdminError::Duplicate("client \"a\"".into())), 409);
        assert_eq!(status(AdminError::NotFound("client \"a\"".into())), 404);
        assert_eq!(status(AdminError::Forbidden), 403);
    }

    #[test]
    fn a_framework_rejection_becomes_a_problem_keeping_allow() {
        let mut plain = (StatusCode::METHOD_NOT_ALLOWED, "").into_response();
        plain.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET,HEAD"));
        let answer = finish(plain);
        assert_eq!(answer.headers().get(header::CONTENT_TYPE).unwrap(), PROBLEM_JSON);
        assert_eq!(answer.headers().get(header::ALLOW).unwrap(), "GET,HEAD");
        let ok = finish((StatusCode::OK, "fine").into_response());
        assert!(ok.headers().get(header::CONTENT_TYPE).unwrap().to_str().unwrap().starts_with("text/plain"));
    }
}
